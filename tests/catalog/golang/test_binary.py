import contextlib
import struct
import tracemalloc

import pytest
from testkit.binaries import (
    DATA_FLAGS,
    ElfSection,
    MachoSection,
    PeSection,
    build_elf,
    build_fat,
    build_macho,
    build_pe,
    catalog_input,
    mutations,
)

from ci_security.catalog.golang.binary import (
    MAGIC,
    GoBinaryCataloger,
    Module,
    parse_modinfo,
    stdlib_version,
)
from ci_security.errors import CatalogError

FIXTURE_PACKAGES = {
    ("github.com/aquasecurity/test", ""),
    ("github.com/aquasecurity/go-pep440-version", "v0.0.0-20210121094942-22b2f8951d46"),
    ("github.com/aquasecurity/go-version", "v0.0.0-20210121072130-637058cfe492"),
    ("golang.org/x/xerrors", "v0.0.0-20200804184101-5ec99f83aff1"),
    ("stdlib", "v1.15.2"),
}

MODINFO = (
    "path\texample.com/app/cmd/app\n"
    "mod\texample.com/app\t(devel)\t\n"
    "dep\tgithub.com/a/b\tv1.2.3\th1:abc=\n"
    "dep\tgithub.com/old/c\tv1.0.0\n"
    "=>\tgithub.com/fork/c\tv1.0.1-fork\th1:def=\n"
    "dep\tgithub.com/local/d\tv0.1.0\n"
    "=>\t../d\t\t\n"
    "dep\tgolang.org/x/sys\tv0.20.0\th1:xyz=\n"
    "build\t-compiler=gc\n"
    "build\tCGO_ENABLED=0\n"
)
MODINFO_PACKAGES = {
    ("example.com/app", ""),
    ("github.com/a/b", "v1.2.3"),
    ("github.com/fork/c", "v1.0.1-fork"),
    # github.com/local/d is replaced by the directory ../d: local code, not reported.
    ("golang.org/x/sys", "v0.20.0"),
}
GO_VERSION = "go1.22.3 X:boringcrypto"
SENTINEL_START = bytes(range(0x30, 0x40))
SENTINEL_END = bytes(range(0xF0, 0x100))


def uvarint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def wrap(modinfo: str) -> bytes:
    return SENTINEL_START + modinfo.encode() + SENTINEL_END


def inline_info(version: str = GO_VERSION, modinfo: str = MODINFO, *, ptr_size: int = 8) -> bytes:
    """Go 1.18+ layout: header with the inline flag, then two varint-prefixed strings."""
    mod = wrap(modinfo) if modinfo else b""
    header = MAGIC + bytes([ptr_size, 0x2]) + bytes(16)
    return header + uvarint(len(version)) + version.encode() + uvarint(len(mod)) + mod


def pointer_elf(
    version: str = "go1.16.15",
    modinfo: str = MODINFO,
    *,
    bits: int = 32,
    big_endian: bool = True,
    segments: bool = False,
    pointers: tuple[int, int] | None = None,
    lengths: tuple[int, int] | None = None,
) -> bytes:
    """Go 1.13-1.17 layout: the header's two pointers lead to string headers in .data, whose pointers
    lead to the bytes in .rodata. `pointers` and `lengths` override the real ones, to point nowhere.
    """
    end = ">" if big_endian else "<"
    word = "Q" if bits == 64 else "I"
    ptr_size = 8 if bits == 64 else 4
    mod = wrap(modinfo)
    version_len, mod_len = lengths or (len(version), len(mod))
    first, second = pointers or (0x2000, 0x2000 + 2 * ptr_size)
    header = MAGIC + bytes([ptr_size, 1 if big_endian else 0]) + struct.pack(end + word * 2, first, second)
    header += bytes(32 - len(header))
    string_headers = struct.pack(end + word * 4, 0x3000, version_len, 0x3100, mod_len)
    rodata = version.encode().ljust(0x100, b"\0") + mod
    return build_elf(
        [
            ElfSection(".go.buildinfo", header, 0x1000, DATA_FLAGS),
            ElfSection(".data", string_headers, 0x2000, DATA_FLAGS),
            ElfSection(".rodata", rodata, 0x3000),
        ],
        bits=bits,
        big_endian=big_endian,
        segments=segments,
    )


@pytest.fixture(params=[True, False], ids=["seekable", "stream"])
def seekable(request):
    return request.param


def _catalog(data: bytes, tmp_path, seekable: bool = True, path: str = "usr/bin/app"):
    return GoBinaryCataloger().catalog(catalog_input(data, tmp_path, seekable=seekable, path=path)).packages


def _pairs(packages) -> set[tuple[str, str]]:
    assert all(p.type == "golang" for p in packages)
    return {(p.name, p.version) for p in packages}


def test_cataloger_declares_itself():
    cat = GoBinaryCataloger()
    assert (cat.name, cat.version, cat.kind) == ("golang/binary", 1, "language")
    assert b"\x7fELF" in cat.magic and b"MZ" in cat.magic


def test_fixture_go_1_15(pkgdb, tmp_path, seekable):
    data = (pkgdb / "go/executable_gobinary").read_bytes()
    packages = _catalog(data, tmp_path, seekable, path="usr/local/bin/test")
    assert len(packages) == 5
    assert _pairs(packages) == FIXTURE_PACKAGES
    assert all(p.path == "/usr/local/bin/test" for p in packages)
    assert all(not p.purl and p.layer is None and not p.found_by for p in packages)


def test_inline_elf64_with_replacements(tmp_path, seekable):
    data = build_elf([ElfSection(".go.buildinfo", inline_info(), 0x500000, DATA_FLAGS)])
    packages = _catalog(data, tmp_path, seekable)
    assert _pairs(packages) == MODINFO_PACKAGES | {("stdlib", "v1.22.3")}
    assert packages[0].name == "example.com/app"  # the main module leads


def test_inline_elf32_big_endian(tmp_path, seekable):
    info = MAGIC + bytes([4, 0x3]) + bytes(16)  # inline + big-endian flags
    info += uvarint(9) + b"go1.18.10" + uvarint(len(wrap(MODINFO))) + wrap(MODINFO)
    data = build_elf([ElfSection(".go.buildinfo", info, 0x9000, DATA_FLAGS)], bits=32, big_endian=True)
    assert _pairs(_catalog(data, tmp_path, seekable)) == MODINFO_PACKAGES | {("stdlib", "v1.18.10")}


@pytest.mark.parametrize(
    ("bits", "big_endian", "segments"), [(32, True, False), (64, False, True), (64, True, False)]
)
def test_pointer_format_before_go_1_18(tmp_path, bits, big_endian, segments):
    data = pointer_elf(bits=bits, big_endian=big_endian, segments=segments)
    assert _pairs(_catalog(data, tmp_path)) == MODINFO_PACKAGES | {("stdlib", "v1.16.15")}


def test_elf_without_section_headers_is_scanned(tmp_path):
    # strip --strip-section-headers: only PT_LOAD remains; the header is found at an aligned address.
    decoy = bytes(4) + MAGIC + bytes([8, 2]) + b"\xff" * 20  # at a misaligned address: ignored
    data_seg = decoy.ljust(0x40, b"\0") + inline_info("go1.21.0", "")
    data = build_elf(
        [
            ElfSection(".text", b"\xc3" * 64, 0x401000, 0x6),
            ElfSection(".data", data_seg, 0x600000, DATA_FLAGS),
        ],
        segments=True,
        section_headers=False,
    )
    assert _pairs(_catalog(data, tmp_path)) == {("stdlib", "v1.21.0")}


def test_macho_go_buildinfo(tmp_path, seekable):
    data = build_macho(
        [
            MachoSection("__TEXT", "__text", b"\xc3" * 32, 0x100001000),
            MachoSection("__DATA", "__go_buildinfo", inline_info(), 0x100200000),
        ],
        writable=("__DATA",),
    )
    assert _pairs(_catalog(data, tmp_path, seekable)) == MODINFO_PACKAGES | {("stdlib", "v1.22.3")}
    fat = build_fat([data])
    assert _pairs(_catalog(fat, tmp_path, seekable)) == MODINFO_PACKAGES | {("stdlib", "v1.22.3")}


def test_pe_build_info_at_start_of_data(tmp_path, seekable):
    # Go's PE linker puts the build info at the start of the first writable data section, unnamed.
    data = build_pe(
        [
            PeSection(".text", b"\xcc" * 64, 0x1000, 0x60000020),
            PeSection(".rdata", b"read-only", 0x2000, 0x40000040),
            PeSection(".data", inline_info() + bytes(100), 0x3000),
        ]
    )
    packages = _catalog(data, tmp_path, seekable, path="app/tool.exe")
    assert _pairs(packages) == MODINFO_PACKAGES | {("stdlib", "v1.22.3")}
    assert packages[0].path == "/app/tool.exe"


def test_pe_named_section_via_string_table(tmp_path):
    data = build_pe(
        [PeSection(".go.buildinfo", inline_info(), 0x5000, 0x40000040)], pe32plus=False, image_base=0x400000
    )
    assert _pairs(_catalog(data, tmp_path)) == MODINFO_PACKAGES | {("stdlib", "v1.22.3")}


def test_binary_built_outside_module_mode_has_only_stdlib(tmp_path):
    data = build_elf([ElfSection(".go.buildinfo", inline_info("go1.20.1", ""), 0x1000, DATA_FLAGS)])
    assert _pairs(_catalog(data, tmp_path)) == {("stdlib", "v1.20.1")}


def test_development_toolchain_has_no_stdlib(tmp_path):
    info = inline_info("devel go1.23-1e3b1a7 Tue Apr 2 10:00:00 2024 +0000")
    data = build_elf([ElfSection(".go.buildinfo", info, 0x1000, DATA_FLAGS)])
    assert _pairs(_catalog(data, tmp_path)) == MODINFO_PACKAGES


@pytest.mark.parametrize(
    ("go_version", "expected"),
    [
        ("go1.15.2", "v1.15.2"),
        ("go1.22.3 X:boringcrypto", "v1.22.3"),
        ("go1.21rc2", "v1.21rc2"),
        ("go1.24.0\tX:nocoverageredesign", "v1.24.0"),
        ("devel go1.23-1e3b1a7 Tue Apr 2 2024", None),
        ("devel +b7a85e0003 Tue", None),
        ("", None),
        ("gox", None),
    ],
)
def test_stdlib_version(go_version, expected):
    assert stdlib_version(go_version) == expected


def test_parse_modinfo_edge_cases():
    text = (
        "=>\torphan/replacement\tv1\n"  # nothing above it to replace
        "mod\tmain.example/m\tv1.0.0\th1:x\n"
        "=>\tmain.example/fork\tv1.0.1\n"
        "dep\t\tv0.0.0\n"  # an empty path (old toolchains) is skipped
        "dep\ta.example/x\tv1.0.0\n"
        "=>\tshared.example/fork\tv2.0.0\n"
        "dep\tb.example/y\tv1.0.0\n"
        "=>\tshared.example/fork\tv2.0.0\n"
        "build\tGOOS=linux\n"
        "=>\tafter/build\tv9\n"  # a replacement must follow its module line
        "garbage line without tabs\n"
        "dep\tc.example/z\n"  # no version column
    )
    main, deps = parse_modinfo(text)
    assert main == Module("main.example/fork", "v1.0.1")
    assert deps == (Module("shared.example/fork", "v2.0.0"), Module("c.example/z", ""))


def test_modinfo_without_sentinels_is_still_read(tmp_path):
    mod = b"mod\tx.example/m\tv1.2.3\t\n"
    info = MAGIC + bytes([8, 2]) + bytes(16) + uvarint(8) + b"go1.19.1" + uvarint(len(mod)) + mod
    data = build_elf([ElfSection(".go.buildinfo", info, 0x1000, DATA_FLAGS)])
    assert _pairs(_catalog(data, tmp_path)) == {("x.example/m", "v1.2.3"), ("stdlib", "v1.19.1")}


# --------------------------------------------------------------------------------- not Go, or broken


@pytest.mark.parametrize(
    "data",
    [
        b'#!/bin/sh\nexec /usr/bin/app "$@"\n',
        b"plain text with an execute bit\n",
        b"",
        b"MZ but not really\n",
    ],
)
def test_non_binaries_yield_nothing(tmp_path, seekable, data):
    assert _catalog(data, tmp_path, seekable) == ()


def test_other_executables_yield_nothing(pkgdb, tmp_path):
    rust = (pkgdb / "rust/executable_rust").read_bytes()
    assert _catalog(rust, tmp_path) == ()
    plain = build_elf([ElfSection(".data", b"no go here" * 10, 0x1000, DATA_FLAGS)], segments=True)
    assert _catalog(plain, tmp_path) == ()
    assert _catalog(build_pe([PeSection(".data", bytes(64), 0x1000)]), tmp_path) == ()


def _go_elf(info: bytes, **kwargs) -> bytes:
    return build_elf([ElfSection(".go.buildinfo", info, 0x1000, DATA_FLAGS, **kwargs)])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_go_elf(bytes(32)), "no Go build info magic"),
        (_go_elf(inline_info(), offset=1 << 40), "past the end"),
        (_go_elf(MAGIC + bytes([3, 0]) + bytes(16)), "pointer size 3"),
        (_go_elf(MAGIC + bytes([8, 2]) + bytes(16) + b"\xff" * 12), "varint"),
        (_go_elf(MAGIC + bytes([8, 2]) + bytes(16) + uvarint(1 << 40) + b"go"), "runs past"),
        (_go_elf(MAGIC + bytes([8, 2]) + bytes(16) + uvarint(200) + b"go1.22"), "runs past"),
        (_go_elf(MAGIC + bytes([8, 2]) + bytes(16) + uvarint(0) + uvarint(0)), "no Go version"),
        (_go_elf(MAGIC + bytes([8, 2]) + bytes(16)), "varint"),  # strings missing altogether
        (_go_elf(MAGIC + bytes([8, 2])), "cut off"),
        (pointer_elf(pointers=(0x7000, 0x7010)), "not backed by file data"),
        (pointer_elf(lengths=(1 << 31, 10)), "implausibly long"),
        (pointer_elf(lengths=(9, 1 << 20)), "not backed by file data"),
    ],
)
def test_corrupt_build_info_is_a_catalog_error(tmp_path, data, message):
    with pytest.raises(CatalogError, match=message):
        _catalog(data, tmp_path)


@pytest.mark.timeout(120)
def test_fuzzed_go_binaries_fail_cleanly(tmp_path, pkgdb):
    samples = [
        build_elf([ElfSection(".go.buildinfo", inline_info(), 0x1000, DATA_FLAGS)], segments=True),
        pointer_elf(),
        build_macho([MachoSection("__DATA", "__go_buildinfo", inline_info(), 0x4000)], writable=("__DATA",)),
        build_pe([PeSection(".data", inline_info(), 0x3000)]),
    ]
    tracemalloc.start()
    try:
        for seed, sample in enumerate(samples):
            for corrupt in mutations(sample, 300, seed=seed, span=len(sample)):
                with contextlib.suppress(CatalogError):
                    _catalog(corrupt, tmp_path)
        fixture = (pkgdb / "go/executable_gobinary").read_bytes()
        for cut in (64, 0x1C8, 0x1C8 + 64 * 10, 0x19E000 + 20, 0x19E000 + 0x20, 0x1AE520 + 0x100):
            with contextlib.suppress(CatalogError):
                _catalog(fixture[:cut], tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20


@pytest.mark.parametrize(
    ("path", "mode", "wanted"),
    [
        ("usr/local/bin/kubectl", 0o755, True),
        ("app/server", 0o700, True),
        ("usr/local/bin/kubectl", 0o644, False),
        ("usr/local/bin/entrypoint.sh", 0o755, False),
        ("usr/lib/python3/dist-packages/x.py", 0o755, False),
        ("usr/share/bash-completion/helper", 0o755, False),
        ("Program Files/tool/tool.exe", 0o644, True),
    ],
)
def test_file_required(path, mode, wanted):
    assert GoBinaryCataloger().file_required(path, mode) is wanted
