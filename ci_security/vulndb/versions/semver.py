"""SemVer 2.0 precedence, for npm, crates.io, Go, Pub and Hex.

`MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`: the three numbers compare numerically; a version with a
pre-release sorts before the same version without one; pre-release identifiers (dot-separated) compare
left to right, numeric ones as numbers and below alphanumeric ones, alphanumeric ones in ASCII order, and
a longer list wins when one is a prefix of the other. Build metadata is ignored, so Go's `+incompatible`
is too. That gives semver.org's example chain `1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta <
1.0.0-beta < 1.0.0-beta.2 < 1.0.0-beta.11 < 1.0.0-rc.1 < 1.0.0`, and `0.0.0-0` as the least version.

Go pseudo-versions (`v0.0.0-20191109021931-daa7c04131f5`, `v1.2.4-0.20191109021931-daa7c04131f5`,
`v1.2.3-pre.0.20191109021931-daa7c04131f5`) are ordinary pre-releases and need nothing special: their
timestamps compare as numbers, which is what the Go toolchain's semver comparison does too.

Tolerances, chosen because advisory data is written by many hands and skipping a range is worse than
reading it generously: a leading `v` or `=` (Go writes `v1.2.3`, npm accepts `=1.2.3`), surrounding
blanks, and a missing minor or patch (`1.2` reads as `1.2.0` and `v1` as `v1.0.0`, as Go's
`golang.org/x/mod/semver` reads its shorthands; here a pre-release may follow them too). Leading zeros,
which the specification forbids, are read as numbers (`01.2.3 == 1.2.3`, and the numeric identifier `01`
equals `1`). Anything else that does not fit the grammar raises `InvalidVersion`.
"""

from __future__ import annotations

import functools
import re
from typing import ClassVar

from ci_security.vulndb.versions.base import InvalidVersion

Identifier = tuple[int, int] | tuple[int, str]
SemverKey = tuple[int, int, int, tuple[int | Identifier, ...]]

_SEMVER = re.compile(
    r"[v=]*"
    r"(?P<major>[0-9]+)(?:\.(?P<minor>[0-9]+)(?:\.(?P<patch>[0-9]+))?)?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?",
    re.ASCII,
)
_RELEASE = (1,)  # above every pre-release, which starts with 0


def _number(digits: str) -> int:
    try:
        return int(digits)
    except ValueError:  # more digits than Python converts by default
        raise InvalidVersion(f"number too long: {digits[:20]}...") from None


def _identifier(text: str) -> Identifier:
    return (0, _number(text)) if text.isdigit() else (1, text)


@functools.lru_cache(maxsize=1 << 16)
def _key(version: str) -> SemverKey:
    match = _SEMVER.fullmatch(version.strip())
    if match is None:
        raise InvalidVersion(f"{version!r} is not a semantic version")
    major = _number(match["major"])
    minor = _number(match["minor"] or "0")
    patch = _number(match["patch"] or "0")
    pre = match["pre"]
    if pre is None:
        return major, minor, patch, _RELEASE
    return major, minor, patch, (0, *(_identifier(part) for part in pre.split(".")))


class SemverScheme:
    """Semantic Versioning 2.0 precedence, read leniently."""

    name: ClassVar[str] = "semver"

    def key(self, version: str) -> SemverKey:
        return _key(version)
