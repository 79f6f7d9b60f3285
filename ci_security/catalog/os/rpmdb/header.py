"""rpm header blobs, as the rpm databases store them.

Every rpm database (BerkeleyDB, NDB, SQLite) stores one header per installed package in rpm's
"immutable region" form, which is the on-disk header without its 8-byte magic:

    int32 il            number of index entries (big-endian, like everything below)
    int32 dl            length of the data store
    il x 16 bytes       index entries: int32 tag, int32 type, int32 offset, int32 count
    dl bytes            data store; `offset` is relative to its start

A value's size follows from its type: INT16/INT32/INT64 are `count` big-endian integers aligned to
their width, BIN is `count` raw bytes, STRING is one NUL-terminated string, and STRING_ARRAY and
I18NSTRING are `count` NUL-terminated strings back to back (I18NSTRING's first is the untranslated C
locale text). The first entry is usually the region tag (63) pointing at a trailer; it is not needed
to read values. Entries appended after the region ("dribbles") replace region entries with the same
tag when rpm loads a header, so the last entry for a tag wins here too.

The blob is untrusted input: every count, offset and string end is checked against the data store,
with rpm's own limits (at most 0xffff entries and 256 MiB of data), and a malformed blob raises
`CatalogError` with a short reason instead of reading past the end or guessing. The installed-files
list is the one place a small blob can ask for a lot of memory: 40,000 base names that all share one
long directory name would make 40,000 long strings. The file arrays hold at most `package_entries`
items, and a path is only built when `catalog.bounded.Owned` accepts its length (no layer holds a
path over `path_bytes`, and all paths of a database together stay within `metadata_bytes`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from ci_security import limits
from ci_security.catalog.bounded import CatalogLimitError, Owned
from ci_security.errors import CatalogError

TAG_SIGMD5: Final = 261
TAG_NAME: Final = 1000
TAG_VERSION: Final = 1001
TAG_RELEASE: Final = 1002
TAG_EPOCH: Final = 1003
TAG_SIZE: Final = 1009
TAG_VENDOR: Final = 1011
TAG_LICENSE: Final = 1014
TAG_ARCH: Final = 1022
TAG_SOURCERPM: Final = 1044
TAG_MODULARITYLABEL: Final = 5096
TAG_LONGSIZE: Final = 5009
TAG_DIRINDEXES: Final = 1116
TAG_BASENAMES: Final = 1117
TAG_DIRNAMES: Final = 1118

TYPE_NULL: Final = 0
TYPE_CHAR: Final = 1
TYPE_INT8: Final = 2
TYPE_INT16: Final = 3
TYPE_INT32: Final = 4
TYPE_INT64: Final = 5
TYPE_STRING: Final = 6
TYPE_BIN: Final = 7
TYPE_STRING_ARRAY: Final = 8
TYPE_I18NSTRING: Final = 9

_MAX_ENTRIES: Final = 0xFFFF
_MAX_DATA: Final = 0x0FFFFFFF
_PREAMBLE: Final = 8
_ENTRY: Final = 16

_STRING_TYPES: Final = frozenset({TYPE_STRING, TYPE_STRING_ARRAY, TYPE_I18NSTRING})
_ALIGN: Final = {TYPE_INT16: 2, TYPE_INT32: 4, TYPE_INT64: 8}
_INT_FORMAT: Final = {TYPE_INT32: ">I", TYPE_INT64: ">Q"}
_TAG_NAMES: Final = {
    TAG_SIGMD5: "SIGMD5",
    TAG_NAME: "NAME",
    TAG_VERSION: "VERSION",
    TAG_RELEASE: "RELEASE",
    TAG_EPOCH: "EPOCH",
    TAG_SIZE: "SIZE",
    TAG_VENDOR: "VENDOR",
    TAG_LICENSE: "LICENSE",
    TAG_ARCH: "ARCH",
    TAG_SOURCERPM: "SOURCERPM",
    TAG_MODULARITYLABEL: "MODULARITYLABEL",
    TAG_LONGSIZE: "LONGSIZE",
    TAG_DIRINDEXES: "DIRINDEXES",
    TAG_BASENAMES: "BASENAMES",
    TAG_DIRNAMES: "DIRNAMES",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RpmHeader:
    """The tags of one installed package that the catalogers use; absent tags are None.

    `size` is the installed size in bytes (LONGSIZE when present, else SIZE); `sigmd5` is the
    header+payload MD5 as lowercase hex, all 16 bytes.
    """

    name: str
    version: str
    release: str
    epoch: int | None = None
    arch: str | None = None
    source_rpm: str | None = None
    license: str | None = None
    vendor: str | None = None
    size: int | None = None
    modularity_label: str | None = None
    sigmd5: str | None = None
    # Installed file paths (absolute), from BASENAMES/DIRNAMES/DIRINDEXES.
    files: tuple[str, ...] = ()


class _Entries:
    """The index entries of one validated blob, keyed by tag, with typed value readers."""

    def __init__(self, blob: bytes, data_start: int, dl: int, entries: dict[int, tuple[int, int, int]]):
        self._blob = blob
        self._start = data_start
        self._dl = dl
        self._entries = entries

    def string(self, tag: int) -> str | None:
        entry = self._entries.get(tag)
        if entry is None:
            return None
        typ, offset, count = entry
        if typ not in _STRING_TYPES:
            raise CatalogError(f"rpm header tag {_TAG_NAMES[tag]} has type {typ}, not a string")
        if count < 1:
            raise CatalogError(f"rpm header tag {_TAG_NAMES[tag]} has no value")
        begin = self._start + offset
        end = self._blob.find(b"\0", begin, self._start + self._dl)
        if end < 0:
            raise CatalogError(f"rpm header tag {_TAG_NAMES[tag]} runs past the end of the data")
        # Old packages carry Latin-1 vendors and licences; a replacement character beats failing.
        return self._blob[begin:end].decode("utf-8", errors="replace")

    def integer(self, tag: int) -> int | None:
        entry = self._entries.get(tag)
        if entry is None:
            return None
        typ, offset, count = entry
        fmt = _INT_FORMAT.get(typ)
        if fmt is None:
            raise CatalogError(f"rpm header tag {_TAG_NAMES[tag]} has type {typ}, not an integer")
        width = struct.calcsize(fmt)
        if count < 1 or offset + width > self._dl:
            raise CatalogError(f"rpm header tag {_TAG_NAMES[tag]} runs past the end of the data")
        value: int = struct.unpack_from(fmt, self._blob, self._start + offset)[0]
        return value

    def _bounded_count(self, tag: int, count: int) -> None:
        if count > limits.active().package_entries:
            where = f"rpm header tag {_TAG_NAMES[tag]}"
            raise CatalogLimitError(where, "package_entries", f"{count:,} items")

    def strings(self, tag: int) -> list[str]:
        """A STRING_ARRAY value (empty when the tag is absent)."""
        entry = self._entries.get(tag)
        if entry is None:
            return []
        typ, offset, count = entry
        if typ != TYPE_STRING_ARRAY:
            raise CatalogError(f"rpm header tag {_TAG_NAMES[tag]} has type {typ}, not a string array")
        end_of_data = self._start + self._dl
        if count > self._dl:
            raise CatalogError(f"rpm header tag {_TAG_NAMES[tag]} claims more strings than bytes")
        self._bounded_count(tag, count)
        out = []
        pos = self._start + offset
        for _ in range(count):
            end = self._blob.find(b"\0", pos, end_of_data)
            if end < 0:
                raise CatalogError(f"rpm header tag {_TAG_NAMES[tag]} runs past the end of the data")
            out.append(self._blob[pos:end].decode("utf-8", errors="surrogateescape"))
            pos = end + 1
        return out

    def integers(self, tag: int) -> list[int]:
        """An INT32 array value (empty when the tag is absent)."""
        entry = self._entries.get(tag)
        if entry is None:
            return []
        typ, offset, count = entry
        if typ != TYPE_INT32:
            raise CatalogError(f"rpm header tag {_TAG_NAMES[tag]} has type {typ}, not INT32")
        if offset + 4 * count > self._dl:
            raise CatalogError(f"rpm header tag {_TAG_NAMES[tag]} runs past the end of the data")
        self._bounded_count(tag, count)
        return list(struct.unpack_from(f">{count}I", self._blob, self._start + offset))

    def binary(self, tag: int) -> bytes | None:
        entry = self._entries.get(tag)
        if entry is None:
            return None
        typ, offset, count = entry
        if typ != TYPE_BIN:
            raise CatalogError(f"rpm header tag {_TAG_NAMES[tag]} has type {typ}, not binary")
        if offset + count > self._dl:
            raise CatalogError(f"rpm header tag {_TAG_NAMES[tag]} runs past the end of the data")
        begin = self._start + offset
        return self._blob[begin : begin + count]


def _index(blob: bytes) -> _Entries:
    if len(blob) < _PREAMBLE:
        raise CatalogError(f"rpm header blob is {len(blob)} bytes, too short for its preamble")
    il, dl = struct.unpack_from(">II", blob, 0)
    if not 1 <= il <= _MAX_ENTRIES:
        raise CatalogError(f"rpm header claims {il} index entries (allowed 1..{_MAX_ENTRIES})")
    if dl > _MAX_DATA:
        raise CatalogError(f"rpm header claims {dl} bytes of data (over rpm's 256 MiB limit)")
    data_start = _PREAMBLE + _ENTRY * il
    if len(blob) != data_start + dl:
        raise CatalogError(
            f"rpm header blob is {len(blob)} bytes but its preamble describes {data_start + dl}"
        )
    entries: dict[int, tuple[int, int, int]] = {}
    for tag, typ, offset, count in struct.iter_unpack(">IIII", memoryview(blob)[_PREAMBLE:data_start]):
        if typ > TYPE_I18NSTRING:
            raise CatalogError(f"rpm header entry for tag {tag} has unknown type {typ}")
        if offset > dl:
            raise CatalogError(f"rpm header entry for tag {tag} points outside the data ({offset} > {dl})")
        if offset % _ALIGN.get(typ, 1):
            raise CatalogError(f"rpm header entry for tag {tag} is misaligned for type {typ}")
        if tag in _TAG_NAMES:
            entries[tag] = (typ, offset, count)
    return _Entries(blob, data_start, dl, entries)


def parse_header(blob: bytes, owned: Owned | None = None) -> RpmHeader:
    """Decode one header blob; raises `CatalogError` if it is malformed or lacks NAME/VERSION/RELEASE.

    `owned` bounds the installed-files list across the headers of one database (a fresh bound per
    header when not given); a path too long to be a layer's file is left out.
    """
    entries = _index(blob)
    name = entries.string(TAG_NAME)
    version = entries.string(TAG_VERSION)
    release = entries.string(TAG_RELEASE)
    if not name:
        raise CatalogError("rpm header has no NAME")
    if version is None or release is None:
        raise CatalogError(f"rpm header for {name!r} has no VERSION or RELEASE")
    sigmd5 = entries.binary(TAG_SIGMD5)
    basenames = entries.strings(TAG_BASENAMES)
    dirnames = entries.strings(TAG_DIRNAMES)
    dirindexes = entries.integers(TAG_DIRINDEXES)
    if len(dirindexes) != len(basenames) or any(i >= len(dirnames) for i in dirindexes):
        raise CatalogError(f"rpm header for {name!r} has inconsistent file lists")
    size = entries.integer(TAG_LONGSIZE)
    if size is None:
        size = entries.integer(TAG_SIZE)
    return RpmHeader(
        name=name,
        version=version,
        release=release,
        epoch=entries.integer(TAG_EPOCH),
        arch=entries.string(TAG_ARCH) or None,
        source_rpm=entries.string(TAG_SOURCERPM) or None,
        license=entries.string(TAG_LICENSE) or None,
        vendor=entries.string(TAG_VENDOR) or None,
        size=size,
        modularity_label=entries.string(TAG_MODULARITYLABEL) or None,
        sigmd5=sigmd5.hex() if sigmd5 is not None else None,
        files=_files(dirnames, dirindexes, basenames, owned if owned is not None else Owned()),
    )


def _files(dirnames: list[str], dirindexes: list[int], basenames: list[str], owned: Owned) -> tuple[str, ...]:
    # The length is checked before the path is built: that is what keeps a long shared directory
    # name from being copied once per file.
    return tuple(
        dirnames[i] + base
        for i, base in zip(dirindexes, basenames, strict=True)
        if owned.fits(len(dirnames[i]) + len(base))
    )
