"""Bounds every package-database parser applies to what it reads (see `ci_security.limits`).

A package database comes from an image, so it is hostile input: a line may be a gigabyte long, a
field may continue for a million lines, a database may list a hundred million entries, a JSON
string may hold a lone surrogate. The catalogers read through these helpers so that each of those
is a `CatalogError` naming the record and the limit (the runner turns it into a partial-scan
warning for that file, the rest of the image is still catalogued), never a hang, an out-of-memory
kill or a traceback:

- `lines` yields physical lines of at most `line_bytes` each, reading no more than that at once;
- `Joined` collects a field's continuation lines in a list and joins them once (appending to a
  string in a loop copies it every time: quadratic in the number of lines), at most
  `continuation_lines` of them and `line_bytes` in all;
- `Continuations` counts a record's continuation lines against `continuation_lines`, and
  `Entries` the records of one database against `package_entries`;
- `check_size` refuses a file (or a blob inside one) read whole into memory past `metadata_bytes`;
- `Owned` bounds the installed-files list a database yields (count and total bytes), and skips a
  path longer than `path_bytes`, which no layer can hold; it is the list that blew up to gigabytes
  when 40,000 file names shared one long directory name;
- `load_json` decodes a JSON document with `structured.load_json`, with its failures as
  `CatalogError`, and `text` makes a decoded string safe to report (a lone surrogate escape such
  as backslash-u-d800 decodes to a string no UTF-8 output can hold).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from ci_security import limits
from ci_security.errors import CatalogError
from ci_security.structured import load_json as _load_json

_SURROGATE = re.compile("[\ud800-\udfff]")


class CatalogLimitError(CatalogError):
    """A record or database went past a limit; the message names where and which limit."""

    def __init__(self, where: str, limit: str, detail: str = "") -> None:
        super().__init__(str(limits.LimitExceededError(where, limit, detail)))
        self.limit = limit


def lines(stream: BinaryIO, errors: str = "replace") -> Iterator[tuple[int, str]]:
    """(line number, line with its newline) for each physical line of `stream`, decoded as UTF-8
    (`errors` says what becomes of undecodable bytes) with universal newlines. A line longer than
    `line_bytes` is refused after reading at most that much of it; the bound is in decoded
    characters, which are never more than the bytes they came from.
    """
    limit = limits.active().line_bytes
    text = io.TextIOWrapper(stream, encoding="utf-8", errors=errors, newline=None)
    number = 0
    try:
        while True:
            line = text.readline(limit + 1)
            if not line:
                return
            number += 1
            if len(line) > limit and not (len(line) == limit + 1 and line.endswith("\n")):
                raise CatalogLimitError(f"line {number}", "line_bytes")
            yield number, line
    finally:
        # A wrapper closes the stream it wraps when it is collected; the runner may hand the same
        # stream to another cataloger afterwards.
        text.detach()


class Joined:
    """One field's value and its continuation lines, joined once when read."""

    __slots__ = ("_parts", "_size", "_where")

    def __init__(self, first: str, where: str) -> None:
        self._parts = [first]
        self._size = len(first)
        self._where = where

    def add(self, part: str) -> None:
        self._size += len(part) + 1
        if self._size > limits.active().line_bytes:
            raise CatalogLimitError(self._where, "line_bytes", "a field with its continuation lines")
        self._parts.append(part)

    def value(self, separator: str = "\n") -> str:
        return separator.join(self._parts)


class Continuations:
    """Counts the continuation lines of one record against `continuation_lines`."""

    __slots__ = ("_count", "_limit")

    def __init__(self) -> None:
        self._count = 0
        self._limit = limits.active().continuation_lines

    def add(self, where: str) -> None:
        self._count += 1
        if self._count > self._limit:
            raise CatalogLimitError(where, "continuation_lines")


class Entries:
    """Counts the records of one package database against `package_entries`."""

    __slots__ = ("_count", "_limit", "_what")

    def __init__(self, what: str = "database") -> None:
        self._count = 0
        self._limit = limits.active().package_entries
        self._what = what

    def add(self, count: int = 1) -> None:
        self._count += count
        if self._count > self._limit:
            raise CatalogLimitError(self._what, "package_entries", f"more than {self._limit:,} entries")


class Owned:
    """The installed files one database lists, bounded in number (`package_entries`) and in total
    length (`metadata_bytes`). A path longer than `path_bytes` cannot be a file of any layer (the
    layer reader refuses it), so it is skipped before it is ever built.
    """

    __slots__ = ("_bytes", "_count", "_limits", "_what", "pairs")

    def __init__(self, what: str = "installed files") -> None:
        self._limits = limits.active()
        self._count = 0
        self._bytes = 0
        self._what = what
        self.pairs: list[tuple[str, str]] = []

    def fits(self, length: int) -> bool:
        """Whether a path of `length` characters can be a layer's file; counts it against the bounds
        (raising when they are exceeded) when it can.
        """
        if length > self._limits.path_bytes:
            return False
        self._count += 1
        self._bytes += length
        if self._count > self._limits.package_entries:
            raise CatalogLimitError(self._what, "package_entries", f"more than {self._count - 1:,} files")
        if self._bytes > self._limits.metadata_bytes:
            raise CatalogLimitError(self._what, "metadata_bytes", "file names listed in all")
        return True

    def add(self, path: str, owner: str) -> None:
        if self.fits(len(path)):
            self.pairs.append((path, owner))


def check_size(size: int, where: str = "file") -> None:
    """Refuse a metadata file that would be read into memory whole when it is over `metadata_bytes`."""
    if size > limits.active().metadata_bytes:
        raise CatalogLimitError(where, "metadata_bytes", f"{size:,} bytes")


def load_json(data: bytes, where: str = "document") -> Any:
    """A JSON document from an image, bounded (size by `metadata_bytes`, nesting by `nesting_depth`);
    every failure is a `CatalogError`. Strings in the result may hold lone surrogates: pass what is
    reported through `text`.
    """
    try:
        return _load_json(data, where, size_limit="metadata_bytes", error=CatalogError)
    except limits.LimitExceededError as exc:
        raise CatalogError(str(exc)) from None


def text(value: str) -> str:
    """`value` with lone surrogates (from JSON escapes of U+D800 to U+DFFF that are not a pair)
    replaced by U+FFFD, so it can be written as UTF-8 anywhere.
    """
    if value.isascii() or _SURROGATE.search(value) is None:
        return value
    return _SURROGATE.sub("\ufffd", value)
