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
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, overload

from ci_security.errors import ImageError
from ci_security.image.auth import find_credentials
from ci_security.image.base import DEFAULT_PLATFORM, Image, SourceOptions
from ci_security.image.budget import ImageBudget
from ci_security.image.digest import file_name
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
            body, media_type, digest = client.manifest(desc["digest"], ACCEPT_MANIFESTS)
            verify_digest(body, desc["digest"], f"{label}: manifest {desc['digest']}")
            manifest = parse_json(body, f"{label}: manifest {desc['digest']}")
            if check_manifest_type(manifest, media_type, f"{label}: manifest") in INDEX_TYPES:
                raise ImageError(f"{label}: index {desc['digest']} points at another index")
        cfg_desc = check_descriptor(manifest.get("config"), f"{label}: manifest config")
        config_bytes = client.blob_bytes(cfg_desc["digest"])
        verify_digest(config_bytes, cfg_desc["digest"], f"{label}: config")
        config = parse_config(config_bytes, f"{label}: config {cfg_desc['digest']}")
        layers = layers_from_manifest(manifest, config, label)
        blob_dir = options.workdir / "blobs"
        blob_dir.mkdir(parents=True, exist_ok=True)
        repo = f"{docker.registry}/{docker.repository}"
        return Image(
            reference=ref.raw,
            transport="docker",
            manifest_digest=digest,
            config_digest=cfg_desc["digest"],
            config=config,
            layers=layers,
            blobs=_LazyBlobs(client, layers, blob_dir, options.progress, options.budget),
            platform=check_platform(config, options.platform, label),
            repo_tags=(str(docker),) if docker.tag else (),
            repo_digests=(f"{repo}@{top_digest}",),
            on_close=client.close,
            budget=options.budget,
        )


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
