"""dpkg: Debian and Ubuntu versions, `[epoch:]upstream[-revision]`.

The epoch is the digits before the first `:` (0 when absent); the revision is everything after the last
`-` (absent means `0`, so `1.0 == 1.0-0`). Upstream and revision are compared with dpkg's `verrevcmp`:
the string alternates between a non-digit run and a digit run; non-digit runs are compared character by
character with `~` before everything (even the end of the run, which is how `1.0~rc1 < 1.0` works),
then the end of the run, then letters, then every other character; digit runs are compared as numbers,
an empty run counting as 0 (so `a == a0` and `1.0 == 1.00`).

The key reproduces that comparison as a tuple so Python compares it in C: each non-digit run becomes a
string whose code points follow dpkg's character order and end with a terminator that sorts where "end
of run" sorts; each digit run becomes an int; and the whole fragment ends with a terminator in the place
of the non-digit run that a longer fragment would have next (so `1.0.` sorts after `1.0`, and `1.0~`
before it). An empty non-digit run at the very end is dropped, since the terminator already stands for it.

Rejected like dpkg rejects them: empty strings, embedded blanks, a non-numeric or oversized epoch,
nothing after the colon, an empty upstream or revision. dpkg only warns about a version that does not
start with a digit or holds characters outside `[A-Za-z0-9.+~:-]`, and still orders it, so this does too;
but bytes outside printable ASCII are refused, because dpkg orders them by the sign of a C `char`,
which differs between architectures.
"""

from __future__ import annotations

import functools
import re
from typing import ClassVar

from ci_security.vulndb.versions.base import InvalidVersion

Fragment = tuple[str | int, ...]
DpkgKey = tuple[int, Fragment, Fragment]

_EPOCH_MAX = 2**31 - 1  # dpkg stores the epoch in an int and refuses larger ones
_DIGIT_RUNS = re.compile(r"([0-9]+)")
_PRINTABLE = re.compile(r"[!-~]+")
_END = "\x02"  # order 0 in dpkg terms: the end of a non-digit run


def _order_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x21, 0x7F):
        char = chr(code)
        if char.isdigit():
            continue
        if char == "~":
            table[code] = "\x01"
        elif char.isalpha():
            table[code] = chr(code + 2)
        else:
            table[code] = chr(code + 256 + 2)
    return table


_ORDER = _order_table()


def _number(digits: str) -> int:
    try:
        return int(digits)
    except ValueError:  # more digits than Python converts by default
        raise InvalidVersion(f"digit run too long: {digits[:20]}...") from None


def _fragment(text: str) -> Fragment:
    parts = _DIGIT_RUNS.split(text)
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    key: list[str | int] = []
    for index, part in enumerate(parts):
        key.append(part.translate(_ORDER) + _END if index % 2 == 0 else _number(part))
    if len(parts) % 2:
        key.append(0)
    key.append(_END)
    return tuple(key)


@functools.lru_cache(maxsize=1 << 16)
def _key(version: str) -> DpkgKey:
    text = version.strip(" \t")
    if not text:
        raise InvalidVersion("empty version")
    if not _PRINTABLE.fullmatch(text):
        raise InvalidVersion(f"{version!r}: blanks or characters outside printable ASCII")
    epoch = 0
    head, colon, rest = text.partition(":")
    if colon:
        if not head.isdigit():
            raise InvalidVersion(f"{version!r}: epoch is not a number")
        epoch = int(head)
        if epoch > _EPOCH_MAX:
            raise InvalidVersion(f"{version!r}: epoch too big")
        if not rest:
            raise InvalidVersion(f"{version!r}: nothing after the colon")
        text = rest
    upstream, hyphen, revision = text.rpartition("-")
    if not hyphen:
        upstream, revision = text, ""
    elif not revision:
        raise InvalidVersion(f"{version!r}: empty revision")
    if not upstream:
        raise InvalidVersion(f"{version!r}: empty upstream version")
    return epoch, _fragment(upstream), _fragment(revision)


class DpkgScheme:
    """Debian's ordering, as `dpkg --compare-versions` and libapt implement it."""

    name: ClassVar[str] = "dpkg"

    def key(self, version: str) -> DpkgKey:
        return _key(version)
