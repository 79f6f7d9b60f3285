"""Per-layer cache of catalog results, so a rebuilt image only costs the layers that changed.

A layer's scan (its file index, whiteouts, the catalogers' results and the links still to follow)
depends only on the layer's content and on the catalogers that read it. The key is therefore the
layer's blob digest plus the cache format, the tool version and every cataloger's name and version:
upgrading the tool or a cataloger invalidates old entries without any bookkeeping.

Trust. A CI cache is restored from storage that other jobs, on other branches, can write, and an
image can lie about itself; so:

- An entry is written only under the digest the walk verified against the bytes it read in this
  run (`LayerScan.verified_digest`), never under a claim such as the config's diff-id, which nothing
  checks for a compressed layer. Lookups use the digest the manifest names; because digests are
  content addresses, a hit holds the results for exactly that content. An image that claims another
  image's diff-id gets its own (different) blob digest as key and cannot overwrite anyone's entry.
- Entries are zlib-compressed JSON, never pickle: loading must not be able to run code. The
  compressed file, the inflated document (`cache_entry_bytes`), the inflation ratio
  (`compression_ratio`), the JSON nesting and the number of values are bounded before anything is
  built from it, and every field is type-checked against what a walk can produce (kinds, path and
  link lengths, cataloger names, package fields). Whatever is wrong with an entry, it is a miss:
  the entry is deleted and the layer scanned again; never an error, never a wrong type downstream.
- Files are opened without following symlinks and must be regular files (a FIFO or a link to
  `/dev/zero` planted in a restored cache cannot stall or flood the scan), and nothing is written
  through a directory that is a symlink.

Writes go to a temporary file and are renamed into place, so a reader sees a whole entry or none.
Reads refresh an entry's modification time, and the oldest entries are removed once the cache holds
more than `MAX_ENTRIES`, so the cache cannot grow without bound (Trivy's fanal cache is known to reach
tens of GB on long-lived runners).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
import types
import typing
import zlib
from collections.abc import Callable, Sequence
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from ci_security import __version__, limits, structured
from ci_security.catalog.base import Cataloger, CatalogOutput, FileResult, LayerScan
from ci_security.errors import CiSecurityError
from ci_security.image.budget import RATIO_GRACE
from ci_security.image.digest import is_digest
from ci_security.image.fsview import LayerIndex
from ci_security.image.tarwalk import DIR, FILE, HARDLINK, OTHER, SYMLINK
from ci_security.models import OSInfo, Package

CACHE_FORMAT = 4
MAX_ENTRIES = 2000
_PACKAGE_FIELDS = tuple(f.name for f in fields(Package) if f.name not in ("purl", "layer", "found_by"))
_OS_FIELDS = tuple(f.name for f in fields(OSInfo))
_KIND_LETTERS = frozenset(DIR + FILE + HARDLINK + OTHER + SYMLINK)
# A legitimate entry holds a few values per file of its layer (path, kind, link, owner); one with
# far more values than its layer can have files is built to exhaust memory while it is decoded.
_VALUES_PER_FILE = 4


class CacheEntryError(ValueError):
    """A cache entry is unusable; the caller treats it as a miss."""


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/ci-security`, else `~/.cache/ci-security`."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "ci-security"


# --- encoding -----------------------------------------------------------------------------------


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


# --- decoding: every value checked against what a walk can produce --------------------------------


def _validator(hint: Any) -> Callable[[Any], bool]:
    """A type check for one dataclass field's annotation (str, int, bool, `X | None`, tuple[str, ...])."""
    origin = typing.get_origin(hint)
    if hint in (str, int, bool):
        exact = hint
        return lambda value: type(value) is exact
    if origin in (typing.Union, types.UnionType):
        parts = [_validator(arg) for arg in typing.get_args(hint) if arg is not type(None)]
        return lambda value: value is None or any(check(value) for check in parts)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _validator(args[0])
            return lambda value: type(value) is list and all(item(v) for v in value)
    raise TypeError(f"no cache check for field type {hint!r}")


_PACKAGE_CHECKS = {
    name: _validator(hint) for name, hint in typing.get_type_hints(Package).items() if name in _PACKAGE_FIELDS
}
_OS_CHECKS = {name: _validator(hint) for name, hint in typing.get_type_hints(OSInfo).items()}
_PACKAGE_REQUIRED = frozenset(
    f.name
    for f in fields(Package)
    if f.name in _PACKAGE_FIELDS and f.default is MISSING and f.default_factory is MISSING
)


def _strings(value: Any, what: str, bound: int) -> list[str]:
    if type(value) is not list or not all(type(item) is str for item in value):
        raise CacheEntryError(f"{what} is not a list of strings")
    if value and max(map(len, value)) > bound:
        raise CacheEntryError(f"{what} holds a string longer than {bound}")
    return value


def _pairs(value: Any, what: str, bound: int) -> list[tuple[str, str]]:
    if type(value) is not list:
        raise CacheEntryError(f"{what} is not a list")
    out = []
    for pair in value:
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str or type(pair[1]) is not str:
            raise CacheEntryError(f"{what} holds something other than a pair of strings")
        if len(pair[0]) > bound or len(pair[1]) > bound:
            raise CacheEntryError(f"{what} holds a string longer than {bound}")
        out.append((pair[0], pair[1]))
    return out


def _decode_package(item: Any) -> Package:
    if type(item) is not dict or not item.keys() >= _PACKAGE_REQUIRED:
        raise CacheEntryError("a package is not an object with name, version and type")
    for key, value in item.items():
        check = _PACKAGE_CHECKS.get(key)
        if check is None or not check(value):
            raise CacheEntryError(f"package field {key[:40]!r} is unknown or of the wrong type")
    if "licenses" in item:
        item["licenses"] = tuple(item["licenses"])
    return Package(**item)


def _decode_output(doc: Any, path_bound: int) -> CatalogOutput:
    if type(doc) is not dict or not doc.keys() <= {"packages", "os", "owned"}:
        raise CacheEntryError("a result is not a catalog output")
    raw_packages = doc.get("packages")
    if type(raw_packages) is not list:
        raise CacheEntryError("a result's packages are not a list")
    packages = tuple(_decode_package(item) for item in raw_packages)
    os_doc = doc.get("os")
    os_info = None
    if os_doc is not None:
        if type(os_doc) is not dict or set(os_doc) - _OS_CHECKS.keys():
            raise CacheEntryError("a result's os is not an OS description")
        if not all(_OS_CHECKS[key](value) for key, value in os_doc.items()):
            raise CacheEntryError("a result's os has a field of the wrong type")
        try:
            # JSON has no tuples: the tuple fields (content sets, scopes) come back as lists.
            values: dict[str, Any] = {k: tuple(v) if type(v) is list else v for k, v in os_doc.items()}
            os_info = OSInfo(**values)
        except TypeError:
            raise CacheEntryError("a result's os lacks a field") from None
    owned = tuple(_pairs(doc.get("owned", []), "owned files", path_bound))
    return CatalogOutput(packages=packages, os=os_info, owned=owned)


def decode_scan(data: bytes, catalogers: frozenset[str] | None = None) -> LayerScan:
    """A layer scan from an entry's bytes; `CacheEntryError` (or another ValueError) if anything in
    it is out of bounds or not what `encode_scan` writes. `catalogers` are the names results may
    carry (those of the catalogers in use); None accepts any.
    """
    active = limits.active()
    bound = active.cache_entry_bytes
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(data, bound + 1)
    except zlib.error as exc:
        raise CacheEntryError(f"not zlib data ({exc})") from None
    if len(text) > bound or inflater.unconsumed_tail:
        raise CacheEntryError(f"inflates to more than {bound} bytes")
    if len(text) > RATIO_GRACE and len(text) > active.compression_ratio * max(len(data), 1):
        raise CacheEntryError("inflates too far for its size (a decompression bomb)")
    if not inflater.eof:
        raise CacheEntryError("truncated")
    if text.count(b",") > _VALUES_PER_FILE * active.layer_files:
        raise CacheEntryError("holds more values than a layer can have files")
    try:
        doc = structured.load_json(text, "cache entry", max_bytes=bound)
    except CiSecurityError as exc:
        raise CacheEntryError(str(exc)) from None
    if type(doc) is not dict:
        raise CacheEntryError("not an object")
    path_bound = active.path_bytes
    paths = _strings(doc.get("paths"), "paths", path_bound)
    kinds = doc.get("kinds")
    if type(kinds) is not str or len(paths) != len(kinds) or not set(kinds) <= _KIND_LETTERS:
        raise CacheEntryError("kinds do not match paths")
    if len(paths) > active.layer_files:
        raise CacheEntryError("more paths than a layer may hold")
    links = doc.get("links")
    if type(links) is not dict or not all(type(v) is str for v in links.values()):
        raise CacheEntryError("links are not a mapping of strings")
    if links and (
        max(map(len, links)) > path_bound or max(map(len, links.values())) > active.symlink_target_bytes
    ):
        raise CacheEntryError("a link or its target is too long")
    index = LayerIndex()
    index.kinds = dict(zip(paths, kinds, strict=True))
    index.links = links
    index.whiteouts = set(_strings(doc.get("whiteouts"), "whiteouts", path_bound))
    index.opaque = set(_strings(doc.get("opaque"), "opaque", path_bound))
    scan = LayerScan(index)
    results = doc.get("results")
    if type(results) is not list:
        raise CacheEntryError("results are not a list")
    for item in results:
        if type(item) is not list or len(item) != 4:
            raise CacheEntryError("a result is not a 4-item list")
        name, path, output, error = item
        if type(name) is not str or type(path) is not str or len(path) > path_bound:
            raise CacheEntryError("a result's cataloger or path is not a string")
        if catalogers is not None and name not in catalogers:
            raise CacheEntryError(f"a result names an unknown cataloger {name[:40]!r}")
        if error is not None and type(error) is not str:
            raise CacheEntryError("a result's error is not a string")
        decoded = _decode_output(output, path_bound) if output is not None else None
        scan.results[(name, path)] = FileResult(decoded, error)
    scan.links = _pairs(doc.get("wanted_links"), "wanted links", path_bound)
    if catalogers is not None and any(name not in catalogers for name, _ in scan.links):
        raise CacheEntryError("a wanted link names an unknown cataloger")
    return scan


# --- the cache on disk ----------------------------------------------------------------------------


def _real_directory(path: Path) -> bool:
    """True if `path` is a directory and not a symlink to one."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


class LayerCache:
    """Catalog results on disk, keyed by verified layer digest and the catalogers' versions."""

    def __init__(self, root: Path, catalogers: Sequence[Cataloger]) -> None:
        self.root = root / f"layers-v{CACHE_FORMAT}"
        signature = ",".join(sorted(f"{c.name}:{c.version}" for c in catalogers))
        self._salt = f"{CACHE_FORMAT}|{__version__}|{signature}|"
        self._names = frozenset(c.name for c in catalogers)
        self.hits = 0
        self.stores = 0
        self.misses = 0

    def _path(self, digest: str) -> Path | None:
        if not is_digest(digest):
            return None  # only a content address is a safe key
        key = hashlib.sha256((self._salt + digest).encode()).hexdigest()
        return self.root / key[:2] / f"{key}.json.z"

    def _read(self, path: Path) -> bytes | None:
        """The entry's bytes, if it is a regular file within the size bound reached without symlinks."""
        if not (_real_directory(self.root) and _real_directory(path.parent)):
            return None
        bound = limits.active().cache_entry_bytes
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > bound:
                raise CacheEntryError("not a regular file of a plausible size")
            return f.read(bound + 1)

    def load(self, digest: str) -> LayerScan | None:
        path = self._path(digest)
        if path is None:
            return None
        try:
            data = self._read(path)
            if data is None:
                return None
            scan = decode_scan(data, self._names)
        except (ValueError, OSError, RecursionError, MemoryError):
            # Whatever is wrong with it (truncated, corrupt, oversized, written by something else),
            # the entry is worthless: drop it and let the caller scan the layer again.
            self.misses += 1
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path, follow_symlinks=False)
        self.hits += 1
        return scan

    def store(self, digest: str, scan: LayerScan) -> None:
        """Write an entry atomically; a cache that cannot be written is skipped, not fatal."""
        path = self._path(digest)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not (_real_directory(self.root) and _real_directory(path.parent)):
                return  # a symlinked directory in a restored cache would send the write elsewhere
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(encode_scan(scan))
            Path(tmp).replace(path)  # rename replaces a planted symlink itself, never its target
            self.stores += 1
        except OSError:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()

    def _entries(self) -> list[tuple[float, Path]]:
        entries: list[tuple[float, Path]] = []
        if not _real_directory(self.root):
            return entries
        with os.scandir(self.root) as shards:
            for shard in shards:
                if not shard.is_dir(follow_symlinks=False):
                    continue
                with os.scandir(shard.path) as files:
                    for item in files:
                        if item.name.endswith(".json.z") and item.is_file(follow_symlinks=False):
                            entries.append((item.stat(follow_symlinks=False).st_mtime, Path(item.path)))
        return entries

    def prune(self, max_entries: int = MAX_ENTRIES) -> int:
        """Remove the least recently used entries beyond `max_entries`; return how many went."""
        try:
            entries = self._entries()
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
