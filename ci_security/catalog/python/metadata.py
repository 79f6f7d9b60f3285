"""Installed Python distributions: `*.dist-info/METADATA` (wheels, pip), `*.egg-info/PKG-INFO` and
`EGG-INFO/PKG-INFO` (setuptools eggs), and single-file `*.egg-info` (distutils).

All are core-metadata files (RFC 822 headers, then an optional description body), read only up to
the first blank line. `Name` is kept as written (`Django`, as Trivy reports it); the purl carries
the PEP 503 normalised form. The licence comes from `License-Expression` (metadata 2.4), else a short
`License` field, else the trove classifiers (`License :: OSI Approved :: MIT License` → `MIT License`).
Requirements files, Pipfile.lock, poetry.lock and uv.lock are not read: inside an image they say what
someone meant to install, not what is installed (the choice Trivy and osv-scanner make).

The headers are read within the limits of `catalog.bounded` (lines and values of at most `line_bytes`,
at most `continuation_lines` continuation lines); a continued value is collected and joined once, so
the work is linear in the file's size.
"""

from __future__ import annotations

from typing import ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput
from ci_security.catalog.bounded import Continuations, Joined, lines
from ci_security.errors import CatalogError
from ci_security.models import Package

_SUFFIXES = (".dist-info/METADATA", ".egg-info/PKG-INFO", "EGG-INFO/PKG-INFO")
_MAX_HEADER_LINES = 20_000


def _read_headers(inp: CatalogInput) -> dict[str, list[str]]:
    headers: dict[str, list[Joined]] = {}
    continuations = Continuations()
    key: str | None = None
    for number, line in lines(inp.stream):
        if number > _MAX_HEADER_LINES + 1:
            break
        if not line.strip():
            break
        if line[0] in " \t":
            continuations.add("headers")
            if key is not None:
                headers[key][-1].add(line.strip())
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise CatalogError(f"line {number}: not a metadata header ({line.strip()[:40]!r})")
        key = name.strip().lower()
        headers.setdefault(key, []).append(Joined(value.strip(), f"line {number}"))
    return {name: [joined.value() for joined in values] for name, values in headers.items()}


def _licenses(headers: dict[str, list[str]]) -> tuple[str, ...]:
    if headers.get("license-expression"):
        return (headers["license-expression"][0],)
    value = (headers.get("license") or [""])[0]
    # Some projects paste the whole licence text into License:; only a short value is a name.
    if value and value.upper() != "UNKNOWN" and "\n" not in value and len(value) < 100:
        return (value,)
    found = []
    for classifier in headers.get("classifier", []):
        parts = [p.strip() for p in classifier.split("::")]
        if len(parts) >= 2 and parts[0] == "License" and parts[-1] not in ("OSI Approved", ""):
            found.append(parts[-1])
    return tuple(found)


class PythonMetadataCataloger:
    """Python distributions installed in site-packages / dist-packages."""

    name: ClassVar[str] = "python/installed"
    version: ClassVar[int] = 1
    kind: ClassVar[CatalogerKind] = "language"
    max_file_size: ClassVar[int] = 32 << 20
    magic: ClassVar[tuple[bytes, ...]] = ()

    def file_required(self, path: str, mode: int) -> bool:
        return path.endswith(_SUFFIXES) or path.endswith(".egg-info")

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        headers = _read_headers(inp)
        name = (headers.get("name") or [""])[0]
        version = (headers.get("version") or [""])[0]
        if not name or not version:
            raise CatalogError("metadata has no Name or Version")
        return CatalogOutput(
            packages=(
                Package(
                    name=name, version=version, type="pypi", path="/" + inp.path, licenses=_licenses(headers)
                ),
            )
        )
