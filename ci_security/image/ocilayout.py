"""Reader for OCI image layouts (https://github.com/opencontainers/image-spec/blob/main/image-layout.md),
as a directory (`oci:`) or a tarball of one (`oci-archive:`).

`index.json` names images with the `org.opencontainers.image.ref.name` annotation; the chosen
descriptor may point at a multi-platform index, resolved with `--platform`. Every manifest, config
and layer blob is checked against the digest it is stored under.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Protocol

from ci_security import limits
from ci_security.errors import ImageError
from ci_security.image.base import DEFAULT_PLATFORM, Image, SourceOptions
from ci_security.image.digest import blob_path
from ci_security.image.manifest import (
    INDEX_TYPES,
    check_descriptor,
    check_manifest_type,
    check_platform,
    descriptors,
    layers_from_manifest,
    parse_config,
    parse_json,
    required,
    select_from_index,
    verify_digest,
)
from ci_security.image.tarindex import ArchiveIndex
from ci_security.image.tarwalk import BlobLocation
from ci_security.limits import LimitExceededError

REF_NAME = "org.opencontainers.image.ref.name"
_MAX_NESTING = 4


class _Blobs(Protocol):
    def read(self, name: str) -> bytes: ...

    def location(
        self, name: str, *, digest: str | None = None, diff_id: str | None = None
    ) -> BlobLocation: ...

    def __contains__(self, name: str) -> bool: ...


class _DirBlobs:
    """Blobs of a layout directory."""

    def __init__(self, root: Path, label: str) -> None:
        self.root = root
        self.label = label

    def _path(self, name: str) -> Path:
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ImageError(f"{self.label}: {name!r} points outside the layout")
        return path

    def __contains__(self, name: str) -> bool:
        return self._path(name).is_file()

    def read(self, name: str) -> bytes:
        path = self._path(name)
        bound = limits.active().image_metadata_bytes
        try:
            # Opened without blocking and checked to be a regular file: a FIFO planted in the layout
            # must not stall the scan, nor /dev/zero feed it forever.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as f:
                info = os.fstat(f.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise ImageError(f"{self.label}: {name} is not a regular file")
                if info.st_size > bound:
                    where = f"{self.label}: {name}"
                    raise LimitExceededError(where, "image_metadata_bytes", f"{info.st_size:,} bytes")
                return f.read(bound + 1)[:bound]
        except FileNotFoundError:
            raise ImageError(f"{self.label}: {name} is missing from the layout") from None
        except OSError as exc:
            raise ImageError(f"{self.label}: cannot read {name} ({exc.strerror or exc})") from None

    def location(self, name: str, *, digest: str | None = None, diff_id: str | None = None) -> BlobLocation:
        path = self._path(name)
        try:
            size = path.stat().st_size
        except OSError:
            raise ImageError(f"{self.label}: blob {name} is missing from the layout") from None
        return BlobLocation(path, 0, size, digest=digest, diff_id=diff_id)


def _read_verified(blobs: _Blobs, desc: dict[str, Any], label: str) -> bytes:
    digest = desc["digest"]
    name = blob_path(digest, f"{label}: descriptor")
    if name not in blobs:
        raise ImageError(f"{label}: blob {digest} is missing")
    data = blobs.read(name)
    verify_digest(data, digest, f"{label}: blob {digest}")
    return data


def _pick_from_layout_index(index: dict[str, Any], tag: str | None, label: str) -> dict[str, Any]:
    what = f"{label}: index.json"
    required(index, "manifests", list, what)
    descs = descriptors(index, "manifests", what)
    if not descs:
        raise ImageError(f"{label}: index.json lists no images")
    names = [(d.get("annotations") or {}).get(REF_NAME) for d in descs]
    if tag is not None:
        for desc, name in zip(descs, names, strict=True):
            if name == tag:
                return desc
        raise ImageError(
            f"{label}: no image named {tag!r} (names: {', '.join(n for n in names if n) or 'none'})"
        )
    if len(descs) == 1:
        return descs[0]
    if all("platform" in d for d in descs):
        return {"mediaType": index.get("mediaType"), "digest": "", "_index": index}
    raise ImageError(
        f"{label}: layout holds {len(descs)} images; name one as oci:DIR:NAME "
        f"(names: {', '.join(n for n in names if n) or 'none'})"
    )


def open_layout(
    blobs: _Blobs, tag: str | None, reference: str, transport: str, options: SourceOptions
) -> Image:
    label = reference
    if "oci-layout" not in blobs:
        raise ImageError(f"{label}: not an OCI layout (no oci-layout file)")
    index = parse_json(blobs.read("index.json"), f"{label}: index.json")
    desc = _pick_from_layout_index(index, tag, label)
    manifest: dict[str, Any]
    for _ in range(_MAX_NESTING):
        if "_index" in desc:  # index.json itself is the multi-platform index
            desc = select_from_index(
                desc["_index"], options.platform, DEFAULT_PLATFORM, f"{label}: index.json"
            )
            continue
        data = _read_verified(blobs, desc, label)
        doc = parse_json(data, f"{label}: manifest {desc['digest']}")
        kind = check_manifest_type(doc, desc.get("mediaType"), f"{label}: manifest {desc['digest']}")
        if kind in INDEX_TYPES:
            desc = select_from_index(
                doc, options.platform, DEFAULT_PLATFORM, f"{label}: index {desc['digest']}"
            )
            continue
        manifest = doc
        break
    else:
        raise ImageError(f"{label}: indexes nested too deeply")
    manifest_what = f"{label}: manifest {desc['digest']}"
    cfg_desc = check_descriptor(required(manifest, "config", dict, manifest_what), f"{manifest_what} config")
    config_what = f"{label}: config {cfg_desc['digest']}"
    config = parse_config(_read_verified(blobs, cfg_desc, label), config_what)
    layers = layers_from_manifest(manifest, config, manifest_what)
    locations = []
    for layer in layers:
        name = blob_path(layer.digest, f"{label}: layer")
        if name not in blobs:
            raise ImageError(f"{label}: layer blob {layer.digest} is missing")
        locations.append(blobs.location(name, digest=layer.digest))
    return Image(
        reference=reference,
        transport=transport,
        manifest_digest=desc["digest"],
        config_digest=cfg_desc["digest"],
        config=config,
        layers=layers,
        blobs=tuple(locations),
        platform=check_platform(config, options.platform, config_what),
        budget=options.budget,
    )


def open_oci_dir(path: Path, tag: str | None, reference: str, options: SourceOptions) -> Image:
    if not path.is_dir():
        raise ImageError(f"{reference}: {path} is not a directory")
    return open_layout(_DirBlobs(path, reference), tag, reference, "oci", options)


def open_oci_archive(path: Path, tag: str | None, reference: str, options: SourceOptions) -> Image:
    index = ArchiveIndex(path, reference, options.workdir, options.budget)
    return open_layout(index, tag, reference, "oci-archive", options)
