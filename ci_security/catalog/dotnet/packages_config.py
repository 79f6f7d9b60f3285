""".NET Framework: `packages.config`, the NuGet package list of projects that predate
`PackageReference`, copied into images with the application it describes.

    <packages>
      <package id="Newtonsoft.Json" version="6.0.4" targetFramework="net45" />
      <package id="StyleCop.Analyzers" version="1.1.118" developmentDependency="true" />
    </packages>

Each `package` element with an `id` and a `version` is reported (type `nuget`), except development
dependencies (analyzers, build tools), which do not ship with the application; Trivy skips them
too. The XML is read without a document type declaration (see `catalog.xmlitems`); a file that is
not well-formed raises `CatalogError`.
"""

from __future__ import annotations

from typing import ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput
from ci_security.catalog.xmlitems import items
from ci_security.models import Package

_NAME = "packages.config"


class PackagesConfigCataloger:
    """NuGet packages listed in a `packages.config`."""

    name: ClassVar[str] = "dotnet/packages-config"
    version: ClassVar[int] = 1
    kind: ClassVar[CatalogerKind] = "language"
    max_file_size: ClassVar[int] = 16 << 20
    magic: ClassVar[tuple[bytes, ...]] = ()

    def file_required(self, path: str, mode: int) -> bool:
        return path.endswith(_NAME) and (len(path) == len(_NAME) or path[-len(_NAME) - 1] == "/")

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        packages: dict[tuple[str, str], Package] = {}
        for item in items(inp.stream.read(self.max_file_size + 1), frozenset({"package"})):
            name, version = item.attributes.get("id", "").strip(), item.attributes.get("version", "").strip()
            if not name or not version or item.attributes.get("developmentDependency", "").lower() == "true":
                continue
            packages.setdefault(
                (name.lower(), version),
                Package(name=name, version=version, type="nuget", path="/" + inp.path),
            )
        return CatalogOutput(packages=tuple(packages.values()))
