"""Julia: `Manifest.toml`, the exact package versions of a Julia environment, which Pkg writes and
`Pkg.instantiate()` installs from; images that run Julia code ship it with the project.

Manifest format 2 (Julia 1.7 and later) keeps packages under `deps`, format 1 at the top level; in
both, each package name maps to a list of tables (one per UUID, as two registries may hold a package
of the same name):

    manifest_format = "2.0"
    [[deps.HTTP]]
    uuid = "cd3eb016-35fb-5094-929b-558a96fad6f3"
    version = "1.10.1"
    git-tree-sha1 = "..."

Each entry with a version is reported (type `julia`, the OSV ecosystem `Julia`). Standard-library
packages (`Base64`, `LinearAlgebra`) carry no version of their own in older manifests: they are
part of Julia itself and are skipped. `JuliaManifest.toml` and version-specific
`Manifest-v1.11.toml` files are read too. A file that is not TOML raises `CatalogError`.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput
from ci_security.catalog.tomlfile import load_toml
from ci_security.errors import CatalogError
from ci_security.models import Package

_NAMES = re.compile(r"(?:^|/)(?:Julia)?Manifest(?:-v[0-9]+\.[0-9]+)?\.toml$")


class JuliaManifestCataloger:
    """Julia packages pinned in a `Manifest.toml`."""

    name: ClassVar[str] = "julia/manifest"
    version: ClassVar[int] = 1
    kind: ClassVar[CatalogerKind] = "language"
    max_file_size: ClassVar[int] = 32 << 20
    magic: ClassVar[tuple[bytes, ...]] = ()

    def file_required(self, path: str, mode: int) -> bool:
        return path.endswith(".toml") and "anifest" in path and _NAMES.search(path) is not None

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        document = load_toml(inp.stream.read(self.max_file_size + 1))
        deps: Any = document.get("deps", {}) if "manifest_format" in document else document
        if not isinstance(deps, dict):
            raise CatalogError("`deps` is not a table (not a Julia manifest?)")
        packages: dict[tuple[str, str], Package] = {}
        for name, entries in deps.items():
            if not isinstance(entries, list):
                continue  # format 1 keeps other top-level keys (julia_version, project_hash) as scalars
            for entry in entries:
                version = entry.get("version") if isinstance(entry, dict) else None
                if isinstance(version, str) and version:
                    packages.setdefault(
                        (name, version),
                        Package(name=name, version=version, type="julia", path="/" + inp.path),
                    )
        return CatalogOutput(packages=tuple(packages.values()))
