"""rpm's own "NDB" package database: `Packages.db` (SUSE Linux Enterprise 15, openSUSE).

The layout (rpm's lib/backend/ndb/rpmpkg.c; every integer little-endian):

    0     32-byte header: "RpmP", version (0), generation, slot page count, next package index
    32    slots, 16 bytes each, filling `slotnpages` pages of 4096 bytes (the header takes the
          first two slot positions): "Slot", package index, block offset, block count
    ...   blobs, addressed in 16-byte blocks: a 16-byte head ("BlbS", package index, timestamp,
          length), the header blob, zero padding, and a 12-byte tail (adler32, length, "BlbE")

A slot with block offset 0 is free. rpm itself lists packages by ascending block offset (it sorts the
slots before iterating), so that is the storage order used here. The checks are the ones rpm makes
before trusting a slot or blob: slots must lie after the slot pages and inside the file, and a blob's
head must name the same package as its slot and agree with the slot's block count and the tail.
rpm does not verify the adler32 when it reads a package, so neither does this reader.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final

from ci_security.catalog.bounded import check_size
from ci_security.errors import CatalogError

MAGIC: Final = b"RpmP"
_SLOT_MAGIC: Final = b"Slot"
_HEAD_MAGIC: Final = b"BlbS"
_TAIL_MAGIC: Final = b"BlbE"
_HEADER_SIZE: Final = 32
_PAGE: Final = 4096
_SLOT: Final = 16
_BLK: Final = 16
_HEAD_SIZE: Final = 16
_TAIL_SIZE: Final = 12


def _read_at(f: BinaryIO, offset: int, length: int, what: str) -> bytes:
    f.seek(offset)
    data = f.read(length)
    if len(data) != length:
        raise CatalogError(f"NDB database truncated: {what} at offset {offset} is cut short")
    return data


def _slots(f: BinaryIO, size: int) -> list[tuple[int, int, int]]:
    """List the used slots as (block offset, package index, block count), in rpm's order."""
    header = _read_at(f, 0, _HEADER_SIZE, "header")
    if header[:4] != MAGIC:
        raise CatalogError("not an rpm NDB database (no RpmP magic)")
    version, _generation, slotnpages = struct.unpack_from("<III", header, 4)
    if version != 0:
        raise CatalogError(f"unsupported rpm NDB version {version}")
    if size % _BLK:
        raise CatalogError(f"NDB database truncated: {size} bytes is not a whole number of blocks")
    if slotnpages == 0 or slotnpages * _PAGE > size:
        raise CatalogError(f"NDB header claims {slotnpages} slot pages but the file is {size} bytes")
    fileblks = size // _BLK
    minblkoff = slotnpages * (_PAGE // _BLK)
    slots = []
    for page in range(slotnpages):
        buf = _read_at(f, page * _PAGE, _PAGE, f"slot page {page}")
        for pos in range(_HEADER_SIZE if page == 0 else 0, _PAGE, _SLOT):
            magic, pkgidx, blkoff, blkcnt = struct.unpack_from("<4sIII", buf, pos)
            if magic != _SLOT_MAGIC:
                raise CatalogError(f"NDB slot at offset {page * _PAGE + pos} has no Slot magic")
            if blkoff == 0:
                continue
            if pkgidx == 0 or blkcnt == 0 or blkoff < minblkoff:
                raise CatalogError(f"NDB slot for package {pkgidx} is invalid")
            if blkoff + blkcnt > fileblks:
                raise CatalogError(f"NDB slot for package {pkgidx} points past the end of the file")
            slots.append((blkoff, pkgidx, blkcnt))
    slots.sort()
    return slots


def _blob(f: BinaryIO, blkoff: int, pkgidx: int, blkcnt: int) -> bytes:
    if blkcnt * _BLK < _HEAD_SIZE + _TAIL_SIZE:
        raise CatalogError(f"NDB blob for package {pkgidx} is too small")
    check_size(blkcnt * _BLK, f"NDB blob for package {pkgidx}")
    buf = _read_at(f, blkoff * _BLK, blkcnt * _BLK, f"blob for package {pkgidx}")
    magic, head_idx, _tstamp, bloblen = struct.unpack_from("<4sIII", buf, 0)
    if magic != _HEAD_MAGIC or head_idx != pkgidx:
        raise CatalogError(f"NDB blob for package {pkgidx} has a bad head")
    if blkcnt != (_HEAD_SIZE + bloblen + _TAIL_SIZE + _BLK - 1) // _BLK:
        raise CatalogError(f"NDB blob for package {pkgidx}: length {bloblen} does not fit {blkcnt} blocks")
    _adler, tail_len, tail_magic = struct.unpack_from("<I I4s", buf, len(buf) - _TAIL_SIZE)
    if tail_magic != _TAIL_MAGIC or tail_len != bloblen:
        raise CatalogError(f"NDB blob for package {pkgidx} has a bad tail")
    return buf[_HEAD_SIZE : _HEAD_SIZE + bloblen]


def iter_blobs(path: Path) -> Iterator[bytes]:
    """Yield the header blobs of an NDB `Packages.db` in rpm's order; `CatalogError` if malformed."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        for blkoff, pkgidx, blkcnt in _slots(f, size):
            yield _blob(f, blkoff, pkgidx, blkcnt)
