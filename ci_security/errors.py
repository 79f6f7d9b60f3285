"""Error hierarchy: one root, one base per stage; and the exit codes.

`cli.py` maps these to exit codes: every `CiSecurityError` is a usage, configuration or input problem
(exit 2) and carries a one-line message naming what and where; anything else escaping a stage is an
internal error (exit 3). A run that ends returns its own code (`ci.run_scan`, `ci.run_step`): 0 the
policy passed, 1 it failed, 3 a partial scan with `--strict`.
"""

from __future__ import annotations

EXIT_PASS, EXIT_FAIL, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 3


class CiSecurityError(Exception):
    """Root of every error the tool reports as bad input or configuration."""


class UsageError(CiSecurityError):
    """A command-line option or environment variable has a value the tool cannot use."""


class ImageError(CiSecurityError):
    """The image cannot be found, fetched, verified or read."""


class InvalidReferenceError(ImageError):
    """An image reference is malformed."""


class RegistryError(ImageError):
    """A registry refused, failed, or answered something that is not an image."""


class LayerError(ImageError):
    """A layer blob is corrupt, truncated, or holds members that escape the image root."""


class CatalogError(CiSecurityError):
    """A package database or metadata file cannot be parsed.

    Catalogers raise it for one file; the runner records it as a warning and the scan goes on.
    """


class ReportError(CiSecurityError):
    """A report cannot be written where the user asked."""


class SandboxError(CiSecurityError):
    """The dynamic scan cannot run the image: the entrypoint is missing or cannot be started, or the
    image config names a user the image does not have.
    """


class IsolationError(SandboxError):
    """One isolation step of the sandbox cannot be set up (or was found missing when checked); the
    message names the step and why. The image's code has not run.
    """
