"""ELF / Mach-O / PE section tables, on synthetic binaries built here and on the real fixtures.

The synthetic binaries come from `testkit.binaries`.
"""

from __future__ import annotations

import io
import struct
import tracemalloc

import pytest
from testkit.binaries import (
    DATA_FLAGS,
    SHF_ALLOC,
    SHF_EXECINSTR,
    SHT_NOBITS,
    ElfSection,
    MachoSection,
    PeSection,
    build_elf,
    build_fat,
    build_macho,
    build_pe,
    mutations,
)

from ci_security.catalog.binfmt import (
    EXECUTABLE_MAGIC,
    Binary,
    BinaryFormatError,
    executable_candidate,
    parse_binary,
)


def _parse(data: bytes) -> Binary | None:
    return parse_binary(io.BytesIO(data))


def _must_parse(data: bytes) -> Binary:
    binary = _parse(data)
    assert binary is not None
    return binary


@pytest.mark.parametrize(("bits", "big_endian"), [(64, False), (64, True), (32, False), (32, True)])
def test_elf_sections(bits, big_endian):
    data = build_elf(
        [
            ElfSection(".text", b"\x90" * 40, 0x1000, SHF_ALLOC | SHF_EXECINSTR),
            ElfSection(".data", b"DATA" * 8, 0x2000, DATA_FLAGS),
            ElfSection(".bss", b"", 0x3000, DATA_FLAGS, SHT_NOBITS, size=0x400),
            ElfSection(".comment", b"GCC\0"),
        ],
        bits=bits,
        big_endian=big_endian,
    )
    binary = _must_parse(data)
    assert binary.format == "elf"
    assert [s.name for s in binary.sections] == ["", ".text", ".data", ".bss", ".comment", ".shstrtab"]
    data_sec = binary.section(".data")
    assert data_sec is not None
    assert (data_sec.addr, data_sec.size, data_sec.writable) == (0x2000, 32, True)
    assert binary.read_section(data_sec, 1024) == b"DATA" * 8
    bss = binary.section(".bss")
    assert bss is not None and bss.size == 0  # no file bytes behind .bss
    text = binary.section(".text")
    assert text is not None and not text.writable
    assert binary.read_vaddr(0x2004, 4) == b"DATA"
    with pytest.raises(BinaryFormatError):
        binary.read_vaddr(0x3000, 4)  # .bss: mapped in memory, not in the file
    with pytest.raises(BinaryFormatError):
        binary.read_vaddr(0x201E, 8)  # runs off the end of .data


def test_elf_program_headers_map_addresses_without_section_headers():
    data = build_elf(
        [ElfSection(".data", b"0123456789abcdef", 0x500000, DATA_FLAGS)], segments=True, section_headers=False
    )
    binary = _must_parse(data)
    assert binary.sections == ()
    assert [(s.addr, s.size, s.writable) for s in binary.segments] == [(0x500000, 16, True)]
    assert binary.read_vaddr(0x50000A, 6) == b"abcdef"


def test_elf_extended_section_numbering():
    data = bytearray(build_elf([ElfSection(".dep-v0", b"x")]))
    # Move e_shnum (3) and e_shstrndx (2) into section 0's sh_size and sh_link, as linkers do past 0xff00.
    shoff = struct.unpack_from("<Q", data, 40)[0]
    struct.pack_into("<HH", data, 60, 0, 0xFFFF)
    struct.pack_into("<Q", data, shoff + 32, 3)
    struct.pack_into("<I", data, shoff + 40, 2)
    binary = _must_parse(bytes(data))
    assert binary.section(".dep-v0") is not None


@pytest.mark.parametrize(("bits", "big_endian"), [(64, False), (32, True), (64, True), (32, False)])
def test_macho_sections(bits, big_endian):
    data = build_macho(
        [
            MachoSection("__TEXT", "__text", b"\xc3" * 16, 0x1000),
            MachoSection("__DATA", "__data", b"hello, mach-o!!!", 0x4000),
            MachoSection("__DATA", "__bss", bytes(64), 0x4100, zerofill=True),
        ],
        bits=bits,
        big_endian=big_endian,
        writable=("__DATA",),
    )
    binary = _must_parse(data)
    assert binary.format == "macho"
    sec = binary.section("__data", "__DATA")
    assert sec is not None and sec.writable and sec.segment == "__DATA"
    assert binary.read_section(sec, 100) == b"hello, mach-o!!!"
    assert binary.section("__data", "__TEXT") is None
    bss = binary.section("__bss")
    assert bss is not None and bss.size == 0
    assert [s.name for s in binary.segments] == ["__TEXT", "__DATA"]
    assert binary.read_vaddr(0x4007, 6) == b"mach-o"


def test_fat_uses_first_slice_that_parses():
    good = build_macho([MachoSection("__DATA", "__data", b"second", 0x4000)])
    broken = bytearray(build_macho([MachoSection("__DATA", "__data", b"first!", 0x4000)]))
    struct.pack_into("<I", broken, 20, 0xFFFFFF)  # sizeofcmds far past the slice
    binary = _must_parse(build_fat([bytes(broken), good]))
    sec = binary.section("__data")
    assert sec is not None and binary.read_section(sec, 100) == b"second"
    assert binary.read_vaddr(0x4000, 6) == b"second"  # segment offsets are absolute in the fat file


def test_fat_magic_of_a_java_class_file_is_not_a_binary():
    assert _parse(b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + bytes(100)) is None


def test_fat_without_a_good_slice_is_a_format_error():
    with pytest.raises(BinaryFormatError):
        _parse(build_fat([b"\xcf\xfa\xed\xfe" + bytes(8)]))


@pytest.mark.parametrize("pe32plus", [True, False])
def test_pe_sections(pe32plus):
    base = 0x140000000 if pe32plus else 0x400000
    data = build_pe(
        [
            PeSection(".text", b"\xcc" * 32, 0x1000, 0x60000020),
            PeSection(".data", b"pe data here", 0x2000),
            PeSection(".go.buildinfo", b"long name", 0x3000),
        ],
        pe32plus=pe32plus,
        image_base=base,
    )
    binary = _must_parse(data)
    assert binary.format == "pe"
    assert [s.name for s in binary.sections] == [".text", ".data", ".go.buildinfo"]
    sec = binary.section(".data")
    assert sec is not None and sec.writable and sec.addr == base + 0x2000
    assert binary.read_section(sec, 100) == b"pe data here"  # virtual size, not the padded raw size
    assert binary.read_vaddr(base + 0x2003, 4) == b"data"
    text = binary.section(".text")
    assert text is not None and not text.writable


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"#!/bin/sh\necho hello\n",
        b"MZ is how this text file starts\n",
        b"MZ",
        b"\x00" * 64,
        b"PK\x03\x04" + bytes(60),
    ],
)
def test_non_binaries_are_none(data):
    assert _parse(data) is None


def test_real_fixtures(pkgdb):
    with (pkgdb / "go/executable_gobinary").open("rb") as fh:
        binary = parse_binary(fh)
        assert binary is not None
        sec = binary.section(".go.buildinfo")
        assert sec is not None and sec.writable and sec.size == 32
        assert binary.read_section(sec, 64).startswith(b"\xff Go buildinf:")
    with (pkgdb / "rust/executable_rust").open("rb") as fh:
        binary = parse_binary(fh)
        assert binary is not None
        sec = binary.section(".dep-v0")
        assert sec is not None and sec.size == 0x76


def test_read_section_limits():
    binary = _must_parse(build_elf([ElfSection(".big", bytes(4096))]))
    sec = binary.section(".big")
    assert sec is not None
    with pytest.raises(BinaryFormatError):
        binary.read_section(sec, 1024)


def test_section_past_end_of_file_fails_on_read():
    data = build_elf([ElfSection(".dep-v0", b"abc", offset=1 << 40, size=1 << 30)])
    binary = _must_parse(data)
    sec = binary.section(".dep-v0")
    assert sec is not None
    with pytest.raises(BinaryFormatError):
        binary.read_section(sec, 1 << 31)


def _elf_with(*patches: tuple[int, str, int]) -> bytes:
    data = bytearray(build_elf([ElfSection(".data", b"x" * 16, 0x1000, DATA_FLAGS)], segments=True))
    for offset, fmt, value in patches:
        struct.pack_into(fmt, data, offset, value)
    return bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        _elf_with((60, "<H", 0xFFFF)),  # 65,535 sections in a tiny file
        _elf_with((58, "<H", 0xFFFF)),  # 64 KiB per section header
        _elf_with((58, "<H", 8)),  # section headers smaller than the format's
        _elf_with((40, "<Q", 1 << 62)),  # section table far past EOF
        _elf_with((40, "<Q", (1 << 64) - 1), (60, "<H", 0)),  # ... with extended numbering, unseekable
        _elf_with((40, "<Q", (1 << 64) - 1)),
        _elf_with((32, "<Q", 1 << 62)),  # program headers far past EOF
        _elf_with((56, "<H", 0xFFFF)),  # 65,535 program headers
        b"\x7fELF\x03\x01" + bytes(58),  # unknown class
        b"\x7fELF\x02\x01\x01",  # truncated identification
    ],
)
def test_hostile_elf_headers_are_format_errors(data):
    with pytest.raises(BinaryFormatError):
        _parse(data)


def test_extended_numbering_with_absurd_count():
    data = bytearray(build_elf([ElfSection(".data", b"x")]))
    shoff = struct.unpack_from("<Q", data, 40)[0]
    struct.pack_into("<H", data, 60, 0)
    struct.pack_into("<Q", data, shoff + 32, 1 << 40)
    with pytest.raises(BinaryFormatError):
        _parse(bytes(data))


def test_hostile_macho_and_pe_counts():
    macho = bytearray(build_macho([MachoSection("__DATA", "__data", b"x", 0x4000)]))
    struct.pack_into("<I", macho, 16, 0xFFFFFFFF)  # ncmds
    with pytest.raises(BinaryFormatError):
        _parse(bytes(macho))
    macho = bytearray(build_macho([MachoSection("__DATA", "__data", b"x", 0x4000)]))
    struct.pack_into("<I", macho, 32 + 64, 0xFFFFFFF)  # nsects of the segment
    with pytest.raises(BinaryFormatError):
        _parse(bytes(macho))
    pe = bytearray(build_pe([PeSection(".data", b"x", 0x1000)]))
    struct.pack_into("<H", pe, 0x80 + 6, 0xFFFF)  # NumberOfSections
    with pytest.raises(BinaryFormatError):
        _parse(bytes(pe))


def _samples() -> list[bytes]:
    return [
        build_elf([ElfSection(".data", b"d" * 64, 0x1000, DATA_FLAGS)], segments=True),
        build_elf([ElfSection(".data", b"d" * 64, 0x1000, DATA_FLAGS)], bits=32, big_endian=True),
        build_macho([MachoSection("__DATA", "__data", b"m" * 64, 0x4000)], writable=("__DATA",)),
        build_macho([MachoSection("__DATA", "__data", b"m" * 64, 0x4000)], bits=32, big_endian=True),
        build_fat([build_macho([MachoSection("__DATA", "__data", b"f" * 64, 0x4000)])]),
        build_pe([PeSection(".data", b"p" * 64, 0x1000), PeSection(".longsectionname", b"q", 0x2000)]),
    ]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("index", range(6))
def test_fuzzed_headers_never_raise_anything_else(index):
    tracemalloc.start()
    try:
        for corrupt in mutations(_samples()[index], 400, seed=index):
            try:
                binary = parse_binary(io.BytesIO(corrupt))
            except BinaryFormatError:
                continue
            if binary is None:
                continue
            for sec in binary.sections:
                try:
                    binary.read_section(sec, 1 << 20)
                    binary.read_vaddr(sec.addr, 8)
                except BinaryFormatError:
                    pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20


@pytest.mark.parametrize(
    ("path", "mode", "wanted"),
    [
        ("usr/bin/app", 0o755, True),
        ("app", 0o700, True),
        ("opt/tool/bin/tool", 0o110, True),
        ("usr/lib/x86_64-linux-gnu/libfoo.so.1", 0o755, True),
        ("usr/bin/app", 0o644, False),
        ("usr/share/doc/tool/run", 0o755, False),
        ("usr/share/app/tool.exe", 0o644, False),
        ("usr/local/bin/entrypoint.sh", 0o755, False),
        ("usr/bin/pip.py", 0o755, False),
        ("usr/bin/cpan.pl", 0o755, False),
        ("usr/bin/gem.rb", 0o755, False),
        ("usr/bin/npx.js", 0o755, False),
        ("Windows/System32/tool.exe", 0o644, True),
        ("app/Tool.EXE", 0, True),
        ("etc/passwd", 0o644, False),
        ("var/lib/dpkg/status", 0, False),
    ],
)
def test_executable_candidate(path, mode, wanted):
    assert executable_candidate(path, mode) is wanted


def test_executable_magic_covers_every_format():
    heads = [build_elf([])[:8], build_macho([])[:8], build_macho([], bits=32, big_endian=True)[:8], b"MZ\0\0"]
    heads.append(build_fat([build_macho([])])[:8])
    heads.append(build_pe([])[:8])
    assert all(head.startswith(EXECUTABLE_MAGIC) for head in heads)
    assert not b"#!/bin/sh".startswith(EXECUTABLE_MAGIC)
