"""Error hierarchy: one root, one base per stage.

`cli.py` maps these to exit codes: every `CiSecurityError` is a usage, configuration or input problem
(exit 2) and carries a one-line message naming what and where; anything else escaping a stage is an
internal error (exit 3).
"""

from __future__ import annotations


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
