"""apk: `/lib/apk/db/installed` (Alpine, Wolfi, Chainguard).

Records are blocks of `X:value` lines separated by blank lines: `P` name, `V` version, `A` arch,
`o` origin (the source package the advisories name), `L` licence, and the installed files as `F`
(directory) followed by `R` (file) lines. A record without a version is not an installed package
and is skipped, as apk itself does.

The database is read within the limits of `catalog.bounded`: lines of at most `line_bytes`, at most
`package_entries` records, and an installed-files list bounded in count and bytes; a path is joined
from its `F` directory and `R` name only when it is short enough to be a file of a layer, so one
long directory followed by many names costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput
from ci_security.catalog.bounded import Entries, Owned, lines
from ci_security.errors import CatalogError
from ci_security.models import Package

_KEYS = frozenset("PVAoL")


def _records(stream: BinaryIO, owned: Owned) -> Iterator[tuple[dict[str, str], list[str]]]:
    """(fields, installed file paths) per record; `owned` bounds the file lists of all records."""
    entries = Entries("records")
    record: dict[str, str] = {}
    files: list[str] = []
    directory = ""
    for _, line in lines(stream):
        if line in ("\n", "\r\n") or not line.strip():
            if record:
                yield record, files
            record, files, directory = {}, [], ""
            continue
        if len(line) >= 2 and line[1] == ":":
            key, value = line[0], line[2:].strip()
            if key in _KEYS:
                if not record:
                    entries.add()
                record[key] = value
            elif key == "F":
                directory = value
            elif key == "R" and owned.fits(len(directory) + 1 + len(value) if directory else len(value)):
                files.append(f"{directory}/{value}" if directory else value)
        elif record == {} and line.strip() and ":" not in line[:3]:
            raise CatalogError(f"unexpected line {line.strip()[:40]!r} (not an apk database?)")
    if record:
        yield record, files


class ApkCataloger:
    """Alpine-family packages."""

    name: ClassVar[str] = "os/apk"
    version: ClassVar[int] = 2
    kind: ClassVar[CatalogerKind] = "os-packages"
    max_file_size: ClassVar[int] = 256 << 20
    magic: ClassVar[tuple[bytes, ...]] = ()

    def file_required(self, path: str, mode: int) -> bool:
        return path in ("lib/apk/db/installed", "usr/lib/apk/db/installed")

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        packages = []
        owned: list[tuple[str, str]] = []
        for record, files in _records(inp.stream, Owned()):
            name, version = record.get("P"), record.get("V")
            if not name or not version:
                continue
            owned.extend((path, name) for path in files)
            # Kept as the SPDX-like expression apk stores; splitting would break "X WITH Y".
            licenses = (record["L"],) if record.get("L") else ()
            packages.append(
                Package(
                    name=name,
                    version=version,
                    type="apk",
                    arch=record.get("A") or None,
                    source_name=record.get("o") or name,
                    source_version=version,
                    path="/" + inp.path,
                    licenses=licenses,
                )
            )
        return CatalogOutput(packages=tuple(packages), owned=tuple(owned))
