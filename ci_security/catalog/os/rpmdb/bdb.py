"""BerkeleyDB hash databases: rpm's `/var/lib/rpm/Packages` (RHEL/CentOS <= 8, Amazon Linux 2).

rpm keeps one header blob per package in a BerkeleyDB *hash* database, keyed by the 4-byte header
number; key 0 holds rpm's next-number counter, not a package. This reader walks the file page by
page, which needs no hash function and no libdb, and yields each value in page order.

The layout (BerkeleyDB's dbinc/db_page.h), with every integer in the byte order of the machine that
wrote the file; the hash magic tells which:

    page 0      metadata: page number at 8, magic 0x061561 at 12, version at 16, page size at 20,
                encryption algorithm at 24, page type (8, hash metadata) at 25, flags at 26,
                last page number at 32
    page n      26-byte header: page number at 8, next page at 16, entry count at 20, free-area
                offset at 22 (on overflow pages: the bytes used), page type at 25; then `entries`
                2-byte offsets of items inside the page
    hash pages  type 13 (2 on pre-4.6 unsorted files): items come in key/data pairs; item i runs from
                its offset to item i-1's offset (or the page end); its first byte is its kind:
                1 inline bytes, 3 a 12-byte reference (kind, 3 pad, first page, total length) to a
                chain of overflow pages (type 7) whose payload follows their 26-byte header

Encrypted and checksummed files (which rpm never writes) put extra bytes in every page header and
are refused. Every page number is checked against the metadata's page count and every overflow chain
is bounded by it and by a visited set, so a corrupt file raises `CatalogError` instead of looping.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final

from ci_security.catalog.bounded import check_size
from ci_security.errors import CatalogError

HASH_MAGIC: Final = 0x061561
BTREE_MAGIC: Final = 0x053162
_PAGE_HEADER: Final = 26
_HOFFPAGE_SIZE: Final = 12
_VALID_PAGE_SIZES: Final = frozenset(1 << n for n in range(9, 17))

_P_HASH_UNSORTED: Final = 2
_P_OVERFLOW: Final = 7
_P_HASHMETA: Final = 8
_P_HASH: Final = 13
_H_KEYDATA: Final = 1
_H_OFFPAGE: Final = 3
_DBMETA_CHKSUM: Final = 0x01


def byte_order(head: bytes) -> str | None:
    """`<` or `>` if `head` (at least 16 bytes) starts a BerkeleyDB hash file, else None."""
    if len(head) < 16:
        return None
    for order in ("<", ">"):
        if struct.unpack_from(order + "I", head, 12)[0] == HASH_MAGIC:
            return order
    return None


class _Reader:
    def __init__(self, f: BinaryIO, size: int):
        self._f = f
        meta = f.read(72)
        if len(meta) < 72:
            raise CatalogError("BerkeleyDB file truncated: metadata page is cut short")
        order = byte_order(meta)
        if order is None:
            if BTREE_MAGIC in (struct.unpack_from("<I", meta, 12)[0], struct.unpack_from(">I", meta, 12)[0]):
                raise CatalogError("BerkeleyDB btree database, not rpm's hash Packages database")
            raise CatalogError("not a BerkeleyDB hash database (bad magic)")
        self._order = order
        pagesize = struct.unpack_from(order + "I", meta, 20)[0]
        encrypt_alg, page_type, metaflags = meta[24], meta[25], meta[26]
        last_pgno = struct.unpack_from(order + "I", meta, 32)[0]
        if pagesize not in _VALID_PAGE_SIZES:
            raise CatalogError(f"BerkeleyDB metadata has invalid page size {pagesize}")
        if page_type != _P_HASHMETA:
            raise CatalogError(f"BerkeleyDB metadata page has type {page_type}, not hash metadata")
        if encrypt_alg or metaflags & _DBMETA_CHKSUM:
            raise CatalogError("encrypted or checksummed BerkeleyDB databases are not supported")
        if (last_pgno + 1) * pagesize > size:
            raise CatalogError(
                f"BerkeleyDB file truncated: metadata says {last_pgno + 1} pages of {pagesize} bytes, "
                f"file has {size} bytes"
            )
        self.pagesize: int = pagesize
        self.npages: int = last_pgno + 1

    def page(self, pgno: int) -> bytes:
        self._f.seek(pgno * self.pagesize)
        data = self._f.read(self.pagesize)
        if len(data) != self.pagesize:
            raise CatalogError(f"BerkeleyDB file truncated at page {pgno}")
        return data

    def u16(self, buf: bytes, offset: int) -> int:
        value: int = struct.unpack_from(self._order + "H", buf, offset)[0]
        return value

    def u32(self, buf: bytes, offset: int) -> int:
        value: int = struct.unpack_from(self._order + "I", buf, offset)[0]
        return value

    def items(self, pgno: int, page: bytes) -> list[bytes]:
        """Split a hash page into its items, each including its leading kind byte."""
        entries = self.u16(page, 20)
        index_end = _PAGE_HEADER + 2 * entries
        if entries % 2 or index_end > self.pagesize:
            raise CatalogError(f"BerkeleyDB hash page {pgno} has a bad entry count {entries}")
        items = []
        end = self.pagesize
        for i in range(entries):
            offset = self.u16(page, _PAGE_HEADER + 2 * i)
            if not index_end <= offset < end:
                raise CatalogError(f"BerkeleyDB hash page {pgno} item {i} has a bad offset {offset}")
            items.append(page[offset:end])
            end = offset
        return items

    def overflow(self, first: int, total: int) -> bytes:
        """Read the `total` bytes stored in the overflow chain that starts at page `first`."""
        if total > (self.pagesize - _PAGE_HEADER) * self.npages:
            raise CatalogError(f"BerkeleyDB overflow item of {total} bytes is larger than the file")
        check_size(total, f"BerkeleyDB overflow item at page {first}")
        parts = []
        have = 0
        seen: set[int] = set()
        pgno = first
        while have < total:
            if pgno == 0 or pgno >= self.npages or pgno in seen:
                raise CatalogError(f"BerkeleyDB overflow chain from page {first} is broken at page {pgno}")
            seen.add(pgno)
            page = self.page(pgno)
            if page[25] != _P_OVERFLOW:
                raise CatalogError(f"BerkeleyDB page {pgno} in an overflow chain has type {page[25]}")
            used = self.u16(page, 22)
            if used > self.pagesize - _PAGE_HEADER:
                raise CatalogError(f"BerkeleyDB overflow page {pgno} claims {used} bytes")
            parts.append(page[_PAGE_HEADER : _PAGE_HEADER + used])
            have += used
            pgno = self.u32(page, 16)
        if have != total:
            raise CatalogError(f"BerkeleyDB overflow chain from page {first} holds {have} of {total} bytes")
        return b"".join(parts)

    def value(self, pgno: int, item: bytes) -> bytes | None:
        kind = item[0]
        if kind == _H_KEYDATA:
            return item[1:]
        if kind == _H_OFFPAGE:
            if len(item) < _HOFFPAGE_SIZE:
                raise CatalogError(f"BerkeleyDB hash page {pgno} has a short overflow reference")
            return self.overflow(self.u32(item, 4), self.u32(item, 8))
        return None  # duplicates (kinds 2 and 4): rpm's Packages database has none


def iter_blobs(path: Path) -> Iterator[bytes]:
    """Yield the values stored under non-zero 4-byte keys (rpm's header blobs), in page order."""
    with open(path, "rb") as f:
        reader = _Reader(f, os.fstat(f.fileno()).st_size)
        for pgno in range(1, reader.npages):
            page = reader.page(pgno)
            if page[25] not in (_P_HASH, _P_HASH_UNSORTED):
                continue
            items = reader.items(pgno, page)
            for key, data in zip(items[::2], items[1::2], strict=True):
                # rpm's keys are 4-byte header numbers, stored inline; number 0 is its counter.
                if key[0] != _H_KEYDATA or len(key) != 5 or key[1:] == b"\0\0\0\0":
                    continue
                value = reader.value(pgno, data)
                if value is not None:
                    yield value
