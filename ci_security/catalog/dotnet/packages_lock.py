""".NET: `packages.lock.json`, NuGet's lock file (`RestorePackagesWithLockFile`), kept in images that
are built from their source tree or ship it next to the application.

    {"version": 1,
     "dependencies": {
       "net6.0": {
         "Newtonsoft.Json": {"type": "Direct", "requested": "[13.0.1, )", "resolved": "13.0.1"},
         "MyLib": {"type": "Project"}}}}

Each target framework (and runtime-specific target such as `net6.0/linux-x64`) lists the packages
it resolved; a package is reported once per resolved version, whatever number of targets list it.
`Direct`, `Transitive` and `CentralTransitive` entries are NuGet packages; `Project` entries are
the solution's own projects, with no version of their own, and are skipped, as Trivy does. A file
that is not JSON, or whose `dependencies` is not an object of objects, raises `CatalogError`.
"""

from __future__ import annotations

from typing import ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput
from ci_security.errors import CatalogError
from ci_security.limits import LimitExceededError
from ci_security.models import Package
from ci_security.structured import load_json

_NAME = "packages.lock.json"


class PackagesLockCataloger:
    """NuGet packages resolved in a `packages.lock.json`."""

    name: ClassVar[str] = "dotnet/packages-lock"
    version: ClassVar[int] = 1
    kind: ClassVar[CatalogerKind] = "language"
    max_file_size: ClassVar[int] = 64 << 20
    magic: ClassVar[tuple[bytes, ...]] = ()

    def file_required(self, path: str, mode: int) -> bool:
        return path.endswith(_NAME) and (len(path) == len(_NAME) or path[-len(_NAME) - 1] == "/")

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        data = inp.stream.read(self.max_file_size + 1)
        try:
            document = load_json(data, "the lock file", max_bytes=self.max_file_size, error=CatalogError)
        except LimitExceededError as exc:
            raise CatalogError(str(exc)) from None
        if not isinstance(document, dict):
            raise CatalogError("top level is not a JSON object (not a packages.lock.json?)")
        targets = document.get("dependencies", {})
        if not isinstance(targets, dict):
            raise CatalogError("`dependencies` is not a JSON object")
        packages: dict[tuple[str, str], Package] = {}
        for target, entries in targets.items():
            if not isinstance(entries, dict):
                raise CatalogError(f"`dependencies.{target}` is not a JSON object")
            for name, entry in entries.items():
                if not isinstance(entry, dict) or entry.get("type") == "Project":
                    continue
                resolved = entry.get("resolved")
                if not isinstance(resolved, str) or not resolved or not name:
                    continue
                packages.setdefault(
                    (name.lower(), resolved),
                    Package(name=name, version=resolved, type="nuget", path="/" + inp.path),
                )
        return CatalogOutput(packages=tuple(packages.values()))
