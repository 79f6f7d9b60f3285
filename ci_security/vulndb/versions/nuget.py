"""NuGet: `NuGetVersion` and its default `VersionComparer`.

`major[.minor[.patch[.revision]]][-label(.label)*][+metadata]`: one to four numbers (a missing one is 0,
so `1.0 == 1.0.0.0`, leading zeros allowed), then SemVer 2.0-style pre-release labels, then build
metadata, which the comparison ignores. A version with labels sorts before the same numbers without;
labels compare left to right, a numeric label (one that parses as a 64-bit integer, as NuGet checks it)
below any other and numerically against another numeric one, the others with an ordinal case-insensitive
comparison (`1.0.0-Beta == 1.0.0-beta`); more labels win when one list is a prefix of the other.

NuGet itself rejects a `v` prefix and numbers beyond a 32-bit int, so this does too.
"""

from __future__ import annotations

import functools
import re
from typing import ClassVar

from ci_security.vulndb.versions.base import InvalidVersion

Label = tuple[int, int] | tuple[int, str]
NuGetKey = tuple[int, int, int, int, tuple[int | Label, ...]]

_VERSION = re.compile(
    r"(?P<numbers>[0-9]+(?:\.[0-9]+){0,3})"
    r"(?:-(?P<labels>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?",
    re.ASCII,
)
_NUMERIC_LABEL = re.compile(r"-?[0-9]+", re.ASCII)
_INT32 = range(2**31)
_INT64 = range(-(2**63), 2**63)
_RELEASE = (1,)  # above every pre-release, which starts with 0


def _bounded(digits: str, bound: range) -> int | None:
    """`digits` as an int if it lies in `bound`, else None (without converting absurdly long runs)."""
    if len(digits.lstrip("-0")) > 19:
        return None
    value = int(digits)
    return value if value in bound else None


def _label(text: str) -> Label:
    number = _bounded(text, _INT64) if _NUMERIC_LABEL.fullmatch(text) else None
    return (1, text.upper()) if number is None else (0, number)


@functools.lru_cache(maxsize=1 << 16)
def _key(version: str) -> NuGetKey:
    match = _VERSION.fullmatch(version.strip())
    if match is None:
        raise InvalidVersion(f"{version!r} is not a NuGet version")
    numbers = [_bounded(part, _INT32) for part in match["numbers"].split(".")]
    if None in numbers:
        raise InvalidVersion(f"{version!r}: version number beyond a 32-bit int")
    major, minor, patch, revision = (number or 0 for number in [*numbers, 0, 0, 0][:4])
    labels = match["labels"]
    if labels is None:
        return major, minor, patch, revision, _RELEASE
    return major, minor, patch, revision, (0, *(_label(part) for part in labels.split(".")))


class NuGetScheme:
    """NuGet's ordering."""

    name: ClassVar[str] = "nuget"

    def key(self, version: str) -> NuGetKey:
        return _key(version)
