"""rpm: the package database under `/var/lib/rpm/` or `/usr/lib/sysimage/rpm/`.

Three containers hold the same header blobs (see `rpmdb`): BerkeleyDB `Packages`, NDB `Packages.db`
and SQLite `rpmdb.sqlite`. The format is told from the file's magic, not its name, because distros
have moved databases between names and directories (Fedora's `/var/lib/rpm` is a link to
`/usr/lib/sysimage/rpm`; SUSE's NDB and Red Hat's SQLite both live in either). SQLite and random
page access need a real file, so the stream is first copied (in chunks) to the cataloger's scratch
directory, and removed again whatever happens.

Each header becomes one package, in the order the database stores them, except `gpg-pubkey`: rpm
keeps imported signing keys as pseudo-packages that no advisory names. The version is rpm's
`[epoch:]version-release` (the epoch only when the header has a non-zero one),
and the source package comes from SOURCERPM, `name-version-release.src.rpm`.

The database is read within the limits of `catalog.bounded`: at most `package_entries` headers, each
blob at most `metadata_bytes` (checked before it is read, in each of the three containers), and one
bound on the installed-files list of the whole database (see `rpmdb.header`).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput
from ci_security.catalog.bounded import Entries, Owned
from ci_security.catalog.os.rpmdb import bdb, ndb, sqlite
from ci_security.catalog.os.rpmdb.header import RpmHeader, parse_header
from ci_security.catalog.os.rpmnames import evr, parse_source_rpm
from ci_security.errors import CatalogError
from ci_security.models import Package

_DIRS = ("var/lib/rpm/", "usr/lib/sysimage/rpm/")
_FILES = ("Packages", "Packages.db", "rpmdb.sqlite")
_REQUIRED = frozenset(d + f for d in _DIRS for f in _FILES)
_SQLITE_MAGIC = b"SQLite format 3\0"
_SPOOL_CHUNK = 1 << 20


def _blobs(path: Path) -> Generator[bytes, None, None]:
    with open(path, "rb") as f:
        head = f.read(16)
    if not head:
        # An empty file is an empty database to rpm's NDB and SQLite backends alike.
        return
    if head == _SQLITE_MAGIC:
        yield from sqlite.iter_blobs(path)
    elif head[:4] == ndb.MAGIC:
        yield from ndb.iter_blobs(path)
    elif bdb.byte_order(head) is not None:
        yield from bdb.iter_blobs(path)
    else:
        raise CatalogError("not an rpm database (no SQLite, NDB or BerkeleyDB hash magic)")


def _package(header: RpmHeader, path: str) -> Package:
    source_name, source_version = parse_source_rpm(header.source_rpm)
    return Package(
        name=header.name,
        version=evr(header.epoch, header.version, header.release),
        type="rpm",
        arch=header.arch,
        epoch=header.epoch,
        source_name=source_name,
        source_version=source_version,
        licenses=(header.license,) if header.license else (),
        modularity_label=header.modularity_label,
        path=path,
    )


class RpmCataloger:
    """Red Hat, Fedora, CentOS, Amazon Linux, SUSE and CBL-Mariner packages."""

    name: ClassVar[str] = "os/rpm"
    version: ClassVar[int] = 2
    kind: ClassVar[CatalogerKind] = "os-packages"
    max_file_size: ClassVar[int] = 2 << 30
    magic: ClassVar[tuple[bytes, ...]] = ()

    def file_required(self, path: str, mode: int) -> bool:
        return path in _REQUIRED

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        fd, name = tempfile.mkstemp(prefix="rpmdb-", dir=inp.tmpdir)
        spool = Path(name)
        try:
            with open(fd, "wb") as out:
                shutil.copyfileobj(inp.stream, out, _SPOOL_CHUNK)
            packages = []
            owned: list[tuple[str, str]] = []
            files = Owned()
            entries = Entries("package records")
            with contextlib.closing(_blobs(spool)) as blobs:
                for number, blob in enumerate(blobs, 1):
                    entries.add()
                    try:
                        header = parse_header(blob, files)
                    except CatalogError as exc:
                        raise CatalogError(f"package record {number}: {exc}") from exc
                    if header.name == "gpg-pubkey":
                        continue
                    packages.append(_package(header, "/" + inp.path))
                    owned.extend((path.lstrip("/"), header.name) for path in header.files)
            return CatalogOutput(packages=tuple(packages), owned=tuple(owned))
        finally:
            spool.unlink(missing_ok=True)
