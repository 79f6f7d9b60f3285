"""Installed npm packages: every `package.json` with a name and a version.

Under `node_modules/` each package directory (scoped `@scope/name` and nested
`node_modules/a/node_modules/b` alike) holds the manifest npm installed. Like Trivy, the application's
own `package.json` also counts, so the app itself appears in the inventory. Lock files
(package-lock.json, yarn.lock, pnpm-lock.yaml) are not read: they describe an install, not what is on
disk. Packages often ship other `package.json` files (test fixtures, sub-path exports) that are not
manifests; one without a name and version is ignored, and a malformed one is only reported when it
sits where npm puts an installed package's manifest.

The manifest is decoded by `catalog.bounded.load_json` (size and nesting bounded), and the strings
reported are made valid text: a lone surrogate escape (a JSON escape of a code point from U+D800 to U+DFFF
that is not half of a pair) becomes U+FFFD instead of a string no UTF-8 report can hold.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput
from ci_security.catalog.bounded import load_json, text
from ci_security.errors import CatalogError
from ci_security.models import Package


def _is_installed_manifest(path: str) -> bool:
    """`…/node_modules/<name>/package.json` or `…/node_modules/@scope/<name>/package.json`."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[-3] == "node_modules":
        return not parts[-2].startswith("@")
    return len(parts) >= 4 and parts[-4] == "node_modules" and parts[-3].startswith("@")


def _licenses(doc: dict[str, Any]) -> tuple[str, ...]:
    value = doc.get("license")
    if isinstance(value, str) and value:
        return (text(value),)
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return (text(value["type"]),)
    found: list[str] = []
    legacy = doc.get("licenses")
    for item in legacy if isinstance(legacy, list) else ():
        if isinstance(item, dict):
            item = item.get("type")
        if isinstance(item, str) and item:
            found.append(text(item))
    return tuple(found)


class PackageJsonCataloger:
    """npm packages from their installed manifests."""

    name: ClassVar[str] = "npm/package-json"
    version: ClassVar[int] = 1
    kind: ClassVar[CatalogerKind] = "language"
    max_file_size: ClassVar[int] = 16 << 20
    magic: ClassVar[tuple[bytes, ...]] = ()

    def file_required(self, path: str, mode: int) -> bool:
        return path.endswith("/package.json") or path == "package.json"

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        try:
            doc = load_json(inp.stream.read(self.max_file_size + 1), "package.json")
        except CatalogError as exc:
            if _is_installed_manifest(inp.path):
                raise CatalogError(f"malformed package.json ({exc})") from None
            return CatalogOutput()
        if not isinstance(doc, dict):
            return CatalogOutput()
        name, version = doc.get("name"), doc.get("version")
        if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
            return CatalogOutput()
        return CatalogOutput(
            packages=(
                Package(
                    name=text(name),
                    version=text(version),
                    type="npm",
                    path="/" + inp.path,
                    licenses=_licenses(doc),
                ),
            )
        )
