"""rpm: `[epoch:]version[-release]`, compared field by field with `rpmvercmp`.

The epoch is a leading run of digits ended by `:` (absent means 0); the release is everything after
the last `-`. `rpmvercmp` skips every character that is not an ASCII letter or digit, `~` or `^`, and
walks the rest as segments: a digit run is a number (leading zeros ignored), a letter run is compared
byte-wise, and a number beats letters at the same place. `~` sorts before anything, the end of the string
included (`1.0~rc1 < 1.0`); `^` sorts after the end of the string but before any segment
(`1.0 < 1.0^git1 < 1.0.1`). Separators themselves carry no weight, so `1.0`, `1_0` and `1..0` are equal.

The key turns each string into a tuple of ranked tokens, `~` < end < `^` < letters < number, and ends it
with the "end" token; that ordering is exactly the case analysis `rpmvercmp` does, so comparing the
tuples in C gives its answer.

A missing release sorts before every present one, even an empty or all-`~` one (`1.0 < 1.0-~1`): that
is what librpm's EVR comparison (`rpmverCmp`, and `labelCompare` in its Python bindings) does with an
absent field. Its key is the empty tuple, which is less than any release's token tuple. Empty strings,
blanks and an empty version part are rejected.
"""

from __future__ import annotations

import functools
import re
from typing import ClassVar

from ci_security.vulndb.versions.base import InvalidVersion

Token = tuple[int] | tuple[int, str] | tuple[int, int]
Segments = tuple[Token, ...]
RpmKey = tuple[int, Segments, Segments]

_TOKENS = re.compile(r"[0-9]+|[A-Za-z]+|[~^]")
_EPOCH = re.compile(r"([0-9]*):")
_BLANK = re.compile(r"\s")
_TILDE: Token = (0,)
_END: Token = (1,)
_CARET: Token = (2,)
_ALPHA = 3
_NUMBER = 4


def _number(digits: str) -> int:
    try:
        return int(digits)
    except ValueError:  # more digits than Python converts by default
        raise InvalidVersion(f"digit run too long: {digits[:20]}...") from None


def _segments(text: str) -> Segments:
    tokens: list[Token] = []
    for part in _TOKENS.findall(text):
        if part == "~":
            tokens.append(_TILDE)
        elif part == "^":
            tokens.append(_CARET)
        elif part[0].isdigit():
            tokens.append((_NUMBER, _number(part)))
        else:
            tokens.append((_ALPHA, part))
    tokens.append(_END)
    return tuple(tokens)


@functools.lru_cache(maxsize=1 << 16)
def _key(evr: str) -> RpmKey:
    text = evr.strip()
    if not text or _BLANK.search(text):
        raise InvalidVersion(f"{evr!r}: empty or has blanks")
    epoch = 0
    match = _EPOCH.match(text)
    if match:
        epoch = _number(match.group(1) or "0")
        text = text[match.end() :]
    version, hyphen, release = text.rpartition("-")
    if not hyphen:
        version = text
    if not version:
        raise InvalidVersion(f"{evr!r}: empty version")
    return epoch, _segments(version), _segments(release) if hyphen else ()


class RpmScheme:
    """Red Hat, SUSE and the other rpm distributions: librpm's EVR comparison."""

    name: ClassVar[str] = "rpm"

    def key(self, version: str) -> RpmKey:
        return _key(version)
