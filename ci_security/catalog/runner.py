"""Walk every layer once, hand each wanted file to its catalogers, and merge the results the way the
container would see the filesystem.

Per layer (layers run in parallel threads; decompression and hashing release the GIL):
- every member goes into the layer's `LayerIndex` (for whiteouts and the merged view);
- a regular file that a cataloger's `file_required` accepts is streamed to it right there;
- a wanted path that is a symlink or hard link is noted, to be followed once all layers are known.

Then:
- a layer's result for a path counts only if that layer's entry is the one visible in the final image
  (a dpkg status rewritten by a later layer replaces the earlier one; a whiteout deletes it);
- noted links are resolved inside the image root and their targets read in a targeted second pass
  of the layer that holds them (rare: `/etc/os-release` → `../usr/lib/os-release` is read directly
  because its target is also wanted);
- each package is attributed to the layer that introduced it: the lowest layer from which the same
  file continuously listed the same package (Trivy's rule, so a base-image package points at the base
  layer even when a later `apt-get install` rewrote the status file);
- a language package whose evidence file an OS package installed gets `installed_by` (the file
  lists of dpkg, apk and rpm), so matching checks it through the distribution's advisories.

A file a cataloger cannot parse becomes a warning in the result. If every OS package database in the
image is unreadable, the scan cannot say anything true about OS packages and fails instead.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, cast

from ci_security.catalog.base import (
    SPOOL_IN_MEMORY,
    Cataloger,
    CatalogInput,
    FileResult,
    LayerScan,
    LayerStore,
)
from ci_security.catalog.osinfo import infer_os, merge_os
from ci_security.errors import CatalogError, ImageError, LayerError
from ci_security.image.base import Image
from ci_security.image.budget import ImageBudget
from ci_security.image.fsview import LayerIndex, MergedView
from ci_security.image.tarwalk import FILE, HARDLINK, SYMLINK, LayerWalker, read_member
from ci_security.models import LayerRef, OSInfo, Package, ScanWarning, build_purl
from ci_security.progress import ProgressSink


@dataclass(frozen=True, slots=True)
class Inventory:
    """The merged catalogue of an image. `owners` maps each file the OS package manager installed
    (root-relative path, as its database lists it) to the package that owns it.
    """

    packages: tuple[Package, ...]
    os: OSInfo | None
    warnings: tuple[ScanWarning, ...]
    owners: Mapping[str, str] = field(default_factory=dict)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def run_catalogers(
    jobs: Sequence[tuple[Cataloger, str]],
    size: int,
    opener: Callable[[], BinaryIO],
    tmpdir: Path,
    results: dict[tuple[str, str], FileResult],
    budget: ImageBudget | None = None,
) -> None:
    """Run each (cataloger, path) job on one file's content, recording output or error per job.

    The file is opened once. Catalogers that declare `magic` are dropped when the first bytes do
    not match (an executable bit on a shell script). Several remaining jobs share the stream by
    seeking when it is seekable, else through one spooled copy.

    This is the plugin boundary: a cataloger's unexpected exception becomes a warning naming it,
    never a crash of the scan; only a broken layer (LayerError, which includes a layer limit such as
    `layer_bytes` reached while the cataloger was reading) aborts.
    """
    fits = []
    for cat, path in jobs:
        if size > cat.max_file_size:
            results[(cat.name, path)] = FileResult(
                None, f"file is {_human(size)}, over the {_human(cat.max_file_size)} limit for {cat.name}"
            )
        else:
            fits.append((cat, path))
    if not fits:
        return
    stream = opener()
    if any(cat.magic for cat, _ in fits):
        head = stream.peek(8)[:8] if isinstance(stream, io.BufferedReader) else b""
        fits = [(cat, path) for cat, path in fits if not cat.magic or head.startswith(cat.magic)]
        if not fits:
            return
    spool: tempfile.SpooledTemporaryFile[bytes] | None = None
    spooled = 0
    if len(fits) > 1 and not stream.seekable():
        # Two catalogers cannot both consume one forward-only stream; buffer the file once for both.
        if size > SPOOL_IN_MEMORY and budget is not None:
            budget.charge_spool(size, f"/{fits[0][1]}")  # past the in-memory part it goes to disk
            spooled = size
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, dir=str(tmpdir))  # noqa: SIM115
        shutil.copyfileobj(stream, spool, 1 << 20)
        stream = cast(BinaryIO, spool)
    try:
        for position, (cat, path) in enumerate(fits):
            if position:
                stream.seek(0)
            try:
                output = cat.catalog(CatalogInput(path=path, size=size, stream=stream, tmpdir=tmpdir))
            except LayerError:
                raise
            except CatalogError as exc:
                results[(cat.name, path)] = FileResult(None, str(exc))
            except Exception as exc:
                results[(cat.name, path)] = FileResult(
                    None, f"internal error in cataloger {cat.name}: {exc.__class__.__name__}: {exc}"
                )
            else:
                results[(cat.name, path)] = FileResult(output)
    finally:
        if spool is not None:
            spool.close()
            if budget is not None and spooled:
                budget.release_spool(spooled)


def scan_layer(
    image: Image,
    position: int,
    catalogers: Sequence[Cataloger],
    tmpdir: Path,
    progress: ProgressSink | None = None,
) -> LayerScan:
    """One pass over one layer: index every member, catalogue wanted files, note wanted links."""
    layer = image.layers[position]
    loc = image.blobs[position]
    label = f"{image.reference}: layer {layer.digest}"
    task = f"layer {position + 1}/{len(image.layers)} {layer.digest[7:19]}"
    scan = LayerScan(LayerIndex())
    index_add = scan.index.add
    if progress:
        progress.start(task, loc.length)
    advance = (lambda n: progress.advance(task, n)) if progress else None
    with LayerWalker(loc, label, advance, image.budget) as walker:
        for member in walker:
            index_add(member)
            kind = member.kind
            if kind != FILE and kind != SYMLINK and kind != HARDLINK:
                continue
            path = member.path
            mode = member.mode
            wanted = [cat for cat in catalogers if cat.file_required(path, mode)]
            if not wanted:
                continue
            if kind != FILE:
                scan.links.extend((cat.name, path) for cat in wanted)
                continue
            run_catalogers(
                [(cat, path) for cat in wanted],
                member.size,
                walker.open_member,
                tmpdir,
                scan.results,
                image.budget,
            )
        scan.verified_digest = walker.verified_digest
    if progress:
        progress.finish(task)
    return scan


def _package_key(pkg: Package) -> tuple[str, str, str | None]:
    return (pkg.name, pkg.version, pkg.arch)


class _Merger:
    """Turns per-layer scans into the image's inventory."""

    def __init__(
        self, image: Image, scans: Sequence[LayerScan], catalogers: Sequence[Cataloger], tmpdir: Path
    ):
        self.image = image
        self.scans = scans
        self.catalogers = {cat.name: cat for cat in catalogers}
        self.tmpdir = tmpdir
        self.view = MergedView([scan.index for scan in scans])
        self.warnings: list[ScanWarning] = []
        self._keys: dict[tuple[int, str, str], frozenset[tuple[str, str, str | None]]] = {}

    def visible_results(self) -> dict[tuple[str, str], tuple[int, FileResult]]:
        visible: dict[tuple[str, str], tuple[int, FileResult]] = {}
        for position, scan in enumerate(self.scans):
            for key, result in scan.results.items():
                hit = self.view.lookup(key[1])
                if hit is not None and hit[0] == position:
                    visible[key] = (position, result)
        self._follow_links(visible)
        return visible

    def _follow_links(self, visible: dict[tuple[str, str], tuple[int, FileResult]]) -> None:
        requests: dict[int, dict[str, list[tuple[str, str]]]] = {}
        for position, scan in enumerate(self.scans):
            for name, path in scan.links:
                hit = self.view.lookup(path)
                if hit is None or hit[0] != position:
                    continue
                try:
                    target = self.view.content_location(path)
                except LayerError as exc:
                    self.warnings.append(ScanWarning(source=name, path="/" + path, message=str(exc)))
                    continue
                if target is None:
                    continue  # a dangling link: nothing is there to read
                layer, real = target
                if (name, real) in visible:
                    continue  # the target itself was wanted and read in the first pass
                wanted = requests.setdefault(layer, {}).setdefault(real, [])
                if all(n != name for n, _ in wanted):
                    wanted.append((name, path))
        for layer, wanted_paths in sorted(requests.items()):
            label = f"{self.image.reference}: layer {self.image.layers[layer].digest}"
            for member, stream in read_member(self.image.blobs[layer], label, set(wanted_paths)):
                jobs = [(self.catalogers[name], logical) for name, logical in wanted_paths[member.path]]
                results: dict[tuple[str, str], FileResult] = {}
                run_catalogers(jobs, member.size, lambda s=stream: s, self.tmpdir, results, self.image.budget)  # type: ignore[misc]
                for (name, logical), result in results.items():
                    visible[(name, logical)] = (layer, result)

    def _keys_of(self, position: int, name: str, path: str) -> frozenset[tuple[str, str, str | None]] | None:
        result = self.scans[position].results.get((name, path))
        if result is None or result.output is None:
            return None
        cache_key = (position, name, path)
        keys = self._keys.get(cache_key)
        if keys is None:
            keys = frozenset(_package_key(p) for p in result.output.packages)
            self._keys[cache_key] = keys
        return keys

    def introduced_in(self, name: str, path: str, top: int, pkg: Package) -> int:
        """The lowest layer from which `path` kept listing `pkg` without interruption up to `top`."""
        key = _package_key(pkg)
        intro = top
        for position in range(top - 1, -1, -1):
            if (name, path) not in self.scans[position].results:
                continue
            keys = self._keys_of(position, name, path)
            if keys is None or key not in keys or self.view.deleted_between(path, position, intro):
                break
            intro = position
        return intro

    def layer_ref(self, position: int) -> LayerRef:
        layer = self.image.layers[position]
        return LayerRef(index=position, digest=layer.digest, diff_id=layer.diff_id)


def _with_owner(pkg: Package, owners: dict[str, str]) -> Package:
    """Mark a language package whose evidence file an OS package installed (for a jar nested in
    another archive, the outer file counts).
    """
    owner = owners.get(pkg.path.lstrip("/").split("!/", 1)[0])
    return replace(pkg, installed_by=owner) if owner else pkg


def merge_scans(
    image: Image, scans: Sequence[LayerScan], catalogers: Sequence[Cataloger], tmpdir: Path
) -> Inventory:
    """Combine per-layer scans into the image's inventory (see the module docstring)."""
    merger = _Merger(image, scans, catalogers, tmpdir)
    visible = merger.visible_results()
    kinds = {cat.name: cat.kind for cat in catalogers}
    packages: list[Package] = []
    os_facts: list[OSInfo] = []
    db_errors: list[ScanWarning] = []
    for (name, path), (position, result) in sorted(visible.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if result.output is None:
            warning = ScanWarning(
                source=name,
                path="/" + path,
                message=result.error or "unreadable",
                layer=image.layers[position].diff_id,
            )
            merger.warnings.append(warning)
            if kinds.get(name) == "os-packages":
                db_errors.append(warning)
            continue
        if result.output.os is not None:
            os_facts.append(result.output.os)
        direct = (name, path) in scans[position].results
        for pkg in result.output.packages:
            intro = merger.introduced_in(name, path, position, pkg) if direct else position
            packages.append(replace(pkg, layer=merger.layer_ref(intro), found_by=name))
    owners: dict[str, str] = {}
    for _, result in visible.values():
        if result.output is not None:
            owners.update(result.output.owned)
    if owners:
        packages = [
            _with_owner(pkg, owners) if kinds.get(pkg.found_by) == "language" else pkg for pkg in packages
        ]
    os_info = merge_os(os_facts) or infer_os(packages)
    has_os_packages = any(kinds.get(p.found_by) == "os-packages" for p in packages)
    if db_errors and not has_os_packages:
        first = db_errors[0]
        raise ImageError(
            f"{image.reference}: cannot read the OS package database {first.path}: {first.message}"
        )
    unique: dict[tuple[str, str, str, str, str], Package] = {}
    for pkg in packages:
        final = replace(pkg, purl=build_purl(pkg, os_info))
        unique.setdefault(final.sort_key(), final)
    ordered = tuple(unique[k] for k in sorted(unique))
    warnings = tuple(sorted(merger.warnings, key=lambda w: (w.path or "", w.source, w.message)))
    return Inventory(packages=ordered, os=os_info, warnings=warnings, owners=owners)


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def catalog_image(
    image: Image,
    catalogers: Sequence[Cataloger],
    *,
    tmpdir: Path,
    progress: ProgressSink | None = None,
    workers: int | None = None,
    cache: LayerStore | None = None,
) -> Inventory:
    """Catalogue every package in `image`: cached layers are not read at all, the others are read
    in parallel, and the results are merged in layer order.
    """
    count = len(image.layers)
    if count == 0:
        return Inventory(packages=(), os=None, warnings=())

    def one(position: int) -> LayerScan:
        # The cache is keyed by the layer's blob digest: the manifest names it, and content-
        # addressing means one digest is one content. An entry is written only under the digest the
        # walk itself verified, never under a claim from the config (a diff-id an image can lie
        # about), so one image cannot plant results for another image's layer.
        if cache is not None:
            cached = cache.load(image.layers[position].digest)
            if cached is not None:
                return cached
        scan = scan_layer(image, position, catalogers, tmpdir, progress)
        if cache is not None and scan.verified_digest is not None:
            cache.store(scan.verified_digest, scan)
        return scan

    threads = min(count, workers or default_workers())
    if threads == 1:
        scans = [one(i) for i in range(count)]
    else:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="layer") as pool:
            scans = list(pool.map(one, range(count)))
    if cache is not None and cache.stores:
        cache.prune()
    return merge_scans(image, scans, catalogers, tmpdir)
