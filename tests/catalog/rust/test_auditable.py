import contextlib
import json
import tracemalloc
import zlib

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

from ci_security.catalog.rust.auditable import RustAuditableCataloger, decompress
from ci_security.errors import CatalogError

TREE = {
    "packages": [
        {"name": "app", "version": "1.4.0", "source": "local", "dependencies": [1, 2, 3], "root": True},
        {"name": "serde", "version": "1.0.203", "source": "crates.io", "kind": "runtime"},
        {"name": "regex", "version": "1.10.4", "source": "crates.io", "dependencies": [4]},
        {"name": "cc", "version": "1.0.98", "source": "crates.io", "kind": "build"},
        {"name": "fork", "version": "0.3.0", "source": "git"},
    ]
}
TREE_PACKAGES = {("app", "1.4.0"), ("serde", "1.0.203"), ("regex", "1.10.4"), ("fork", "0.3.0")}


def section(document: object) -> bytes:
    return zlib.compress(json.dumps(document).encode())


def elf_with(payload: bytes, **kwargs) -> bytes:
    return build_elf(
        [ElfSection(".text", b"\xc3" * 16, 0x1000, 0x6), ElfSection(".dep-v0", payload, **kwargs)]
    )


@pytest.fixture(params=[True, False], ids=["seekable", "stream"])
def seekable(request):
    return request.param


def _catalog(data: bytes, tmp_path, seekable: bool = True, path: str = "usr/bin/app"):
    return (
        RustAuditableCataloger().catalog(catalog_input(data, tmp_path, seekable=seekable, path=path)).packages
    )


def _pairs(packages) -> set[tuple[str, str]]:
    assert all(p.type == "cargo" for p in packages)
    return {(p.name, p.version) for p in packages}


def test_cataloger_declares_itself():
    cat = RustAuditableCataloger()
    assert (cat.name, cat.version, cat.kind) == ("rust/cargo-auditable", 1, "language")
    assert b"\x7fELF" in cat.magic and b"MZ" in cat.magic


def test_fixture(pkgdb, tmp_path, seekable):
    data = (pkgdb / "rust/executable_rust").read_bytes()
    packages = _catalog(data, tmp_path, seekable, path="usr/local/bin/crate_with_features")
    assert _pairs(packages) == {("crate_with_features", "0.1.0"), ("library_crate", "0.1.0")}
    assert len(packages) == 2
    assert all(p.path == "/usr/local/bin/crate_with_features" for p in packages)
    assert all(not p.purl and p.layer is None and not p.found_by for p in packages)


@pytest.mark.parametrize(("bits", "big_endian"), [(64, False), (32, True)])
def test_build_dependencies_are_left_out(tmp_path, seekable, bits, big_endian):
    data = build_elf([ElfSection(".dep-v0", section(TREE))], bits=bits, big_endian=big_endian)
    assert _pairs(_catalog(data, tmp_path, seekable)) == TREE_PACKAGES


def test_macho_section_in_data_segment(tmp_path, seekable):
    macho = build_macho(
        [
            MachoSection("__TEXT", "__text", b"\xc3" * 16, 0x100001000),
            MachoSection("__DATA", ".dep-v0", section(TREE), 0x100200000),
        ],
        writable=("__DATA",),
    )
    assert _pairs(_catalog(macho, tmp_path, seekable)) == TREE_PACKAGES
    assert _pairs(_catalog(build_fat([macho]), tmp_path, seekable)) == TREE_PACKAGES
    elsewhere = build_macho([MachoSection("__TEXT", ".dep-v0", section(TREE), 0x1000)])
    assert _catalog(elsewhere, tmp_path) == ()


def test_pe_section(tmp_path, seekable):
    pe = build_pe(
        [PeSection(".text", b"\xcc" * 16, 0x1000, 0x60000020), PeSection(".dep-v0", section(TREE), 0x2000)]
    )
    assert _pairs(_catalog(pe, tmp_path, seekable, path="app/tool.exe")) == TREE_PACKAGES


def test_trailing_padding_after_the_stream_is_ignored(tmp_path):
    assert _pairs(_catalog(elf_with(section(TREE) + bytes(64)), tmp_path)) == TREE_PACKAGES


def test_empty_package_list(tmp_path):
    assert _catalog(elf_with(section({"packages": []})), tmp_path) == ()


@pytest.mark.parametrize(
    "data",
    [b"#!/bin/sh\necho hi\n", b"text\n", b"", b"MZ text\n"],
)
def test_non_binaries_yield_nothing(tmp_path, seekable, data):
    assert _catalog(data, tmp_path, seekable) == ()


def test_executables_without_the_section_yield_nothing(pkgdb, tmp_path):
    assert _catalog((pkgdb / "go/executable_gobinary").read_bytes(), tmp_path) == ()
    assert _catalog(build_elf([ElfSection(".data", b"x", 0x1000, DATA_FLAGS)]), tmp_path) == ()
    assert _catalog(build_pe([PeSection(".data", b"x", 0x1000)]), tmp_path) == ()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not zlib at all", "not a zlib stream"),
        (section(TREE)[:-8], "truncated"),
        (b"", "truncated"),
        (zlib.compress(b"{not json"), "invalid JSON"),
        (zlib.compress(b"\xff\xfe"), "not UTF-8"),
        (section(["packages"]), '"packages" list'),
        (section({"packages": {"name": "x"}}), '"packages" list'),
        (section({"packages": ["x"]}), "not an object"),
        (section({"packages": [{"name": "x"}]}), "lacks a name or version"),
        (section({"packages": [{"name": 3, "version": "1"}]}), "lacks a name or version"),
    ],
)
def test_malformed_section_is_a_catalog_error(tmp_path, payload, message):
    with pytest.raises(CatalogError, match=message):
        _catalog(elf_with(payload), tmp_path)


def test_section_past_end_of_file_is_a_catalog_error(tmp_path):
    with pytest.raises(CatalogError, match="unreadable"):
        _catalog(elf_with(section(TREE), offset=1 << 40), tmp_path)
    with pytest.raises(CatalogError, match="over the"):
        _catalog(elf_with(section(TREE), size=1 << 40), tmp_path)


def test_zlib_bomb_is_refused_without_inflating_it(tmp_path):
    packer = zlib.compressobj(9)
    zeros = bytes(1 << 20)
    bomb = b"".join(packer.compress(zeros) for _ in range(64)) + packer.flush()  # 64 MiB in ~64 KiB
    data = elf_with(bomb)
    tracemalloc.start()
    try:
        with pytest.raises(CatalogError, match="inflates to more than"):
            _catalog(data, tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20


def test_decompress_limit():
    assert decompress(zlib.compress(b"x" * 100), limit=100) == b"x" * 100
    with pytest.raises(CatalogError):
        decompress(zlib.compress(b"x" * 101), limit=100)


@pytest.mark.timeout(120)
def test_fuzzed_rust_binaries_fail_cleanly(tmp_path, pkgdb):
    samples = [
        elf_with(section(TREE)),
        build_macho([MachoSection("__DATA", ".dep-v0", section(TREE), 0x4000)], writable=("__DATA",)),
        build_pe([PeSection(".dep-v0", section(TREE), 0x2000)]),
    ]
    tracemalloc.start()
    try:
        for seed, sample in enumerate(samples):
            for corrupt in mutations(sample, 300, seed=seed, span=len(sample)):
                with contextlib.suppress(CatalogError):
                    _catalog(corrupt, tmp_path)
        fixture = (pkgdb / "rust/executable_rust").read_bytes()
        for cut in (64, 0x4F523 + 10, 0x4F523 + 0x76, len(fixture) - 100):
            with contextlib.suppress(CatalogError):
                _catalog(fixture[:cut], tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20


@pytest.mark.parametrize(
    ("path", "mode", "wanted"),
    [
        ("usr/local/cargo/bin/ripgrep", 0o755, True),
        ("usr/bin/app", 0o644, False),
        ("usr/local/bin/run.sh", 0o755, False),
        ("usr/share/cargo/registry/tool", 0o755, False),
        ("C/tools/app.exe", 0o644, True),
    ],
)
def test_file_required(path, mode, wanted):
    assert RustAuditableCataloger().file_required(path, mode) is wanted
