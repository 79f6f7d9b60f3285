"""dpkg: `/var/lib/dpkg/status`, and distroless `/var/lib/dpkg/status.d/<name>` files.

A package counts when its `Status:` is `<want> <flag> installed` (a removed package whose config
files remain, `deinstall ok config-files`, does not); distroless stanzas have no `Status:` because
every file in `status.d/` is an installed package. `Source:` may be `name` or `name (version)`; the
source version differs from the binary's after a binNMU (`5.1.1alpha+20120614-2+b3` is built from
source `5.1.1alpha+20120614-2`).

It also reads each package's `info/<name>.md5sums` (and distroless `status.d/<name>.md5sums`): the
files dpkg installed, so a Python or npm package shipped inside a Debian package (`python3-requests`)
is known to be the distribution's, and matched through it rather than through PyPI.

Both are read within the limits of `catalog.bounded` (see `_stanza` for the status file; an md5sums
list is bounded like every installed-files list).
"""

from __future__ import annotations

import re
from typing import ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput
from ci_security.catalog.bounded import Owned, lines
from ci_security.catalog.os._stanza import iter_stanzas
from ci_security.errors import CatalogError
from ci_security.models import Package

_FIELDS = frozenset({"Package", "Status", "Version", "Architecture", "Source"})
_SOURCE = re.compile(r"^(\S+)(?:\s+\((\S+)\))?\s*$")
_STATUS_D = "var/lib/dpkg/status.d/"
_INFO = "var/lib/dpkg/info/"


def _epoch(version: str) -> int | None:
    head, sep, _ = version.partition(":")
    # ASCII digits only (`²` is a digit to isdigit() but not to int()), and not 5,000 of them.
    return int(head) if sep and head.isascii() and head.isdigit() and len(head) <= 9 else None


class DpkgCataloger:
    """Debian and Ubuntu packages."""

    name: ClassVar[str] = "os/dpkg"
    version: ClassVar[int] = 2
    kind: ClassVar[CatalogerKind] = "os-packages"
    max_file_size: ClassVar[int] = 256 << 20
    magic: ClassVar[tuple[bytes, ...]] = ()

    def file_required(self, path: str, mode: int) -> bool:
        if path == "var/lib/dpkg/status":
            return True
        if path.startswith(_INFO):
            return path.endswith(".md5sums") and "/" not in path[len(_INFO) :]
        return path.startswith(_STATUS_D) and "/" not in path[len(_STATUS_D) :]

    def _owned_files(self, inp: CatalogInput) -> CatalogOutput:
        # libc6:amd64.md5sums belongs to libc6; each line is "<md5>  <path relative to />".
        owner = inp.path.rsplit("/", 1)[-1].removesuffix(".md5sums").split(":", 1)[0]
        owned = Owned()
        for _, raw in lines(inp.stream, errors="surrogateescape"):
            _, sep, path = raw.rstrip("\n").partition("  ")
            if sep and path:
                owned.add(path.lstrip("/"), owner)
        return CatalogOutput(owned=tuple(owned.pairs))

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        if inp.path.endswith(".md5sums"):
            return self._owned_files(inp)
        distroless = inp.path.startswith(_STATUS_D)
        packages = []
        seen_any = False
        for lineno, stanza in iter_stanzas(inp.stream, _FIELDS):
            name = stanza.get("Package")
            seen_any = seen_any or name is not None
            version = stanza.get("Version")
            if not name or not version:
                continue  # a stanza without both is not an installed package (dpkg skips it too)
            status = stanza.get("Status")
            if status is not None:
                words = status.split()
                if len(words) != 3 or words[2] != "installed":
                    continue
            elif not distroless:
                continue
            source_name, source_version = name, version
            source = stanza.get("Source")
            if source:
                match = _SOURCE.match(source)
                if match is None:
                    raise CatalogError(f"line {lineno}: malformed Source field {source!r}")
                source_name = match.group(1)
                source_version = match.group(2) or version
            packages.append(
                Package(
                    name=name,
                    version=version,
                    type="deb",
                    arch=stanza.get("Architecture") or None,
                    epoch=_epoch(version),
                    source_name=source_name,
                    source_version=source_version,
                    path="/" + inp.path,
                )
            )
        if not seen_any and inp.size > 0:
            raise CatalogError("no Package: stanzas found (not a dpkg status file?)")
        return CatalogOutput(packages=tuple(packages))
