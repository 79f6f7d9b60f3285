"""Registry source: `docker://REF` and bare references, pulled over the distribution API without a
Docker daemon.

The manifest (or the platform's manifest from an index) and the config are fetched and verified in
memory. A layer blob is downloaded into the private work directory the first time the scan asks
for it (layers whose results are cached are never fetched), verified against its digest while it
streams, and then read like any other layer file. The catalog runner reads layers in parallel
threads, so downloads run in parallel too.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, overload

from ci_security import limits
from ci_security.errors import ImageError
from ci_security.image.auth import find_credentials
from ci_security.image.base import DEFAULT_PLATFORM, Image, SourceOptions
from ci_security.image.budget import ImageBudget
from ci_security.image.digest import check_digest, file_name
from ci_security.image.manifest import (
    ACCEPT_MANIFESTS,
    INDEX_TYPES,
    check_descriptor,
    check_manifest_type,
    check_platform,
    layers_from_manifest,
    parse_config,
    parse_json,
    select_from_index,
    verify_digest,
)
from ci_security.image.reference import ImageRef
from ci_security.image.tarwalk import BlobLocation
from ci_security.models import LayerInfo
from ci_security.progress import ProgressSink

if TYPE_CHECKING:
    from ci_security.image.distribution import RegistryClient


class RegistrySource:
    """Pull from an OCI / Docker registry."""

    transports: ClassVar[tuple[str, ...]] = ("docker",)

    def open(self, ref: ImageRef, options: SourceOptions) -> Image:
        # requests costs ~90 ms to import; only registry pulls need it.
        from ci_security.image.distribution import RegistryClient

        docker = ref.docker
        assert docker is not None
        label = ref.raw
        creds = find_credentials(
            docker.registry,
            username=options.username,
            password=options.password,
            config=options.docker_config,
        )
        insecure = (
            docker.registry in options.insecure_registries or docker.api_host in options.insecure_registries
        )
        client = RegistryClient(docker, label=label, credentials=creds, insecure=insecure)
        try:
            return self._pull(client, ref, options)
        except BaseException:
            client.close()
            raise

    def _pull(self, client: RegistryClient, ref: ImageRef, options: SourceOptions) -> Image:
        docker = ref.docker
        assert docker is not None
        label = ref.raw
        body, media_type, top_digest = client.manifest(docker.reference, ACCEPT_MANIFESTS)
        if docker.digest:
            verify_digest(body, docker.digest, f"{label}: manifest")
        manifest: dict[str, Any] = parse_json(body, f"{label}: manifest")
        digest = top_digest
        kind = check_manifest_type(manifest, media_type, f"{label}: manifest")
        if kind in INDEX_TYPES:
            desc = select_from_index(manifest, options.platform, DEFAULT_PLATFORM, f"{label}: index")
            chosen = check_digest(desc["digest"], f"{label}: index entry")
            body, media_type, digest = client.manifest(
                chosen, ACCEPT_MANIFESTS, _size(desc, f"{label}: index entry {chosen}")
            )
            verify_digest(body, chosen, f"{label}: manifest {chosen}")
            manifest = parse_json(body, f"{label}: manifest {chosen}")
            if check_manifest_type(manifest, media_type, f"{label}: manifest") in INDEX_TYPES:
                raise ImageError(f"{label}: index {chosen} points at another index")
        cfg_desc = check_descriptor(manifest.get("config"), f"{label}: manifest config")
        cfg_digest = check_digest(cfg_desc["digest"], f"{label}: manifest config")
        config_bytes = client.blob_bytes(cfg_digest, _size(cfg_desc, f"{label}: manifest config"))
        verify_digest(config_bytes, cfg_digest, f"{label}: config")
        config = parse_config(config_bytes, f"{label}: config {cfg_digest}")
        layers = layers_from_manifest(manifest, config, label)
        for layer in layers:
            # The digest names the downloaded file and goes into the URL: it must be a digest.
            check_digest(layer.digest, f"{label}: layer {layer.index}")
        total = sum(max(layer.size, 0) for layer in layers)
        if total > limits.active().spool_bytes:
            raise limits.LimitExceededError(
                f"{label}: manifest", "spool_bytes", f"its layers add up to {total:,} bytes to download"
            )
        blob_dir = options.workdir / "blobs"
        blob_dir.mkdir(parents=True, exist_ok=True)
        repo = f"{docker.registry}/{docker.repository}"
        return Image(
            reference=ref.raw,
            transport="docker",
            manifest_digest=digest,
            config_digest=cfg_digest,
            config=config,
            layers=layers,
            blobs=_LazyBlobs(client, layers, blob_dir, options.progress, options.budget),
            platform=check_platform(config, options.platform, label),
            repo_tags=(str(docker),) if docker.tag else (),
            repo_digests=(f"{repo}@{top_digest}",),
            on_close=client.close,
            budget=options.budget,
        )


def _size(desc: Mapping[str, Any], what: str) -> int | None:
    """A descriptor's size, when it states one (then the body must have exactly that size)."""
    size = desc.get("size")
    if size is None:
        return None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ImageError(f"{what}: descriptor size {str(size)[:40]!r} is not a byte count")
    return size


class _LazyBlobs(Sequence[BlobLocation]):
    """Layer blobs fetched on first use; safe to use from several threads."""

    def __init__(
        self,
        client: RegistryClient,
        layers: tuple[LayerInfo, ...],
        blob_dir: Path,
        progress: ProgressSink | None,
        budget: ImageBudget,
    ) -> None:
        self._client = client
        self._budget = budget
        self._layers = layers
        self._dir = blob_dir
        self._progress = progress
        self._done: dict[int, BlobLocation] = {}
        self._locks = [threading.Lock() for _ in layers]

    def __len__(self) -> int:
        return len(self._layers)

    @overload
    def __getitem__(self, index: int) -> BlobLocation: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[BlobLocation]: ...

    def __getitem__(self, index: int | slice) -> BlobLocation | Sequence[BlobLocation]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        with self._locks[index]:
            found = self._done.get(index)
            if found is None:
                found = self._done[index] = self._fetch(self._layers[index])
            return found

    def _fetch(self, layer: LayerInfo) -> BlobLocation:
        dest = self._dir / file_name(layer.digest, "layer")
        progress = self._progress
        task = f"pull {layer.digest[7:19]}"
        # The manifest's size is charged before the download (the client refuses more bytes than it);
        # a blob without a size is charged once it is on disk.
        charged = max(layer.size, 0)
        self._budget.charge_spool(charged, f"{self._client.label}: layer {layer.digest}")
        if progress:
            progress.start(task, layer.size if layer.size >= 0 else None)
        self._client.download_blob(
            layer.digest, layer.size, dest, (lambda n: progress.advance(task, n)) if progress else None
        )
        if progress:
            progress.finish(task)
        size = dest.stat().st_size
        self._budget.charge_spool(size - charged, f"{self._client.label}: layer {layer.digest}")
        # Verified while downloading; the walker need not hash it again, and may report it verified.
        return BlobLocation(dest, 0, size, digest=layer.digest, verified=True)
