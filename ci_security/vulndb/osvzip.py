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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from ci_security import limits
from ci_security.errors import CiSecurityError

_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_EOCD_SIGNATURE = b"PK\x05\x06"
_LOCATOR_SIGNATURE = b"PK\x06\x07"
_EOCD64_SIGNATURE = b"PK\x06\x06"
_MAX_COMMENT = 0xFFFF
_CHUNK = 1 << 16
_RATIO_FLOOR = 64 * limits.MiB  # compression_ratio applies once this much was inflated
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}


class ExportError(CiSecurityError):
    """An export that is not a readable zip, or an entry in it that cannot be read (the default
    error class; callers pass their stage's).
    """


def shown_name(name: str) -> str:
    """An entry name as messages show it: control characters escaped, at most 200 characters."""
    text = re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group()):02x}", name)
    return text if len(text) <= 200 else text[:200] + "…"


def directory_size(fp: BinaryIO, size: int) -> tuple[int, int]:
    """(entries, central directory bytes) from the end-of-central-directory record (zip64 aware),
    read without parsing the directory itself.
    """
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
    if record[1] != 0 or record[2] != 0:
        raise ValueError("multi-disk archives are not supported")
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
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
            entries, cd_size = record64[7], record64[8]
    return int(entries), int(cd_size)


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
    bounds = limits.active()
    try:
        with open(path, "rb") as fp:
            size = fp.seek(0, 2)
            try:
                entries, cd_size = directory_size(fp, size)
            except (ValueError, struct.error, OSError) as exc:
                raise error(f"{label}: not a readable zip archive ({exc})") from None
            if entries > bounds.records_per_file:
                raise limits.LimitExceededError(label, "records_per_file", f"it lists {entries:,} entries")
            if cd_size > bounds.metadata_bytes:
                raise limits.LimitExceededError(
                    label, "metadata_bytes", f"its central directory is {cd_size:,} bytes"
                )
            fp.seek(0)
            with zipfile.ZipFile(fp) as archive:
                infos = archive.infolist()
                if len(infos) > bounds.records_per_file:
                    raise limits.LimitExceededError(
                        label, "records_per_file", f"it holds {len(infos):,} entries"
                    )
                inflated = 0
                for info in infos:
                    if info.is_dir() or not info.filename.endswith(suffixes):
                        continue
                    where = f"{label}!{shown_name(info.filename)}"
                    data = _read_entry(archive, info, where, bounds, error)
                    inflated += len(data)
                    if inflated > _RATIO_FLOOR and inflated > bounds.compression_ratio * max(size, 1):
                        raise limits.LimitExceededError(
                            label,
                            "compression_ratio",
                            f"its entries inflate to {inflated:,} bytes from {size:,}",
                        )
                    yield where, data
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise error(f"{label}: not a readable zip archive ({exc})") from None
    except OSError as exc:
        raise error(f"{label}: cannot read ({exc.strerror or exc})") from None


def _read_entry(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    where: str,
    bounds: limits.Limits,
    error: Callable[[str], CiSecurityError],
) -> bytes:
    if info.flag_bits & 0x1:
        raise error(f"{where}: the entry is encrypted")
    if info.compress_type not in _METHODS:
        raise error(
            f"{where}: compression method {info.compress_type} is not supported (only stored and deflate)"
        )
    if info.file_size > bounds.record_bytes:
        raise limits.LimitExceededError(where, "record_bytes", f"it declares {info.file_size:,} bytes")
    parts: list[bytes] = []
    got = 0
    try:
        with archive.open(info) as stream:
            while True:
                piece = stream.read(_CHUNK)
                if not piece:
                    break
                got += len(piece)
                if got > bounds.record_bytes:
                    raise limits.LimitExceededError(where, "record_bytes", "it inflates past it")
                if got > _RATIO_FLOOR and got > bounds.compression_ratio * max(info.compress_size, 1):
                    raise limits.LimitExceededError(where, "compression_ratio", f"{got:,} bytes inflated")
                parts.append(piece)
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError, ValueError) as exc:
        raise error(f"{where}: corrupt entry ({shown_name(str(exc))})") from None
    return b"".join(parts)
