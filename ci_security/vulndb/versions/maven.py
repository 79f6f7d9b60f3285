"""Maven: `ComparableVersion`, the order Maven resolves version ranges with.

Parsing (after lowercasing): `.` and `-` separate items, and so does a switch between digits and other
characters; an empty item (`1..2`, `1-`) is a 0. A `-`, and a switch between digits and letters, opens a
sub-list that holds everything to the right of it, so `1.0-beta-2` is `[1, 0, [beta, [2]]]`. A letter item
directly followed by digits is a qualifier; `a`, `b` and `m` in that position mean `alpha`, `beta` and
`milestone`. Known qualifiers order `alpha < beta < milestone < rc (= cr) < snapshot < "" (= ga = final
= release) < sp`, and unknown ones come after `sp` in lexical order. Each list then drops its trailing
"null" items (0, the `""` qualifier, empty lists), skipping over a non-empty sub-list, so `1 == 1.0 ==
1.0.0 == 1-ga == 1.0-0`.

Comparing: item by item, a number beats a sub-list, which beats a qualifier (`1.1 > 1-1 > 1-sp`);
numbers compare as numbers, qualifiers by the order above, sub-lists recursively. When one list runs out,
its missing items are "null": less than a positive number or a post-release qualifier, more than a
pre-release one, and equal to 0 and `""`, after which the next item decides (`1.0.0.beta1 < 1`, `1-sp > 1`).

This is maven-artifact 3.8's algorithm (the one most published tables were made with), plus the
`release` alias that 3.9 added. Maven 3.9's other changes (a letter-digit "combination" item, `.X`
read as `-X`) are not modelled: they only reorder versions that spell a qualifier after a `.` against ones
that spell it after a `-` (`1.0.0.RC1` against `1.0.0-RC2`).

Maven's comparator is not a total order: null padding equals three things that are unequal to each other
(0, `""`, an empty list), so there are cycles such as `3.0.beta < 3 < 3-1 < 3.0.beta`. A key has to
break them, and it breaks them on the side of the padding rule: an item is first placed by how it
compares with null (below, level with it, above), and only then by Maven's item order. The visible
differences are confined to such cycles (in that example `3.0.beta < 3-1`) and to one more quirk Maven
has: it compares a sub-list with null by its first item alone, so Maven finds `1-0.1 == 1`; here the
sub-list's first non-null item decides, so `1-0.1 > 1`.

The key is a tuple of `(band, value)` elements ending with a terminator that stands for the null padding.
Bands, low to high: pre-release qualifier, sub-list below null, a null item (0 or `""`) that the next
non-null item pulls below null, the terminator, a `""` pulled above null, post-release qualifier, sub-list
above null, number (including a 0 that the next item pulls above null).
"""

from __future__ import annotations

import functools
from typing import ClassVar, TypeAlias

from ci_security.vulndb.versions.base import InvalidVersion

Element: TypeAlias = tuple[int] | tuple[int, int] | tuple[int, str] | tuple[int, "MavenKey"]
MavenKey: TypeAlias = tuple[Element, ...]
_Item: TypeAlias = int | str | list["_Item"]

_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}
_RELEASE = str(_QUALIFIERS.index(""))

# Element bands, see the module docstring.
_PRE_QUALIFIER = 1
_PRE_LIST = 2
_NULL_BELOW = 3
_TERMINATOR = 4
_EMPTY_ABOVE = 5
_POST_QUALIFIER = 6
_POST_LIST = 7
_NUMBER = 9
_END: Element = (_TERMINATOR,)


def _qualifier(text: str, followed_by_digit: bool) -> str:
    """The comparable form of a qualifier: its index among the known ones, else `7-name`."""
    if followed_by_digit and text in _SHORT:
        text = _SHORT[text]
    text = _ALIASES.get(text, text)
    if text in _QUALIFIERS:
        return str(_QUALIFIERS.index(text))
    return f"{len(_QUALIFIERS)}-{text}"


def _number(digits: str) -> int:
    try:
        return int(digits)
    except ValueError:  # more digits than Python converts by default
        raise InvalidVersion(f"number too long: {digits[:20]}...") from None


def _item(is_digit: bool, text: str) -> _Item:
    return _number(text) if is_digit else _qualifier(text, False)


def _is_null(item: _Item) -> bool:
    if isinstance(item, list):
        return not item
    if isinstance(item, int):
        return item == 0
    return item == _RELEASE


def _normalize(items: list[_Item]) -> None:
    for index in range(len(items) - 1, -1, -1):
        if _is_null(items[index]):
            del items[index]
        elif not isinstance(items[index], list):
            break


def _parse(version: str) -> list[_Item]:
    text = version.lower()
    root: list[_Item] = []
    current = root
    lists = [root]
    is_digit = False
    start = 0

    def open_list() -> None:
        nonlocal current
        sub: list[_Item] = []
        current.append(sub)
        current = sub
        lists.append(sub)

    for index, char in enumerate(text):
        if char in ".-":
            current.append(0 if index == start else _item(is_digit, text[start:index]))
            start = index + 1
            if char == "-":
                open_list()
        elif char.isdecimal():
            if not is_digit and index > start:
                current.append(_qualifier(text[start:index], True))
                start = index
                open_list()
            is_digit = True
        else:
            if is_digit and index > start:
                current.append(_item(True, text[start:index]))
                start = index
                open_list()
            is_digit = False
    if len(text) > start:
        current.append(_item(is_digit, text[start:]))
    for items in reversed(lists):
        _normalize(items)
    return root


def _list_key(items: list[_Item]) -> tuple[MavenKey, int]:
    """The key of a list, and the sign of the list against null (its first non-null item decides)."""
    elements: list[Element] = []
    after = 0  # how the first non-null item to the right compares with null
    for item in reversed(items):
        element: Element
        if isinstance(item, list):
            sub, sign = _list_key(item)
            element = (_POST_LIST if sign > 0 else _PRE_LIST if sign < 0 else _TERMINATOR, sub)
        elif isinstance(item, int):
            sign = 1 if item else 0
            element = (_NUMBER, item) if item or after >= 0 else (_NULL_BELOW, 1)
        else:
            sign = (item > _RELEASE) - (item < _RELEASE)
            if sign:
                element = (_POST_QUALIFIER if sign > 0 else _PRE_QUALIFIER, item)
            else:
                element = (_EMPTY_ABOVE,) if after >= 0 else (_NULL_BELOW, 0)
        elements.append(element)
        after = sign or after
    elements.reverse()
    elements.append(_END)
    return tuple(elements), after


@functools.lru_cache(maxsize=1 << 16)
def _key(version: str) -> MavenKey:
    text = version.strip()
    if not text or any(char.isspace() for char in text):
        raise InvalidVersion(f"{version!r}: empty or has blanks")
    return _list_key(_parse(text))[0]


class MavenScheme:
    """Maven Central's ordering (`org.apache.maven.artifact.versioning.ComparableVersion`)."""

    name: ClassVar[str] = "maven"

    def key(self, version: str) -> MavenKey:
        return _key(version)
