"""Reading the records of an OSV `all.zip` export, bounded.

An export comes from a mirror (or a file somebody hands `db import`), so it is read as hostile:

- before `zipfile` parses the central directory (it holds every entry in memory), the
  end-of-central-directory record is read by hand: more entries than `records_per_file`, or a
  central directory larger than `metadata_bytes`, is refused up front;
- an entry that is encrypted or compressed with anything but stored/deflate (the only methods OSV's
  exporter writes) is refused by name;
- an entry is inflated as a stream, never past `record_bytes` (whatever its header claims), and the
  whole archive never past `compression_ratio` times its own size once past 64 MiB, so overlapping
  entries cannot multiply the work either;
- a corrupt entry (bad CRC, truncated data) is refused by name.

Every refusal is one line naming the archive and the entry; decoding the record (UTF-8, JSON depth)
is the caller's.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ci_security import limits
from ci_security.errors import CiSecurityError

_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_EOCD_SIGNATURE = b"PK\x05\x06"
_LOCAL = struct.Struct("<4s5H3L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_LOCATOR_SIGNATURE = b"PK\x06\x07"
_EOCD64_SIGNATURE = b"PK\x06\x06"
_MAX_COMMENT = 0xFFFF
_CHUNK = 1 << 16
_RATIO_FLOOR = 64 * limits.MiB  # compression_ratio applies once this much was inflated
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_ZIP64_EXTRA = 0x0001
_FULL32 = 0xFFFFFFFF


class ExportError(CiSecurityError):
    """An export that is not a readable zip, or an entry in it that cannot be read (the default
    error class; callers pass their stage's).
    """


def shown_name(name: str) -> str:
    """An entry name as messages show it: control characters escaped, at most 200 characters."""
    if len(name) <= 200 and name.isascii() and name.isprintable():
        return name  # the common case, without the substitution (an export has 100,000s of names)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", name)
    return text if len(text) <= 200 else text[:200] + "…"


def directory_size(fp: BinaryIO, size: int) -> tuple[int, int]:
    """(entries, central directory bytes) from the end-of-central-directory record (zip64 aware),
    read without parsing the directory itself.
    """
    entries, cd_size, _, _ = _end_record(fp, size)
    return entries, cd_size


def _end_record(fp: BinaryIO, size: int) -> tuple[int, int, int, int]:
    """(entries, directory bytes, directory offset, where the end record starts)."""
    span = min(size, _EOCD.size + _MAX_COMMENT + _EOCD64_LOCATOR.size)
    fp.seek(size - span)
    tail = fp.read(span)
    pos = tail.rfind(_EOCD_SIGNATURE)
    while pos >= 0 and pos + _EOCD.size > len(tail):
        pos = tail.rfind(_EOCD_SIGNATURE, 0, pos)
    if pos < 0:
        raise ValueError("no end-of-central-directory record")
    record = _EOCD.unpack_from(tail, pos)
    entries, cd_size, cd_offset = record[4], record[5], record[6]
    end = size - span + pos
    if record[1] != 0 or record[2] != 0:
        raise ValueError("multi-disk archives are not supported")
    if entries == 0xFFFF or cd_size == _FULL32 or cd_offset == _FULL32:
        start = pos - _EOCD64_LOCATOR.size
        if start >= 0 and tail[start : start + 4] == _LOCATOR_SIGNATURE:
            locator = _EOCD64_LOCATOR.unpack_from(tail, start)
            offset = locator[2]
            if offset + _EOCD64.size > size:
                raise ValueError("zip64 end record points past the end of the file")
            fp.seek(offset)
            raw = fp.read(_EOCD64.size)
            if len(raw) != _EOCD64.size or raw[:4] != _EOCD64_SIGNATURE:
                raise ValueError("zip64 end record is missing")
            record64 = _EOCD64.unpack(raw)
            entries, cd_size, cd_offset = record64[7], record64[8], record64[9]
            end = offset
    return int(entries), int(cd_size), int(cd_offset), end


def _directory(
    fp: BinaryIO, size: int, entries: int, cd_size: int, cd_offset: int, end: int
) -> Iterator[tuple[str, int, int, int, int, int, int]]:
    """(name, local header offset, method, flags, compressed size, size, CRC) of every entry of the
    central directory, zip64 sizes and offsets included. Read by hand, in one read: `zipfile` takes
    about 20 µs an entry to build its objects, seconds for an export of 300,000 records.
    """
    # Data before the archive (a self-extracting stub) shifts every offset, as zipfile allows.
    shift = end - cd_size - cd_offset
    if shift < 0 or cd_offset + shift + cd_size > size:
        raise ValueError("the central directory lies outside the file")
    fp.seek(cd_offset + shift)
    data = fp.read(cd_size)
    if len(data) != cd_size:
        raise ValueError("the central directory is truncated")
    pos = 0
    for _ in range(entries):
        if pos + _CENTRAL.size > cd_size or data[pos : pos + 4] != _CENTRAL_SIGNATURE:
            raise ValueError("bad central directory entry")
        fields = _CENTRAL.unpack_from(data, pos)
        flags, method, crc, csize, usize = fields[3], fields[4], fields[7], fields[8], fields[9]
        name_length, extra_length, comment_length, offset = fields[10], fields[11], fields[12], fields[16]
        pos += _CENTRAL.size
        raw_name = data[pos : pos + name_length]
        extra = data[pos + name_length : pos + name_length + extra_length]
        pos += name_length + extra_length + comment_length
        if pos > cd_size:
            raise ValueError("bad central directory entry")
        if _FULL32 in (usize, csize, offset):
            usize, csize, offset = _zip64_extra(extra, usize, csize, offset)
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
        yield name, offset + shift, method, flags, csize, usize, crc


def _zip64_extra(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    """The 64-bit values of the fields that are 0xFFFFFFFF, in the zip64 extra field's order."""
    pos = 0
    while pos + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        if kind == _ZIP64_EXTRA:
            values = list(struct.unpack_from(f"<{len(body) // 8}Q", body))
            if usize == _FULL32:
                usize = values.pop(0)
            if csize == _FULL32:
                csize = values.pop(0)
            if offset == _FULL32:
                offset = values.pop(0)
            return usize, csize, offset
        pos += 4 + length
    raise ValueError("zip64 sizes without a zip64 extra field")


@dataclass(frozen=True, slots=True)
class PlannedEntry:
    """One entry to read, as the central directory describes it (small and picklable: worker
    processes read planned entries from the same file).
    """

    where: str
    name: str
    header_offset: int
    method: int
    flags: int
    compress_size: int
    file_size: int
    crc: int


def plan_entries(
    path: Path,
    label: str,
    suffixes: tuple[str, ...],
    *,
    error: Callable[[str], CiSecurityError] = ExportError,
) -> list[PlannedEntry]:
    """The file entries of `path` whose names end with one of `suffixes`, after every check that
    needs no inflating: the entry count and directory size (before `zipfile` parses the directory),
    encryption, the compression method and each entry's declared size; and, since an entry is read
    to exactly its declared size or refused (`read_planned`), the archive's inflated total against
    `compression_ratio`.
    """
    bounds = limits.active()
    try:
        with open(path, "rb") as fp:
            size = fp.seek(0, 2)
            try:
                entries, cd_size, cd_offset, end = _end_record(fp, size)
            except (ValueError, struct.error, OSError) as exc:
                raise error(f"{label}: not a readable zip archive ({exc})") from None
            if entries > bounds.records_per_file:
                raise limits.LimitExceededError(label, "records_per_file", f"it lists {entries:,} entries")
            if cd_size > bounds.metadata_bytes:
                raise limits.LimitExceededError(
                    label, "metadata_bytes", f"its central directory is {cd_size:,} bytes"
                )
            infos = list(_directory(fp, size, entries, cd_size, cd_offset, end))
    except (ValueError, IndexError, struct.error, UnicodeDecodeError) as exc:
        raise error(f"{label}: not a readable zip archive ({exc})") from None
    except OSError as exc:
        raise error(f"{label}: cannot read ({exc.strerror or exc})") from None
    planned: list[PlannedEntry] = []
    inflated = 0
    for name, offset, method, flags, compress_size, file_size, crc in infos:
        if name.endswith("/") or not name.endswith(suffixes):
            continue
        where = f"{label}!{shown_name(name)}"
        if flags & 0x1:
            raise error(f"{where}: the entry is encrypted")
        if method not in _METHODS:
            raise error(f"{where}: compression method {method} is not supported (only stored and deflate)")
        if file_size > bounds.record_bytes:
            raise limits.LimitExceededError(where, "record_bytes", f"it declares {file_size:,} bytes")
        if compress_size > _deflated_bound(file_size) or (
            method == zipfile.ZIP_STORED and compress_size != file_size
        ):
            raise error(
                f"{where}: corrupt entry ({compress_size:,} bytes compressed for {file_size:,} "
                "inflated; deflate never expands that much)"
            )
        inflated += file_size
        if inflated > _RATIO_FLOOR and inflated > bounds.compression_ratio * max(size, 1):
            raise limits.LimitExceededError(
                label, "compression_ratio", f"its entries inflate to {inflated:,} bytes from {size:,}"
            )
        planned.append(PlannedEntry(where, name, offset, method, flags, compress_size, file_size, crc))
    return planned


def read_planned(
    path: Path,
    entries: Iterable[PlannedEntry],
    label: str,
    *,
    error: Callable[[str], CiSecurityError] = ExportError,
) -> Iterator[tuple[str, bytes, bytes | None]]:
    """(where, inflated bytes, deflate stream) of each planned entry of `path`: exactly its
    declared size, its CRC checked, never past `record_bytes`. The deflate stream is the entry's
    compressed data as it is in the archive (None for a stored entry), for a caller that keeps the
    record compressed.
    """
    bounds = limits.active()
    try:
        with open(path, "rb") as fp:
            for planned in entries:
                data, stream = _read_entry(fp, planned, bounds, error)
                yield planned.where, data, stream
    except OSError as exc:
        raise error(f"{label}: cannot read ({exc.strerror or exc})") from None


def iter_entries(
    path: Path,
    label: str,
    suffixes: tuple[str, ...],
    *,
    error: Callable[[str], CiSecurityError] = ExportError,
) -> Iterator[tuple[str, bytes]]:
    """(where, inflated bytes) of every file entry of `path` whose name ends with one of
    `suffixes`; `label` names the archive in messages (a URL for a download), `error` builds the
    exception for anything but a limit.
    """
    planned = plan_entries(path, label, suffixes, error=error)
    for where, data, _ in read_planned(path, planned, label, error=error):
        yield where, data


def _deflated_bound(size: int) -> int:
    """The most bytes deflate can take for `size` bytes (stored blocks: 5 bytes of header per 16 KiB,
    as zlib's `deflateBound` counts), with slack.
    """
    return size + (size >> 12) + 1024


def _read_entry(
    fp: BinaryIO, planned: PlannedEntry, bounds: limits.Limits, error: Callable[[str], CiSecurityError]
) -> tuple[bytes, bytes | None]:
    where = planned.where
    try:
        fp.seek(planned.header_offset)
        header = fp.read(_LOCAL.size)
        if len(header) != _LOCAL.size or header[:4] != _LOCAL_SIGNATURE:
            raise ValueError("bad local file header")
        fields = _LOCAL.unpack(header)
        flags, name_length, extra_length = fields[2], fields[9], fields[10]
        raw_name = fp.read(name_length)
        # As `ZipFile.open` does: the local header must name the entry the directory points at
        # (entries that overlap, or a directory pointing elsewhere, are a corrupt archive).
        if raw_name.decode("utf-8" if flags & 0x800 else "cp437", "replace") != planned.name:
            raise ValueError("the local header names another entry")
        fp.seek(extra_length, 1)
        # The planned sizes are the central directory's, checked against record_bytes and the
        # archive's size: the compressed bytes are read whole, then inflated to at most one byte
        # more than declared.
        raw = fp.read(planned.compress_size)
        if len(raw) != planned.compress_size:
            raise ValueError(f"truncated: {len(raw):,} of {planned.compress_size:,} compressed bytes")
        if planned.method == zipfile.ZIP_STORED:
            data, stream = raw, None
        else:
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            data = inflater.decompress(raw, planned.file_size + 1)
            if len(data) > planned.file_size:
                raise ValueError(f"it inflates to more than its declared {planned.file_size:,} bytes")
            if not inflater.eof:
                raise ValueError(f"truncated deflate data ({len(data):,} of {planned.file_size:,} bytes)")
            stream = raw[: len(raw) - len(inflater.unused_data)]
        if len(data) != planned.file_size:
            raise ValueError(f"{len(data):,} bytes where {planned.file_size:,} were declared")
        if zlib.crc32(data) != planned.crc:
            raise ValueError(f"Bad CRC-32 for file {planned.name!r}")
    except (ValueError, zlib.error, UnicodeDecodeError) as exc:
        raise error(f"{where}: corrupt entry ({shown_name(str(exc))})") from None
    if len(data) > bounds.record_bytes:  # planned entries were checked; kept for the invariant
        raise limits.LimitExceededError(where, "record_bytes", f"{len(data):,} bytes")
    return data, stream
