"""ci-security: a CI security plugin that scans the container image a pipeline just built.

The package reads images without extracting them (`image`), lists the packages inside (`catalog`),
and reports what it found (`report`); `scan.check` wires those stages together under the policy,
`ci` turns a run into lines and an exit code, and `cli` is the only module that prints or exits.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
