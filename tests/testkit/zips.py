"""Zip archives written by hand in the real format (PKWARE APPNOTE.TXT), for the hostile OSV cases:
what `zipfile` will not write — an entry whose header lies about its size, traditional PKWARE
encryption, an unknown compression method, an end record that claims millions of entries — and a
deflate bomb built without ever holding its inflated bytes.

Nothing here is copied from another project; `tests/hostile/test_network.py` checks that Python's
own `zipfile` reads the honest archives back, so the format is the real one.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_EOCD = struct.Struct("<4s4H2LH")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR = struct.Struct("<4sLQL")
STORED, DEFLATED = 0, 8
_DOS_TIME, _DOS_DATE = 0, (2024 - 1980) << 9 | 1 << 5 | 1


@dataclass(frozen=True)
class RawEntry:
    """One entry exactly as it is to be written: the (compressed, maybe encrypted) data and the
    header fields, which may lie."""

    name: str
    data: bytes
    method: int
    crc: int
    size: int
    flags: int = 0


def entry(name: str, content: bytes, *, method: int = DEFLATED) -> RawEntry:
    """An honest entry."""
    data = content if method == STORED else _deflate(content)
    return RawEntry(name, data, method, zlib.crc32(content), len(content))


def _deflate(content: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(content) + packer.flush()


def zeros_bomb(name: str, inflated: int) -> RawEntry:
    """A deflate entry of `inflated` zero bytes (about 1/1000 of that compressed), built from one
    repeated block: after a full flush the compressor starts afresh, so each MiB of zeros
    compresses to the same bytes and the inflated data is never held.
    """
    mib = 1 << 20
    assert inflated % mib == 0
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(b"\0" * mib) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(b"\0" * mib) + packer.flush(zlib.Z_FULL_FLUSH)
    assert block == again
    tail = packer.flush()
    crc = 0
    zero_mib = b"\0" * mib
    for _ in range(inflated // mib):
        crc = zlib.crc32(zero_mib, crc)
    return RawEntry(name, block * (inflated // mib) + tail, DEFLATED, crc, inflated)


def _crc_byte(crc: int, byte: int) -> int:
    return zlib.crc32(bytes([byte]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


class _ZipCrypto:
    """Traditional PKWARE encryption (APPNOTE 6.1), the scheme `zip -e` writes."""

    def __init__(self, password: bytes) -> None:
        self.keys = [0x12345678, 0x23456789, 0x34567890]
        for byte in password:
            self._update(byte)

    def _update(self, byte: int) -> None:
        k0, k1, k2 = self.keys
        k0 = _crc_byte(k0, byte)
        k1 = (k1 + (k0 & 0xFF)) & 0xFFFFFFFF
        k1 = (k1 * 134775813 + 1) & 0xFFFFFFFF
        k2 = _crc_byte(k2, k1 >> 24)
        self.keys = [k0, k1, k2]

    def encrypt(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            temp = (self.keys[2] | 2) & 0xFFFF
            out.append(byte ^ ((temp * (temp ^ 1)) >> 8) & 0xFF)
            self._update(byte)
        return bytes(out)


def encrypted(name: str, content: bytes, password: bytes) -> RawEntry:
    """An entry deflated and then encrypted with `password` (flag bit 0 set)."""
    crc = zlib.crc32(content)
    header = bytes(range(11)) + bytes([crc >> 24])  # the last byte lets a reader check the password
    data = _ZipCrypto(password).encrypt(header + _deflate(content))
    return RawEntry(name, data, DEFLATED, crc, len(content), flags=0x1)


def archive(
    entries: list[RawEntry], *, claim_entries: int | None = None, zip64_directory: bool | None = False
) -> bytes:
    """The archive's bytes (with a zip64 end record past 65,534 entries). `claim_entries` makes the
    end record (a zip64 one) claim that many entries, whatever the directory holds.
    `zip64_directory` writes each entry's sizes and offset in the directory as 0xFFFFFFFF with the
    real values in a zip64 extra field (as writers do past 4 GiB); None leaves the extra field out."""
    body = bytearray()
    central = bytearray()
    for item in entries:
        name = item.name.encode()
        offset = len(body)
        body += _LOCAL.pack(
            b"PK\x03\x04", 20, item.flags, item.method, _DOS_TIME, _DOS_DATE,
            item.crc, len(item.data), item.size, len(name), 0,
        )  # fmt: skip
        body += name + item.data
        if zip64_directory is False:
            central += _CENTRAL.pack(
                b"PK\x01\x02", 20, 20, item.flags, item.method, _DOS_TIME, _DOS_DATE,
                item.crc, len(item.data), item.size, len(name), 0, 0, 0, 0, 0, offset,
            )  # fmt: skip
            central += name
            continue
        extra = (
            struct.pack("<HHQQQ", 0x0001, 24, item.size, len(item.data), offset) if zip64_directory else b""
        )
        central += _CENTRAL.pack(
            b"PK\x01\x02", 45, 45, item.flags, item.method, _DOS_TIME, _DOS_DATE,
            item.crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0, 0xFFFFFFFF,
        )  # fmt: skip
        central += name + extra
    cd_offset = len(body)
    out = bytes(body) + bytes(central)
    if claim_entries is None and len(entries) < 0xFFFF:
        count = len(entries)
        return out + _EOCD.pack(b"PK\x05\x06", 0, 0, count, count, len(central), cd_offset, 0)
    claim_entries = len(entries) if claim_entries is None else claim_entries
    eocd64_offset = len(out)
    out += _EOCD64.pack(
        b"PK\x06\x06", _EOCD64.size - 12, 45, 45, 0, 0, claim_entries, claim_entries, len(central), cd_offset
    )
    out += _LOCATOR.pack(b"PK\x06\x07", 0, eocd64_offset, 1)
    return out + _EOCD.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
