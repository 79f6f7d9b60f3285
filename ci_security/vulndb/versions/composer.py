"""Composer (Packagist): `VersionParser::normalize`, then PHP's `version_compare`, as Composer matches.

Normalising: blanks trimmed, an `as alias` and a `@stability` flag dropped, `+build` metadata dropped,
then a classic version `v?N[.N[.N[.N]]]` padded to four numbers (`1.2` is `1.2.0.0`), or a date version
(`2010-01-02`, read as `2010.01.02`). A stability modifier may follow: `stable`, `alpha`/`a`,
`beta`/`b`, `RC`, `patch`/`pl`/`p`, with an optional number (`1.0.0-beta.2` is `1.0.0.0-beta2`), and
then `-dev` (a lowercase `stable` is dropped; Composer keeps any other spelling as a word, which PHP ranks
below `dev`, and so does this); numeric branches such as `1.x-dev` become `1.9999999.9999999.9999999-dev`.

`version_compare` splits the normalised string into numbers and words; numbers compare numerically,
words by their rank `dev < alpha < beta < RC < (a number) < patch`, and a version with one more part is
greater if that part is a number or `patch`, smaller if it is `dev`, `alpha`, `beta` or `RC`. So `dev <
alpha < beta < RC < stable < patch` at equal numbers, and `1.0.0-beta1-dev < 1.0.0-beta1`.

Named branches (`dev-main`, `master`, `feature-dev`) raise `InvalidVersion`: Composer never orders them
against a version (its constraint check answers "no match" for any comparison with a branch), so there
is no order to reproduce, and putting them below everything would make every `<` bound match them.
Anything else Composer would refuse to normalise raises `InvalidVersion` too.
"""

from __future__ import annotations

import functools
import re
from typing import ClassVar

from ci_security.vulndb.versions.base import InvalidVersion

Piece = tuple[int] | tuple[int, int]
ComposerKey = tuple[Piece, ...]

# composer/semver's patterns, possessive quantifiers included (Python has them since 3.11).
_MODIFIER = r"[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?"
_CLASSIC = re.compile(r"v?(\d{1,5}+)(\.\d++)?(\.\d++)?(\.\d++)?" + _MODIFIER, re.IGNORECASE | re.ASCII)
_DATE = re.compile(
    r"v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3}){0,2})" + _MODIFIER, re.IGNORECASE | re.ASCII
)
_ALIAS = re.compile(r"([^,\s]++) ++as ++[^,\s]++")
_STABILITY_FLAG = re.compile(r"@(?:stable|RC|beta|alpha|dev)$", re.IGNORECASE)
_BUILD = re.compile(r"([^,\s+]++)\+\S++")
_DEV_SUFFIX = re.compile(r"(.*?)[.-]?dev", re.IGNORECASE | re.DOTALL)
_NUMERIC_BRANCH = re.compile(
    r"v?(\d++)(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?", re.IGNORECASE | re.ASCII
)
_STABILITIES = {"a": "alpha", "b": "beta", "p": "patch", "pl": "patch", "rc": "RC"}

# PHP's special forms, matched as prefixes in this order; a number ranks as "#".
_FORMS = (("dev", 0), ("alpha", 1), ("a", 1), ("beta", 2), ("b", 2), ("RC", 3), ("rc", 3), ("#", 4))
_FORMS_AFTER = (("pl", 5), ("p", 5))
_NUMBER_RANK = 4
_LONG_MAX = 2**63 - 1  # strtol saturates here
_PIECES = re.compile(r"[0-9]+|[^0-9.]+")


def _normalize_branch(name: str) -> str | None:
    match = _NUMERIC_BRANCH.fullmatch(name.strip())
    if match is None:
        return None
    parts = [part.replace("*", "x").replace("X", "x") if part else ".x" for part in match.groups()]
    return "".join(parts).replace("x", "9999999") + "-dev"


def _normalize(version: str) -> str:
    text = version.strip()
    alias = _ALIAS.fullmatch(text)
    if alias:
        text = alias.group(1)
    flag = _STABILITY_FLAG.search(text)
    if flag:
        text = text[: flag.start()]
    if text in ("master", "trunk", "default") or text[:4].lower() == "dev-":
        raise InvalidVersion(f"{version!r} is a branch, which Composer does not order")
    build = _BUILD.fullmatch(text)
    if build:
        text = build.group(1)
    classic = _CLASSIC.fullmatch(text)
    match = classic or _DATE.fullmatch(text)
    if match is not None:
        if classic:
            numbers = match.group(1) + "".join(part or ".0" for part in match.group(2, 3, 4))
            stability, number, dev = match.group(5, 6, 7)
        else:
            numbers = re.sub(r"\D", ".", match.group(1))
            stability, number, dev = match.group(2, 3, 4)
        if stability:
            if stability == "stable":
                return numbers
            word = stability.lower()
            numbers += "-" + _STABILITIES.get(word, word) + (number or "").lstrip(".-")
        return numbers + "-dev" if dev else numbers
    dev_branch = _DEV_SUFFIX.fullmatch(text)
    if dev_branch:
        branch = _normalize_branch(dev_branch.group(1))
        if branch is not None:
            return branch
    raise InvalidVersion(f"{version!r} is not a Composer version")


def _rank(word: str) -> int:
    for form, rank in _FORMS + _FORMS_AFTER:
        if word.startswith(form):
            return rank
    return -1


@functools.lru_cache(maxsize=1 << 16)
def _key(version: str) -> ComposerKey:
    pieces: list[Piece] = []
    for piece in _PIECES.findall(_normalize(version).replace("-", ".")):
        if piece[0].isdigit():
            digits = piece.lstrip("0")
            pieces.append((_NUMBER_RANK, _LONG_MAX if len(digits) > 19 else min(int(piece), _LONG_MAX)))
        else:
            pieces.append((_rank(piece),))
    pieces.append((_NUMBER_RANK,))  # what a shorter version meets: PHP compares an extra part with "#"
    return tuple(pieces)


class ComposerScheme:
    """Packagist's ordering."""

    name: ClassVar[str] = "composer"

    def key(self, version: str) -> ComposerKey:
        return _key(version)
