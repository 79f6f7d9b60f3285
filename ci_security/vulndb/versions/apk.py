"""apk: Alpine (and Wolfi, Chainguard) versions, `N{.N}[letter]{_suffix[N]}[~hash][-rN]`.

apk-tools reads a version as a stream of tokens: a leading number; `.N` components; one lowercase letter
after a number; `_alpha`, `_beta`, `_pre`, `_rc` (pre-releases, in that order) and `_cvs`, `_svn`, `_git`,
`_hg`, `_p` (post-releases), each optionally followed by a number; `~` and a lowercase hex commit hash;
`-rN`, the package revision. Two versions are walked together while their tokens are of the same kind,
and the first differing value decides: numbers numerically, except that a `.` component with a leading
zero compares as a string with the other (`1.02 < 1.1`, `1.010 < 1.02`); letters and hashes by their
characters; suffixes by the order above. Where the kinds differ, the kind decides: a pre-release suffix
sorts lowest, then the end of the version, `-r`, a hash, a suffix number, a post-release suffix, a letter,
and a `.` component highest. So `1.0_rc1 < 1.0 < 1.0-r1 < 1.0_p1 < 1.0a < 1.0.1`.

That is the tokenizer of current apk-tools (the rewrite of version.c that also brought the `~hash`
component). Malformed versions are still ordered, as apk-tools orders them, by what precedes the
malformed part followed by an "invalid" token. There, two of the rewrite's choices are replaced by those
of the older apk-tools 2 tokenizer, because the fixture this module is held to (apk-tools' test data as
collected by osv-scanner) pins them: the invalid token ranks above every other kind rather than below
(`1 < 1-ruff`), and `-r` without digits reads as revision 0 before the stream turns invalid (`1-ruff2 <
1--ruff1`, `1-r2 > 1-r-1`). The rest of a malformed version is ignored (`1-ruff2 == 1-ruff1`).

Numbers are unbounded (apk-tools uses 64-bit integers). A string that is empty, does not start with a
digit, or holds a non-ASCII character raises `InvalidVersion`: no apk package or secdb entry looks like
that, and apk-tools cannot read a first token out of it.

The key interleaves values and kind ranks, `(value0, rank1, value1, ..., rank_last)`, which is the
comparison apk-tools' loop performs: a value is only compared after equal ranks, so values of different
kinds never meet. A `.` component's value is `(0, digits)` when it has a leading zero and `(1, number)`
otherwise; since a leading-zero string starts with "0" it sorts below every number either way, which
makes the "string when either has a leading zero" rule a plain tuple comparison.
"""

from __future__ import annotations

import functools
from typing import ClassVar

from ci_security.vulndb.versions.base import InvalidVersion

Value = int | str | tuple[int, str] | tuple[int, int]
ApkKey = tuple[Value, ...]

# Token kinds, in apk-tools' order: a kind may only follow a lower one (see _next).
_INITIAL, _DIGIT, _LETTER, _SUFFIX, _SUFFIX_NO, _HASH, _REVISION, _END, _INVALID = range(9)

# Where two versions differ in kind, a higher kind sorts lower, except as the module docstring says.
_RANK = {
    _END: 1,
    _REVISION: 2,
    _HASH: 3,
    _SUFFIX_NO: 4,
    _SUFFIX: 5,
    _LETTER: 6,
    _DIGIT: 7,
    _INVALID: 8,
}
_PRE_SUFFIX_RANK = 0

_SUFFIXES = {"alpha": 1, "beta": 2, "pre": 3, "rc": 4, "cvs": 6, "svn": 7, "git": 8, "hg": 9, "p": 10}
_RELEASE_SUFFIX = 5  # no suffix: the pre-releases sort below it, the post-releases above
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdef")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")


def _run(text: str, start: int, alphabet: frozenset[str]) -> int:
    end = start
    while end < len(text) and text[end] in alphabet:
        end += 1
    return end


def _number(digits: str) -> int:
    try:
        return int(digits)
    except ValueError:  # more digits than Python converts by default
        raise InvalidVersion(f"digit run too long: {digits[:20]}...") from None


def _next(kind: int, text: str, pos: int) -> tuple[int, Value, int]:
    """The token after one of `kind` that ended at `pos`: its kind, its value, and where it ends."""
    if pos >= len(text):
        return _END, 0, pos
    char = text[pos]
    if char in _LOWER:
        if kind > _DIGIT:
            return _INVALID, 0, pos
        return _LETTER, ord(char), pos + 1
    if char == "." or char in _DIGITS:
        if char == ".":
            if kind > _DIGIT:
                return _INVALID, 0, pos
            pos += 1
        end = _run(text, pos, _DIGITS)
        digits = text[pos:end]
        if not digits or kind not in (_INITIAL, _DIGIT, _SUFFIX):
            return _INVALID, 0, pos
        if kind == _SUFFIX:
            return _SUFFIX_NO, _number(digits), end
        return _DIGIT, (0, digits) if digits[0] == "0" else (1, _number(digits)), end
    if char == "_":
        end = _run(text, pos + 1, _LOWER)
        suffix = _SUFFIXES.get(text[pos + 1 : end])
        if kind > _SUFFIX_NO or suffix is None:
            return _INVALID, 0, pos
        return _SUFFIX, suffix, end
    if char == "~":
        end = _run(text, pos + 1, _HEX)
        if kind >= _HASH or end == pos + 1:
            return _INVALID, 0, pos
        return _HASH, text[pos + 1 : end], end
    if char == "-" and text.startswith("-r", pos) and kind < _REVISION:
        end = _run(text, pos + 2, _DIGITS)
        return _REVISION, _number(text[pos + 2 : end]) if end > pos + 2 else 0, end
    return _INVALID, 0, pos


@functools.lru_cache(maxsize=1 << 16)
def _key(version: str) -> ApkKey:
    if not version or version[0] not in _DIGITS:
        raise InvalidVersion(f"{version!r}: does not start with a digit")
    if not version.isascii():
        raise InvalidVersion(f"{version!r}: non-ASCII character")
    pos = _run(version, 0, _DIGITS)
    key: list[Value] = [_number(version[:pos])]
    kind = _INITIAL
    while True:
        kind, value, pos = _next(kind, version, pos)
        if kind in (_END, _INVALID):
            key.append(_RANK[kind])
            return tuple(key)
        pre = kind == _SUFFIX and isinstance(value, int) and value < _RELEASE_SUFFIX
        key += [_PRE_SUFFIX_RANK if pre else _RANK[kind], value]


class ApkScheme:
    """Alpine's ordering, as apk-tools' `apk version -t` computes it."""

    name: ClassVar[str] = "apk"

    def key(self, version: str) -> ApkKey:
        return _key(version)
