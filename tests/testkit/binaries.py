"""Synthetic binaries for tests: the smallest ELF, Mach-O (thin and fat) and PE files the readers in
`ci_security.catalog.binfmt` accept, with any section content, so every format and byte order is
covered without a compiler; plus a forward-only stream and a seeded byte-flipper for fuzzing."""

from __future__ import annotations

import io
import random
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ci_security.catalog.base import CatalogInput

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHT_PROGBITS, SHT_STRTAB, SHT_NOBITS = 1, 3, 8
DATA_FLAGS = SHF_WRITE | SHF_ALLOC


@dataclass(frozen=True)
class ElfSection:
    name: str
    data: bytes = b""
    addr: int = 0
    flags: int = SHF_ALLOC
    type: int = SHT_PROGBITS
    size: int | None = None  # declared size, when it should differ from len(data)
    offset: int | None = None  # declared file offset, when it should lie


def build_elf(
    sections: list[ElfSection],
    *,
    bits: int = 64,
    big_endian: bool = False,
    segments: bool = False,
    section_headers: bool = True,
) -> bytes:
    """An ELF executable holding `sections` (plus the null section and `.shstrtab`); with
    `segments`, one PT_LOAD per allocated section so addresses also map through program headers.
    """
    end = ">" if big_endian else "<"
    ehsize, phentsize, shentsize = (64, 56, 64) if bits == 64 else (52, 32, 40)
    loadable = [s for s in sections if segments and s.flags & SHF_ALLOC and s.type != SHT_NOBITS]
    body = bytearray(ehsize + phentsize * len(loadable))
    offsets = []
    for sec in sections:
        body += bytes(-len(body) % 16)
        offsets.append(len(body))
        body += sec.data
    names = bytearray(b"\0")
    name_offsets = []
    for sec in sections:
        name_offsets.append(len(names))
        names += sec.name.encode() + b"\0"
    shstrtab_name = len(names)
    names += b".shstrtab\0"
    shstrtab_offset = len(body)
    body += names
    body += bytes(-len(body) % 8)
    shoff = len(body)
    sh_fmt = end + ("IIQQQQIIQQ" if bits == 64 else "10I")
    body += bytes(shentsize)
    for sec, offset, name_offset in zip(sections, offsets, name_offsets, strict=True):
        size = len(sec.data) if sec.size is None else sec.size
        offset = offset if sec.offset is None else sec.offset
        body += struct.pack(sh_fmt, name_offset, sec.type, sec.flags, sec.addr, offset, size, 0, 0, 16, 0)
    body += struct.pack(sh_fmt, shstrtab_name, SHT_STRTAB, 0, 0, shstrtab_offset, len(names), 0, 0, 1, 0)
    shnum = len(sections) + 2
    pos = ehsize
    for sec in loadable:
        offset = offsets[sections.index(sec)]
        p_flags = 4 | (2 if sec.flags & SHF_WRITE else 0) | (1 if sec.flags & SHF_EXECINSTR else 0)
        size = len(sec.data)
        if bits == 64:
            ph = struct.pack(end + "IIQQQQQQ", 1, p_flags, offset, sec.addr, sec.addr, size, size, 16)
        else:
            ph = struct.pack(end + "8I", 1, offset, sec.addr, sec.addr, size, size, p_flags, 16)
        body[pos : pos + phentsize] = ph
        pos += phentsize
    if not section_headers:
        shoff = shnum = shstrndx = 0
    else:
        shstrndx = shnum - 1
    phoff = ehsize if loadable else 0
    ident = b"\x7fELF" + bytes([2 if bits == 64 else 1, 2 if big_endian else 1, 1]) + bytes(9)
    word = "Q" if bits == 64 else "I"
    header = ident + struct.pack(
        end + f"HHI{word}{word}{word}IHHHHHH",
        2,
        62,
        1,
        0,
        phoff,
        shoff,
        0,
        ehsize,
        phentsize,
        len(loadable),
        shentsize,
        shnum,
        shstrndx,
    )
    body[:ehsize] = header
    return bytes(body)


@dataclass(frozen=True)
class MachoSection:
    segment: str
    name: str
    data: bytes
    addr: int
    zerofill: bool = False


def build_macho(
    sections: list[MachoSection], *, bits: int = 64, big_endian: bool = False, writable: tuple[str, ...] = ()
) -> bytes:
    """A thin Mach-O executable; segments are formed from the sections' segment names, each
    section's bytes placed at its address's offset within the segment.
    """
    end = ">" if big_endian else "<"
    header_size = 32 if bits == 64 else 28
    seg_size, sect_size = (72, 80) if bits == 64 else (56, 68)
    segments: dict[str, list[MachoSection]] = {}
    for sec in sections:
        segments.setdefault(sec.segment, []).append(sec)
    sizeofcmds = sum(seg_size + sect_size * len(secs) for secs in segments.values())
    cmds = bytearray()
    data = bytearray()
    data_start = header_size + sizeofcmds
    data_start += -data_start % 16
    for segname, secs in segments.items():
        vmaddr = min(s.addr for s in secs)
        fileoff = data_start + len(data)
        filesize = max(s.addr + (0 if s.zerofill else len(s.data)) for s in secs) - vmaddr
        vmsize = max(s.addr + len(s.data) for s in secs) - vmaddr
        seg_data = bytearray(filesize)
        for s in secs:
            if not s.zerofill:
                seg_data[s.addr - vmaddr : s.addr - vmaddr + len(s.data)] = s.data
        data += seg_data + bytes(-len(seg_data) % 16)
        initprot = 3 if segname in writable else 5
        name16 = segname.encode().ljust(16, b"\0")
        if bits == 64:
            cmd = struct.pack(
                end + "II16sQQQQiiII", 0x19, seg_size + sect_size * len(secs), name16, vmaddr, vmsize,
                fileoff, filesize, 7, initprot, len(secs), 0,
            )  # fmt: skip
        else:
            cmd = struct.pack(
                end + "II16sIIIIiiII", 0x1, seg_size + sect_size * len(secs), name16, vmaddr, vmsize,
                fileoff, filesize, 7, initprot, len(secs), 0,
            )  # fmt: skip
        for s in secs:
            offset = 0 if s.zerofill else fileoff + s.addr - vmaddr
            flags = 0x1 if s.zerofill else 0
            names = s.name.encode().ljust(16, b"\0") + name16
            if bits == 64:
                cmd += struct.pack(
                    end + "32sQQIIIIIIII", names, s.addr, len(s.data), offset, 4, 0, 0, flags, 0, 0, 0
                )
            else:
                cmd += struct.pack(
                    end + "32sIIIIIIIII", names, s.addr, len(s.data), offset, 4, 0, 0, flags, 0, 0
                )
        cmds += cmd
    magic = 0xFEEDFACF if bits == 64 else 0xFEEDFACE
    header = struct.pack(end + "7I", magic, 0x01000007, 3, 2, len(segments), sizeofcmds, 0)
    if bits == 64:
        header += bytes(4)
    out = header + cmds
    return bytes(out + bytes(data_start - len(out)) + data)


def build_fat(slices: list[bytes]) -> bytes:
    """A universal file holding `slices` in order, each at a 4 KiB boundary."""
    header = struct.pack(">II", 0xCAFEBABE, len(slices))
    table = b""
    body = b""
    offset = 4096
    for data in slices:
        table += struct.pack(">5I", 0x01000007, 3, offset + len(body), len(data), 12)
        body += data + bytes(-len(data) % 4096)
    out = header + table
    return out + bytes(offset - len(out)) + body


@dataclass(frozen=True)
class PeSection:
    name: str
    data: bytes
    rva: int
    characteristics: int = 0xC0000040  # initialised data, read, write


def build_pe(sections: list[PeSection], *, pe32plus: bool = True, image_base: int = 0x140000000) -> bytes:
    """A PE image; names over 8 bytes go to the COFF string table as `/offset`, as MinGW writes them."""
    lfanew = 0x80
    opt_size = 240 if pe32plus else 224
    table_at = lfanew + 24 + opt_size
    raw_at = table_at + 40 * len(sections)
    raw_at += -raw_at % 0x200
    strtab = bytearray(4)
    raw = bytearray()
    table = bytearray()
    for sec in sections:
        name = sec.name.encode()
        if len(name) > 8:
            name = f"/{len(strtab)}".encode()
            strtab += sec.name.encode() + b"\0"
        raw_size = len(sec.data) + (-len(sec.data) % 0x200)
        table += struct.pack(
            "<8sIIIIIIHHI",
            name,
            len(sec.data),
            sec.rva,
            raw_size,
            raw_at + len(raw),
            0,
            0,
            0,
            0,
            sec.characteristics,
        )
        raw += sec.data + bytes(raw_size - len(sec.data))
    strtab[:4] = struct.pack("<I", len(strtab))
    symtab_at = raw_at + len(raw) if len(strtab) > 4 else 0
    dos = bytearray(lfanew)
    dos[:2] = b"MZ"
    dos[0x3C:0x40] = struct.pack("<I", lfanew)
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", 0x8664, len(sections), 0, symtab_at, 0, opt_size, 0x22)
    opt = bytearray(opt_size)
    if pe32plus:
        opt[:2] = struct.pack("<H", 0x20B)
        opt[24:32] = struct.pack("<Q", image_base)
    else:
        opt[:2] = struct.pack("<H", 0x10B)
        opt[28:32] = struct.pack("<I", image_base)
    head = bytes(dos) + coff + bytes(opt) + bytes(table)
    out = head + bytes(raw_at - len(head)) + bytes(raw)
    return out + (bytes(strtab) if symtab_at else b"")


class OneWay(io.RawIOBase):
    """A forward-only stream, like a member of a compressed layer."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        return self._inner.readinto(buffer)


def catalog_input(data: bytes, tmp_path: Path, *, seekable: bool = True, path: str = "usr/bin/app"):
    stream = io.BytesIO(data) if seekable else io.BufferedReader(OneWay(data))
    return CatalogInput(path=path, size=len(data), stream=stream, tmpdir=tmp_path)


def mutations(data: bytes, count: int, seed: int, span: int = 512) -> Iterator[bytes]:
    """`count` corrupted copies of `data`: random bytes overwritten near the start (where the tables
    and their pointers are), or the file cut short.
    """
    rng = random.Random(seed)
    for _ in range(count):
        if rng.random() < 0.25:
            yield data[: rng.randrange(len(data))]
            continue
        out = bytearray(data)
        for _ in range(rng.randrange(1, 6)):
            pos = rng.randrange(min(span, len(out)))
            out[pos] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
        yield bytes(out)


# ------------------------------------------------------------------------------------------- tests
