"""CBL-Mariner / Azure Linux distroless images: `/var/lib/rpmmanifest/container-manifest-2`.

Distroless Mariner images ship no rpm database, only this manifest written when the image was built:
one package per line, ten tab-separated columns:

    name, version-release, install time, build time, vendor, epoch (`(none)` when unset),
    installed size, arch, numeric epoch (0 when unset), source rpm

The epoch column, not the numeric one, says whether the package has an epoch, so the version reads
`[epoch:]version-release` exactly as the rpm database of a full Mariner image would give it.
Lines are at most `line_bytes` long and the manifest lists at most `package_entries` packages.
"""

from __future__ import annotations

from typing import ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput
from ci_security.catalog.bounded import Entries, lines
from ci_security.catalog.os.rpmnames import evr, parse_source_rpm
from ci_security.errors import CatalogError
from ci_security.models import Package

_COLUMNS = 10


class RpmManifestCataloger:
    """Packages listed in a CBL-Mariner distroless container manifest."""

    name: ClassVar[str] = "os/rpm-manifest"
    version: ClassVar[int] = 1
    kind: ClassVar[CatalogerKind] = "os-packages"
    max_file_size: ClassVar[int] = 64 << 20
    magic: ClassVar[tuple[bytes, ...]] = ()

    def file_required(self, path: str, mode: int) -> bool:
        return path == "var/lib/rpmmanifest/container-manifest-2"

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        packages = []
        entries = Entries("packages")
        for lineno, line in lines(inp.stream):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            entries.add()
            fields = line.split("\t")
            if len(fields) != _COLUMNS:
                raise CatalogError(f"line {lineno}: {len(fields)} tab-separated fields, expected {_COLUMNS}")
            name, version_release, _, _, _, epoch_field, _, arch, _, source_rpm = fields
            version, sep, release = version_release.rpartition("-")
            if not name or not sep or not version or not release:
                raise CatalogError(f"line {lineno}: malformed name or version-release {version_release!r}")
            epoch: int | None = None
            if epoch_field != "(none)":
                if not (epoch_field.isascii() and epoch_field.isdigit() and len(epoch_field) <= 9):
                    raise CatalogError(f"line {lineno}: malformed epoch {epoch_field!r}")
                epoch = int(epoch_field)
            source_name, source_version = parse_source_rpm(source_rpm)
            packages.append(
                Package(
                    name=name,
                    version=evr(epoch, version, release),
                    type="rpm",
                    arch=arch or None,
                    epoch=epoch,
                    source_name=source_name,
                    source_version=source_version,
                    path="/" + inp.path,
                )
            )
        return CatalogOutput(packages=tuple(packages))
