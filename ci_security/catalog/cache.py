"""Per-layer cache of catalog results, so a rebuilt image only costs the layers that changed.

A layer's scan (its file index, whiteouts, the catalogers' results and the links still to follow)
depends only on the layer's content and on the catalogers that read it. The key is therefore the
layer's diff-id (the digest of its uncompressed tar, taken from the verified image config) plus the
cache format, the tool version and every cataloger's name and version: upgrading the tool or a
cataloger invalidates old entries without any bookkeeping.

Entries are zlib-compressed JSON, never pickle: a CI cache is restored from storage that other jobs
can write, and loading it must not be able to run code. Writes go to a temporary file and are
renamed into place, so a reader sees a whole entry or none. An entry that fails to load (truncated,
corrupt, from an incompatible writer) is deleted and the layer is scanned again. Reads refresh an
entry's modification time, and the oldest entries are removed once the cache holds more than
`MAX_ENTRIES`, so the cache cannot grow without bound (Trivy's fanal cache is known to reach tens
of GB on long-lived runners).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from ci_security import __version__
from ci_security.catalog.base import Cataloger, CatalogOutput
from ci_security.catalog.runner import FileResult, LayerScan
from ci_security.image.fsview import LayerIndex
from ci_security.models import OSInfo, Package

CACHE_FORMAT = 3
MAX_ENTRIES = 2000
_PACKAGE_FIELDS = tuple(f.name for f in fields(Package) if f.name not in ("purl", "layer", "found_by"))
_OS_FIELDS = tuple(f.name for f in fields(OSInfo))


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/ci-security`, else `~/.cache/ci-security`."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "ci-security"


def _encode_output(output: CatalogOutput) -> dict[str, Any]:
    packages = []
    for pkg in output.packages:
        item = {}
        for name in _PACKAGE_FIELDS:
            value = getattr(pkg, name)
            if value not in (None, (), ""):
                item[name] = list(value) if isinstance(value, tuple) else value
        packages.append(item)
    doc: dict[str, Any] = {"packages": packages}
    if output.os is not None:
        doc["os"] = {name: getattr(output.os, name) for name in _OS_FIELDS}
    if output.owned:
        doc["owned"] = [list(pair) for pair in output.owned]
    return doc


def _decode_output(doc: dict[str, Any]) -> CatalogOutput:
    packages = []
    for item in doc["packages"]:
        if "licenses" in item:
            item["licenses"] = tuple(item["licenses"])
        packages.append(Package(**item))
    os_doc = doc.get("os")
    owned = tuple((path, owner) for path, owner in doc.get("owned", ()))
    if os_doc:
        os_doc = {k: tuple(v) if isinstance(v, list) else v for k, v in os_doc.items()}
    return CatalogOutput(packages=tuple(packages), os=OSInfo(**os_doc) if os_doc else None, owned=owned)


def encode_scan(scan: LayerScan) -> bytes:
    index = scan.index
    doc = {
        # Paths and a string of one-letter kinds in the same order: far cheaper to load than one
        # object per entry (a Debian base layer has 15,000).
        "paths": list(index.kinds),
        "kinds": "".join(index.kinds.values()),
        "links": index.links,
        "whiteouts": sorted(index.whiteouts),
        "opaque": sorted(index.opaque),
        "results": [
            [name, path, _encode_output(result.output) if result.output is not None else None, result.error]
            for (name, path), result in scan.results.items()
        ],
        "wanted_links": [list(link) for link in scan.links],
    }
    return zlib.compress(json.dumps(doc, separators=(",", ":")).encode(), 1)


def decode_scan(data: bytes) -> LayerScan:
    doc = json.loads(zlib.decompress(data))
    index = LayerIndex()
    paths, kinds = doc["paths"], doc["kinds"]
    if len(paths) != len(kinds):
        raise ValueError("paths and kinds differ in length")
    index.kinds = dict(zip(paths, kinds, strict=True))
    index.links = doc["links"]
    index.whiteouts = set(doc["whiteouts"])
    index.opaque = set(doc["opaque"])
    scan = LayerScan(index)
    for name, path, output, error in doc["results"]:
        scan.results[(name, path)] = FileResult(_decode_output(output) if output is not None else None, error)
    scan.links = [(name, path) for name, path in doc["wanted_links"]]
    return scan


class LayerCache:
    """Catalog results on disk, keyed by layer diff-id and the catalogers' versions."""

    def __init__(self, root: Path, catalogers: Sequence[Cataloger]) -> None:
        self.root = root / f"layers-v{CACHE_FORMAT}"
        signature = ",".join(sorted(f"{c.name}:{c.version}" for c in catalogers))
        self._salt = f"{CACHE_FORMAT}|{__version__}|{signature}|"
        self.hits = 0
        self.stores = 0

    def _path(self, diff_id: str) -> Path:
        key = hashlib.sha256((self._salt + diff_id).encode()).hexdigest()
        return self.root / key[:2] / f"{key}.json.z"

    def load(self, diff_id: str) -> LayerScan | None:
        path = self._path(diff_id)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            scan = decode_scan(data)
        except Exception:
            # Whatever is wrong with it (truncated, corrupt, written by something else), the entry
            # is worthless: drop it and let the caller scan the layer again.
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)
        self.hits += 1
        return scan

    def store(self, diff_id: str, scan: LayerScan) -> None:
        """Write an entry atomically; a cache that cannot be written is skipped, not fatal."""
        path = self._path(diff_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(encode_scan(scan))
            Path(tmp).replace(path)
            self.stores += 1
        except OSError:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()

    def prune(self, max_entries: int = MAX_ENTRIES) -> int:
        """Remove the least recently used entries beyond `max_entries`; return how many went."""
        try:
            entries = [(p.stat().st_mtime, p) for p in self.root.glob("*/*.json.z")]
        except OSError:
            return 0
        if len(entries) <= max_entries:
            return 0
        entries.sort()
        removed = 0
        for _, path in entries[: len(entries) - max_entries]:
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
        return removed
