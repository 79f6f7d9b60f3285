"""RubyGems: `Gem::Version`.

A version is digits, then any number of `.` parts made of letters and digits, then optionally a `-`
and `.`-separated parts that may also hold `-` (blanks around it are allowed). Each `-` is read as
`.pre.`, so `1.0.0-rc1` is `1.0.0.pre.rc1`. The segments are the runs of digits (numbers) and of letters
(strings) in it, so `1.0a2` is `1, 0, "a", 2`. Any string segment makes the version a pre-release. For
comparison the segments are canonicalised: the numeric run before the first string, and the run from
there on, each lose their trailing zeros (`1.0 == 1`, `1.0.a == 1.a`). Then segment by segment, a missing
one counting as 0: a string sorts before a number (`1.0.0.pre < 1.0.0`), numbers compare as numbers and
strings byte-wise, case-sensitive as Ruby does.

The key encodes a string as `(0, s)` and a positive number as `(1, n)`, and ends with `(1, 0, 0)` for the
zeros a shorter version is padded with. A 0 inside the version is `(1, 0, t)` where `t` is how the rest
of the version compares with zeros (the first non-zero segment after it: -1 for a string, 1 for a
number), which is what Ruby's segment loop finds out by reading on.

An empty string raises `InvalidVersion`: current RubyGems reads it as `0`, but an empty version in
advisory data is a data error, not a claim about version 0.
"""

from __future__ import annotations

import functools
import re
from typing import ClassVar

from ci_security.vulndb.versions.base import InvalidVersion

Segment = tuple[int, str] | tuple[int, int] | tuple[int, int, int]
GemKey = tuple[Segment, ...]

_PATTERN = re.compile(r"[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?", re.ASCII)
_SEGMENTS = re.compile(r"[0-9]+|[a-zA-Z]+")
_PADDING: Segment = (1, 0, 0)


def _number(digits: str) -> int:
    try:
        return int(digits)
    except ValueError:  # more digits than Python converts by default
        raise InvalidVersion(f"number too long: {digits[:20]}...") from None


def _drop_trailing_zeros(segments: list[int | str]) -> list[int | str]:
    end = len(segments)
    while end and segments[end - 1] == 0:
        end -= 1
    return segments[:end]


@functools.lru_cache(maxsize=1 << 16)
def _key(version: str) -> GemKey:
    text = version.strip()
    if not _PATTERN.fullmatch(text):
        raise InvalidVersion(f"{version!r} is not a Gem::Version")
    segments: list[int | str] = [
        _number(part) if part[0].isdigit() else part for part in _SEGMENTS.findall(text.replace("-", ".pre."))
    ]
    first_string = next((i for i, part in enumerate(segments) if isinstance(part, str)), len(segments))
    canonical = _drop_trailing_zeros(segments[:first_string]) + _drop_trailing_zeros(segments[first_string:])
    key: list[Segment] = []
    after = 0  # how the first non-zero segment to the right compares with 0
    for part in reversed(canonical):
        if isinstance(part, str):
            key.append((0, part))
            after = -1
        elif part:
            key.append((1, part))
            after = 1
        else:
            key.append((1, 0, after))
    key.reverse()
    key.append(_PADDING)
    return tuple(key)


class RubyGemsScheme:
    """RubyGems' ordering."""

    name: ClassVar[str] = "rubygems"

    def key(self, version: str) -> GemKey:
        return _key(version)
