"""Rust executables built with `cargo auditable`: the crate list embedded in a `.dep-v0` section.

Plain `cargo build` records nothing about dependencies in the binary; `cargo auditable build` adds a
section (`.dep-v0` in ELF and PE, section `.dep-v0` of segment `__DATA` in Mach-O) holding
zlib-compressed JSON:

    {"packages": [{"name": "...", "version": "...", "source": "crates.io",
                   "kind": "runtime", "dependencies": [1, 2], "root": true}, ...]}

`source` is `crates.io`, `git`, `local`, `registry` or another string; `kind` defaults to `runtime`;
`dependencies` are indices into the list. Every package is reported (type `cargo`) except those of
kind `build`: build scripts and proc-macros' own dependencies run at compile time and are not in
the binary. The root crate is reported too; it is usually `local`, but it is what the binary is.

An executable without the section yields nothing: most Rust binaries are not built this way, and
most executables are not Rust. A present section that does not decompress, decompresses to more
than 8 MiB (the section is normally under 4 KiB, so that is a zip bomb), or is not the JSON above
raises CatalogError. The JSON is decoded by `catalog.bounded.load_json`, lists at most
`package_entries` packages, and the strings reported are made valid text (a lone surrogate escape
becomes U+FFFD).
"""

from __future__ import annotations

import zlib
from typing import Any, ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput, seekable
from ci_security.catalog.binfmt import (
    EXECUTABLE_MAGIC,
    Binary,
    BinaryFormatError,
    Section,
    executable_candidate,
    parse_binary,
)
from ci_security.catalog.bounded import Entries, load_json, text
from ci_security.errors import CatalogError
from ci_security.models import Package

SECTION = ".dep-v0"
# Mach-O section names are the same string inside segment `__DATA`; `__dep_v0` is accepted as well,
# in case a toolchain spells it the Mach-O way.
_MACHO_SEGMENT = "__DATA"
_MACHO_NAMES = (SECTION, "__dep_v0")
MAX_COMPRESSED = 8 << 20
MAX_JSON = 8 << 20


def _find_section(binary: Binary) -> Section | None:
    if binary.format != "macho":
        return binary.section(SECTION)
    for name in _MACHO_NAMES:
        sec = binary.section(name, _MACHO_SEGMENT)
        if sec is not None:
            return sec
    return None


def decompress(data: bytes, limit: int = MAX_JSON) -> bytes:
    """The zlib stream in `data`, inflated to at most `limit` bytes (CatalogError beyond, or when the
    stream is corrupt or cut short).
    """
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise CatalogError(f"{SECTION} is not a zlib stream: {exc}") from None
    if len(out) > limit:
        raise CatalogError(f"{SECTION} inflates to more than {limit} bytes")
    if not inflater.eof:
        raise CatalogError(f"{SECTION} holds a truncated zlib stream")
    return out


def parse_packages(document: bytes, path: str) -> tuple[Package, ...]:
    """The runtime packages of a cargo-auditable JSON document."""
    tree: Any = load_json(document, SECTION)
    entries = tree.get("packages") if isinstance(tree, dict) else None
    if not isinstance(entries, list):
        raise CatalogError(f'{SECTION} JSON has no "packages" list')
    Entries("packages").add(len(entries))
    packages = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise CatalogError(f"{SECTION} package #{index} is not an object")
        name, version, kind = entry.get("name"), entry.get("version"), entry.get("kind", "runtime")
        if not isinstance(name, str) or not name or not isinstance(version, str):
            raise CatalogError(f"{SECTION} package #{index} lacks a name or version")
        if kind == "build":
            continue
        packages.append(Package(name=text(name), version=text(version), type="cargo", path=path))
    return tuple(packages)


class RustAuditableCataloger:
    """Crates compiled into Rust executables built with `cargo auditable`."""

    name: ClassVar[str] = "rust/cargo-auditable"
    version: ClassVar[int] = 1
    kind: ClassVar[CatalogerKind] = "language"
    max_file_size: ClassVar[int] = 1 << 30
    magic: ClassVar[tuple[bytes, ...]] = EXECUTABLE_MAGIC

    def file_required(self, path: str, mode: int) -> bool:
        return executable_candidate(path, mode)

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        with seekable(inp) as stream:
            try:
                binary = parse_binary(stream)
            except BinaryFormatError:
                return CatalogOutput()  # a broken executable header says nothing about cargo-auditable
            if binary is None:
                return CatalogOutput()
            section = _find_section(binary)
            if section is None:
                return CatalogOutput()
            try:
                compressed = binary.read_section(section, MAX_COMPRESSED)
            except BinaryFormatError as exc:
                raise CatalogError(f"{SECTION} is unreadable: {exc}") from None
        return CatalogOutput(packages=parse_packages(decompress(compressed), "/" + inp.path))
