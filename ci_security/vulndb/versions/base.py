"""The version-scheme contract.

A scheme turns a version string into a sort key: `key(a) < key(b)` exactly when the ecosystem's own
tool orders `a` before `b` (and equal keys mean equal versions, such as dpkg's `1.0` and `1.0-0`).
Keys of one scheme always compare with each other without raising; a string the scheme cannot read
raises `InvalidVersion`, and callers decide (a matcher skips that range rather than guess).
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol


class InvalidVersion(ValueError):  # noqa: N818 - the name packaging.version users know
    """A version string that the scheme cannot order."""


class VersionScheme(Protocol):
    """One ordering of version strings."""

    name: ClassVar[str]

    def key(self, version: str) -> Any:
        """A sort key for `version`; raises `InvalidVersion`."""
        ...


def compare(scheme: VersionScheme, a: str, b: str) -> int:
    """-1, 0 or 1 as `a` orders before, equal to, or after `b` in `scheme`."""
    ka, kb = scheme.key(a), scheme.key(b)
    return int(ka > kb) - int(ka < kb)
