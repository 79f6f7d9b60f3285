r"""Go executables: the build information the Go linker (1.13 and later) embeds in every binary.

Where: the `.go.buildinfo` section (ELF, PE), `__go_buildinfo` (Mach-O). Binaries without such a
section (stripped section headers; PE, where Go puts it at the start of `.data`) are searched the way
Go's own `debug/buildinfo` does: the writable data is scanned for the magic at a 16-byte-aligned
address.

The 32-byte header is the 14-byte magic `\xff Go buildinf:`, a pointer-size byte and a flags byte.
- Flag 2 set (Go 1.18+): the Go version and the module information follow the header inline, each
  as a varint length and that many bytes.
- Otherwise (Go 1.13 to 1.17): two pointers at offset 16, in the pointer size and byte order the
  header gives (flag 1 = big-endian), to Go string headers (data pointer, length), which in turn point
  at the bytes. Both hops are virtual addresses, mapped through the segments.

The module information is text, usually between two 16-byte sentinels, one record per line:
`path <main package>`, `mod <path> <version> <sum>` (the main module), `dep <path> <version> <sum>`,
and `=> <path> <version> <sum>`, which replaces the `mod`/`dep` line above it. What ran is the
replacement, so that is reported (as Trivy does); a dependency replaced by a local directory
(`=> ../fork`) is local code and is not reported.

Packages (type `golang`): the main module, its version empty when Go recorded `(devel)` (a build from
a checkout, which says nothing comparable); every dependency; and `stdlib` at the Go version, as a
module version (`go1.15.2` → `v1.15.2`, build tags such as ` X:boringcrypto` dropped), so the standard
library is matched against Go advisories like any module. A development toolchain (`devel ...`)
has no release version, so no `stdlib` is reported for it.

A file that is not an executable, or an executable without the magic (C programs, Go before 1.13),
yields nothing. A file with the magic whose build information cannot be read raises CatalogError.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput, seekable
from ci_security.catalog.binfmt import (
    EXECUTABLE_MAGIC,
    Binary,
    BinaryFormatError,
    Section,
    executable_candidate,
    parse_binary,
)
from ci_security.catalog.bounded import Entries
from ci_security.errors import CatalogError
from ci_security.models import Package

MAGIC = b"\xff Go buildinf:"
_HEADER_SIZE = 32
_ALIGN = 16
_FLAG_BIG_ENDIAN = 0x1
_FLAG_INLINE = 0x2
# Real module lists are tens of kilobytes (Kubernetes: ~30 KiB); anything near this is not one.
_MAX_STRING = 8 << 20
# How much writable data to search when there is no build-info section; Go puts it first.
_SCAN_BUDGET = 16 << 20
_SCAN_CHUNK = 1 << 20
_SENTINEL_SIZE = 16
_DEVEL = "(devel)"


@dataclass(frozen=True, slots=True)
class Module:
    path: str
    version: str


@dataclass(frozen=True, slots=True)
class BuildInfo:
    """What a Go binary says about itself: the toolchain version, the main module (None when built
    outside module mode) and the dependency modules, replacements already applied.
    """

    go_version: str
    main: Module | None
    deps: tuple[Module, ...]


def parse_modinfo(text: str) -> tuple[Module | None, tuple[Module, ...]]:
    """The main module and dependencies of a module-information text (sentinels already removed).

    Lines this does not know (`path`, `build` settings, future records) are skipped, as are
    malformed ones: the rest of the list is still worth reporting. More than `package_entries`
    dependencies is a `CatalogError`.
    """
    main: Module | None = None
    deps: list[Module] = []
    entries = Entries("Go module list")
    # What a `=>` line replaces: "main", a position in `deps`, or None after any other line.
    last: str | int | None = None
    for line in text.splitlines():
        word, _, rest = line.partition("\t")
        fields = rest.split("\t")
        module = Module(fields[0], fields[1] if len(fields) > 1 else "") if fields[0] else None
        if word == "mod":
            main, last = module, ("main" if module else None)
        elif word == "dep":
            if module is None:
                last = None
                continue
            entries.add()
            deps.append(module)
            last = len(deps) - 1
        elif word == "=>":
            if module is not None:
                if last == "main":
                    main = module
                elif isinstance(last, int):
                    deps[last] = module
            last = None
        else:
            last = None
    # A dependency replaced by a directory (`=> ../fork`) is local code, not a published module:
    # no advisory is about it, and reporting the path as a module name would only confuse matching.
    kept = [dep for dep in deps if not dep.path.startswith((".", "/"))]
    unique = tuple(dict.fromkeys(kept))  # two modules replaced by the same fork are one module
    return main, unique


def stdlib_version(go_version: str) -> str | None:
    """`go1.15.2` → `v1.15.2`, `go1.22.3 X:boringcrypto` → `v1.22.3`; None for `devel ...` and junk."""
    release = go_version.split(maxsplit=1)[0] if go_version.strip() else ""
    if not release.startswith("go") or len(release) < 3 or not release[2].isdigit():
        return None
    return "v" + release[2:]


def read_build_info(binary: Binary) -> BuildInfo | None:
    """The build information of a parsed executable, or None when it has none (not a Go binary).
    Raises CatalogError when the magic is there but what follows cannot be read.
    """
    found = _locate(binary)
    if found is None:
        return None
    region, offset = found
    end = min(region.offset + region.size, binary.file_size)
    try:
        if offset + _HEADER_SIZE > end:
            raise CatalogError(f"Go build info header at {offset:#x} is cut off by the end of its section")
        header = binary.read_at(offset, _HEADER_SIZE)
        ptr_size, flags = header[14], header[15]
        if flags & _FLAG_INLINE:
            pos = offset + _HEADER_SIZE
            version, pos = _inline_string(binary, pos, end)
            modinfo, _ = _inline_string(binary, pos, end)
        else:
            if ptr_size not in (4, 8):
                raise CatalogError(f"Go build info has pointer size {ptr_size}, not 4 or 8")
            order = ">" if flags & _FLAG_BIG_ENDIAN else "<"
            word = "Q" if ptr_size == 8 else "I"
            version_ptr, modinfo_ptr = struct.unpack_from(order + word * 2, header, 16)
            version = _pointed_string(binary, version_ptr, ptr_size, order + word * 2)
            modinfo = _pointed_string(binary, modinfo_ptr, ptr_size, order + word * 2)
    except BinaryFormatError as exc:
        raise CatalogError(f"Go build info is unreadable: {exc}") from None
    if not version:
        raise CatalogError("Go build info has no Go version")
    main, deps = parse_modinfo(_strip_sentinels(modinfo).decode("utf-8", "replace"))
    return BuildInfo(version.decode("utf-8", "replace"), main, deps)


def _locate(binary: Binary) -> tuple[Section, int] | None:
    """The region holding the build info and the file offset of its header, if any."""
    named = binary.section("__go_buildinfo" if binary.format == "macho" else ".go.buildinfo")
    if named is not None:
        if named.offset + named.size > binary.file_size:
            raise CatalogError(f"section {named.name} extends past the end of the file")
        offset = _scan(binary, named, _SCAN_BUDGET)
        if offset is None:
            raise CatalogError(f"section {named.name} holds no Go build info magic")
        return named, offset
    # No named section: search writable data, as Go's reader does. Prefer the loader's view.
    candidates = [s for s in binary.segments if s.writable and s.size] or [
        s for s in binary.sections if s.writable and s.size
    ]
    budget = _SCAN_BUDGET
    for region in candidates:
        if budget <= 0:
            break
        offset = _scan(binary, region, budget)
        if offset is not None:
            return region, offset
        budget -= region.size
    return None


def _scan(binary: Binary, region: Section, budget: int) -> int | None:
    """The file offset of the first magic in `region` at a 16-byte-aligned virtual address."""
    start = region.offset
    end = min(start + region.size, start + budget, binary.file_size)
    pos = start
    while pos < end:
        # Overlap chunks by the magic's length less one so a magic across a boundary is seen.
        chunk = binary.read_at(pos, min(_SCAN_CHUNK + len(MAGIC) - 1, end - pos))
        hit = chunk.find(MAGIC)
        while hit >= 0:
            if (region.addr + pos + hit - start) % _ALIGN == 0:
                return pos + hit
            hit = chunk.find(MAGIC, hit + 1)
        pos += _SCAN_CHUNK
    return None


def _inline_string(binary: Binary, pos: int, end: int) -> tuple[bytes, int]:
    """A varint-length-prefixed string at file offset `pos`, which must end by `end`."""
    raw = binary.read_at(pos, min(10, max(0, end - pos)))
    length = 0
    for i, byte in enumerate(raw):
        length |= (byte & 0x7F) << (7 * i)
        if byte < 0x80:
            pos += i + 1
            break
    else:
        raise CatalogError("Go build info has a truncated or overlong length varint")
    if length > _MAX_STRING or pos + length > end:
        raise CatalogError(f"Go build info string of {length} bytes runs past its section")
    return binary.read_at(pos, length), pos + length


def _pointed_string(binary: Binary, ptr: int, ptr_size: int, header_fmt: str) -> bytes:
    """A Go string whose header (data pointer, length) is at virtual address `ptr`."""
    data_ptr, length = struct.unpack(header_fmt, binary.read_vaddr(ptr, 2 * ptr_size))
    if length > _MAX_STRING:
        raise CatalogError(f"Go build info string of {length} bytes is implausibly long")
    return binary.read_vaddr(data_ptr, length) if length else b""


def _strip_sentinels(modinfo: bytes) -> bytes:
    # Go brackets the text with 16 random-looking bytes on each side so the linker can find it;
    # the text itself always ends in a newline, just before the closing sentinel.
    if len(modinfo) >= 2 * _SENTINEL_SIZE + 1 and modinfo[-_SENTINEL_SIZE - 1] == ord("\n"):
        return modinfo[_SENTINEL_SIZE:-_SENTINEL_SIZE]
    return modinfo


def _packages(info: BuildInfo, path: str) -> Iterator[Package]:
    if info.main is not None:
        version = "" if info.main.version == _DEVEL else info.main.version
        yield Package(name=info.main.path, version=version, type="golang", path=path)
    for dep in info.deps:
        yield Package(name=dep.path, version=dep.version, type="golang", path=path)
    stdlib = stdlib_version(info.go_version)
    if stdlib is not None:
        yield Package(name="stdlib", version=stdlib, type="golang", path=path)


class GoBinaryCataloger:
    """Modules compiled into Go executables (the main module first, then dependencies, then stdlib)."""

    name: ClassVar[str] = "golang/binary"
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
                return CatalogOutput()  # a broken executable header says nothing about Go
            if binary is None:
                return CatalogOutput()
            info = read_build_info(binary)
        if info is None:
            return CatalogOutput()
        return CatalogOutput(packages=tuple(_packages(info, "/" + inp.path)))
