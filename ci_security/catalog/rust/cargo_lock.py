"""Rust: `Cargo.lock`, the resolved dependency graph cargo writes next to a workspace's `Cargo.toml`.

Images built from source often keep it (a multi-stage build that copies the whole source tree, a
`cargo install` build directory), and a release binary without `cargo auditable` data records
nothing else about the crates it was built from, so Trivy's image mode reads it and so does this
cataloger. Every `[[package]]` table is one crate:

    version = 3
    [[package]]
    name = "smallvec"
    version = "1.6.0"
    source = "registry+https://github.com/rust-lang/crates.io-index"
    checksum = "..."

All are reported (type `cargo`), registry, git and path crates alike, as `cargo auditable` data is:
the workspace's own crates are part of what was built. Format versions 1 to 4 share this table
shape. A file that is not TOML, or whose `package` is not a list of tables with a string name and
version, raises `CatalogError`.
"""

from __future__ import annotations

from typing import ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput
from ci_security.catalog.tomlfile import load_toml
from ci_security.errors import CatalogError
from ci_security.models import Package

_NAME = "Cargo.lock"


class CargoLockCataloger:
    """Crates listed in a `Cargo.lock`."""

    name: ClassVar[str] = "rust/cargo-lock"
    version: ClassVar[int] = 1
    kind: ClassVar[CatalogerKind] = "language"
    max_file_size: ClassVar[int] = 32 << 20
    magic: ClassVar[tuple[bytes, ...]] = ()

    def file_required(self, path: str, mode: int) -> bool:
        return path.endswith(_NAME) and (len(path) == len(_NAME) or path[-len(_NAME) - 1] == "/")

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        document = load_toml(inp.stream.read(self.max_file_size + 1))
        entries = document.get("package", [])
        if not isinstance(entries, list):
            raise CatalogError("`package` is not an array of tables (not a Cargo.lock?)")
        packages: dict[tuple[str, str], Package] = {}
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise CatalogError(f"package #{index} is not a table")
            name, version = entry.get("name"), entry.get("version")
            if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
                raise CatalogError(f"package #{index} lacks a name or version")
            packages.setdefault(
                (name, version), Package(name=name, version=version, type="cargo", path="/" + inp.path)
            )
        return CatalogOutput(packages=tuple(packages.values()))
