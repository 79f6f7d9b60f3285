"""PHP: `vendor/composer/installed.json`, Composer's record of the packages it installed.

`composer install` writes this file into the vendor directory it populates, so it lists what is on
disk, unlike `composer.lock`, which records what a project asked for and is often present in images
whose vendor directory was never installed (or was pruned); the lock file is therefore not read.

Composer 1 writes a JSON list of package objects; Composer 2 wraps the same objects in
`{"packages": [...], "dev": ..., "dev-package-names": [...]}`. Each object carries `name`
(`vendor/package`), `version` as the package's tag or branch was written (`v1.0.2`, `1.13.3`,
`dev-main`) and `license`, an SPDX identifier list (a plain string in some old packages). The
version is reported as written, leading `v` included, because that is what Composer prints and what
advisories for Packagist name. Development packages are reported too: they are installed and loadable.

An entry without a string name and version cannot be matched against advisories and is skipped. A
file that is not JSON, or not one of the two layouts, raises `CatalogError`. The file is decoded by
`catalog.bounded.load_json`, lists at most `package_entries` packages, and the strings reported
are made valid text (a lone surrogate escape becomes U+FFFD).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput
from ci_security.catalog.bounded import Entries, load_json, text
from ci_security.errors import CatalogError
from ci_security.models import Package

_SUFFIX = "vendor/composer/installed.json"


def _entries(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and isinstance(document.get("packages"), list):
        packages: list[Any] = document["packages"]
        return packages
    raise CatalogError("neither a list of packages nor an object with a `packages` list")


def _licenses(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (text(value),) if value.strip() else ()
    if isinstance(value, list):
        return tuple(text(lic) for lic in value if isinstance(lic, str) and lic.strip())
    return ()


class ComposerInstalledCataloger:
    """PHP packages installed by Composer into a vendor directory."""

    name: ClassVar[str] = "php/composer"
    version: ClassVar[int] = 1
    kind: ClassVar[CatalogerKind] = "language"
    max_file_size: ClassVar[int] = 64 << 20
    magic: ClassVar[tuple[bytes, ...]] = ()

    def file_required(self, path: str, mode: int) -> bool:
        if not path.endswith(_SUFFIX):
            return False
        # `vendor` must be a whole directory name (not `myvendor/composer/...`).
        return len(path) == len(_SUFFIX) or path[-len(_SUFFIX) - 1] == "/"

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        document = load_json(inp.stream.read(self.max_file_size + 1), "installed.json")
        packages = []
        listed = _entries(document)
        Entries("packages").add(len(listed))
        for entry in listed:
            if not isinstance(entry, dict):
                continue
            name, version = entry.get("name"), entry.get("version")
            if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
                continue
            packages.append(
                Package(
                    name=text(name),
                    version=text(version),
                    type="composer",
                    path="/" + inp.path,
                    licenses=_licenses(entry.get("license")),
                )
            )
        return CatalogOutput(packages=tuple(packages))
