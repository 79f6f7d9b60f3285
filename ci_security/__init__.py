"""ci-security: a CI security plugin that scans the container image a pipeline just built.

The package reads images without extracting them (`image`), lists the packages inside (`catalog`),
and reports what it found (`report`); `scan.run` wires those stages together and `cli` is the only
module that prints or chooses an exit code.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
