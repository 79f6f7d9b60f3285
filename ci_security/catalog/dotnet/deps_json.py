""".NET: `<app>.deps.json`, written next to every .NET Core / .NET 5+ application at build time.

The host reads this file at start-up to resolve the application's assemblies, so it is the record
of what a published application actually runs with. Its `libraries` object maps `"Name/Version"` to
a description whose `type` says where the library came from:

    "libraries": {
      "Newtonsoft.Json/9.0.1": {"type": "package", "sha512": "...", "path": "newtonsoft.json/9.0.1"},
      "MyApp/1.0.0": {"type": "project", "serviceable": false, "sha512": ""}
    }

`package` entries are NuGet packages and `project` entries are the application and the projects it
references; both are reported, as other scanners do, so the application itself appears in the SBOM.
Other types (`reference` assemblies, `runtimepack`, ...) ship with the runtime or SDK and are not
NuGet packages, so they are skipped. Names keep the case written in the file, which is the case the
package author chose; NuGet compares ids case-insensitively, so matching is left to be done that way.

A file without `libraries` describes an application with no dependencies: it yields no packages
rather than an error. A file that is not JSON, or whose `libraries` is not an object, raises
`CatalogError`. The file is decoded by `catalog.bounded.load_json`, holds at most `package_entries`
libraries, and the strings reported are made valid text (a lone surrogate escape becomes U+FFFD).
"""

from __future__ import annotations

from typing import ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput
from ci_security.catalog.bounded import Entries, load_json, text
from ci_security.errors import CatalogError
from ci_security.models import Package

_REPORTED_TYPES = frozenset({"package", "project"})


class DepsJsonCataloger:
    """NuGet packages and projects a .NET application was built with."""

    name: ClassVar[str] = "dotnet/deps-json"
    version: ClassVar[int] = 1
    kind: ClassVar[CatalogerKind] = "language"
    max_file_size: ClassVar[int] = 64 << 20
    magic: ClassVar[tuple[bytes, ...]] = ()

    def file_required(self, path: str, mode: int) -> bool:
        return path.endswith(".deps.json")

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        document = load_json(inp.stream.read(self.max_file_size + 1), "deps.json")
        if not isinstance(document, dict):
            raise CatalogError("top level is not a JSON object (not a .deps.json file?)")
        libraries = document.get("libraries")
        if libraries is None:
            return CatalogOutput()
        if not isinstance(libraries, dict):
            raise CatalogError("`libraries` is not a JSON object")
        Entries("libraries").add(len(libraries))
        packages = []
        for key, library in libraries.items():
            if not isinstance(library, dict) or library.get("type") not in _REPORTED_TYPES:
                continue
            name, _, version = key.partition("/")
            if not name or not version:
                continue
            packages.append(
                Package(name=text(name), version=text(version), type="nuget", path="/" + inp.path)
            )
        return CatalogOutput(packages=tuple(packages))
