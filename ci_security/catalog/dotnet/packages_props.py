""".NET: `Directory.Packages.props` (NuGet central package management) and the older `Packages.props`,
which pin the version of every NuGet package a solution uses, in one MSBuild file.

    <Project>
      <ItemGroup>
        <PackageVersion Include="Newtonsoft.Json" Version="13.0.1" />
        <PackageReference Update="Serilog" Version="2.10.0" />
      </ItemGroup>
    </Project>

`PackageVersion` and `PackageReference` items name the package in `Include` (or `Update`) and its
version in a `Version` attribute or child element. A version that is an MSBuild property (`$(X)`),
a range (`[1.0,2.0)`) or a floating version (`1.*`) says no single version and is skipped; so is an
item without a version. Any file named `*Packages.props` is read, as Trivy does. The XML is read
without a document type declaration (see `catalog.xmlitems`).
"""

from __future__ import annotations

from typing import ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput
from ci_security.catalog.xmlitems import items
from ci_security.models import Package

_SUFFIX = "packages.props"
_ITEMS = frozenset({"PackageVersion", "PackageReference"})
_NOT_ONE_VERSION = frozenset("$[](),*")


class PackagesPropsCataloger:
    """NuGet package versions pinned in a `Directory.Packages.props` or `Packages.props`."""

    name: ClassVar[str] = "dotnet/packages-props"
    version: ClassVar[int] = 1
    kind: ClassVar[CatalogerKind] = "language"
    max_file_size: ClassVar[int] = 16 << 20
    magic: ClassVar[tuple[bytes, ...]] = ()

    def file_required(self, path: str, mode: int) -> bool:
        return path[-len(_SUFFIX) :].lower() == _SUFFIX

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        packages: dict[tuple[str, str], Package] = {}
        for item in items(inp.stream.read(self.max_file_size + 1), _ITEMS):
            name = (item.attributes.get("Include") or item.attributes.get("Update") or "").strip()
            version = (item.attributes.get("Version") or item.children.get("Version") or "").strip()
            if not name or not version or _NOT_ONE_VERSION & set(version):
                continue
            packages.setdefault(
                (name.lower(), version),
                Package(name=name, version=version, type="nuget", path="/" + inp.path),
            )
        return CatalogOutput(packages=tuple(packages.values()))
