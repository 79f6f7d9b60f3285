"""Hand-made tar bytes for hostile cases: headers with any field value, valid checksums.

`tarfile` refuses to write most of what an attacker would (negative sizes, a PAX `size` that is not a
number, names that are not UTF-8 in a PAX record), so these helpers write the 512-byte ustar header
themselves, field by field, as POSIX.1-1988 lays it out, and compute the checksum over the result so
a reader gets past it. `gzip_stream` and `zero_gzip_members` build large compressed inputs without
ever holding the expanded bytes.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator

BLOCK = 512
END = bytes(2 * BLOCK)


def base256(value: int, width: int = 12) -> bytes:
    """A GNU base-256 numeric field (first byte 0x80 for positive values, 0xff for negative)."""
    bits = 8 * (width - 1)
    if value < 0:
        return b"\xff" + (value + (1 << bits)).to_bytes(width - 1, "big")
    return b"\x80" + value.to_bytes(width - 1, "big")


def header(
    name: bytes | str,
    *,
    size: int | bytes = 0,
    typeflag: bytes = b"0",
    linkname: bytes | str = b"",
    mode: int = 0o644,
    prefix: bytes = b"",
    magic: bytes = b"ustar\x0000",
    checksum: bytes | None = None,
) -> bytes:
    """One ustar header. `size` as bytes is written into the field as is (12 bytes); an int that
    octal cannot hold is written base-256. `checksum` overrides the computed one."""
    raw_name = name.encode() if isinstance(name, str) else name
    raw_link = linkname.encode() if isinstance(linkname, str) else linkname
    buf = bytearray(BLOCK)
    buf[0:100] = raw_name[:100].ljust(100, b"\0")
    buf[100:108] = b"%07o\0" % mode
    buf[108:116] = b"0000000\0"
    buf[116:124] = b"0000000\0"
    if isinstance(size, bytes):
        buf[124:136] = size[:12].ljust(12, b"\0")
    elif 0 <= size < 8**11:
        buf[124:136] = b"%011o\0" % size
    else:
        buf[124:136] = base256(size)
    buf[136:148] = b"00000000000\0"
    buf[156:157] = typeflag
    buf[157:257] = raw_link[:100].ljust(100, b"\0")
    buf[257:265] = magic
    buf[345:500] = prefix[:155].ljust(155, b"\0")
    buf[148:156] = b" " * 8
    buf[148:156] = checksum if checksum is not None else b"%06o\0 " % sum(buf)
    return bytes(buf)


def pad(data: bytes) -> bytes:
    return data + bytes(-len(data) % BLOCK)


def member(name: bytes | str, data: bytes = b"", **fields: object) -> bytes:
    """A header and its data, padded to the block size (`size` defaults to the data's length)."""
    fields.setdefault("size", len(data))
    return header(name, **fields) + pad(data)  # type: ignore[arg-type]


def pax_record(key: bytes, value: bytes) -> bytes:
    """One `"%d %s=%s\\n"` record; the length counts itself."""
    body = b" " + key + b"=" + value + b"\n"
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length += 1
    return str(length).encode() + body


def pax(records: dict[bytes, bytes], *, typeflag: bytes = b"x") -> bytes:
    data = b"".join(pax_record(k, v) for k, v in records.items())
    return header(b"PaxHeader", size=len(data), typeflag=typeflag) + pad(data)


def gnu_long_name(name: bytes, *, typeflag: bytes = b"L") -> bytes:
    data = name + b"\0"
    return header(b"././@LongLink", size=len(data), typeflag=typeflag, magic=b"ustar  \0") + pad(data)


def zero_gzip_members(total: int, chunk: int = 64 << 20, level: int = 9) -> Iterator[bytes]:
    """`total` zero bytes as concatenated gzip members (RFC 1952 §2.2: one valid stream), each made
    once: a few MB on disk for GiBs expanded, and nothing large ever in memory."""
    whole = gzip.compress(bytes(chunk), compresslevel=level, mtime=0)
    left = total
    while left >= chunk:
        yield whole
        left -= chunk
    if left:
        yield gzip.compress(bytes(left), compresslevel=level, mtime=0)


def gzip_stream(parts: Iterator[bytes], level: int = 6) -> Iterator[bytes]:
    """Compress an iterable of byte chunks as one gzip member, chunk by chunk."""
    comp = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for part in parts:
        out = comp.compress(part)
        if out:
            yield out
    yield comp.flush()
