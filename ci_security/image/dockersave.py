"""Reader for `docker save` archives (the `docker-archive` format), shared by the archive and daemon
sources.

The archive's `manifest.json` lists, per image, the config file, the repo tags and the layer files.
Layers are usually plain tars named after their diff-id (skopeo, legacy Docker) or OCI blobs under
`blobs/sha256/` (Docker 25+); both are read in place as regions of the archive.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any

from ci_security.errors import ImageError
from ci_security.image.base import Image, SourceOptions
from ci_security.image.manifest import (
    LAYER_TYPES,
    check_platform,
    created_by_of,
    diff_ids_of,
    parse_json,
    sha256_digest,
    verify_digest,
)
from ci_security.image.reference import parse_docker_reference
from ci_security.image.tarindex import ArchiveIndex
from ci_security.models import LayerInfo

_HEX64 = re.compile(r"[0-9a-f]{64}")
_PLAIN_LAYER = "application/vnd.docker.image.rootfs.diff.tar"


def _digest_from_name(name: str) -> str | None:
    """`blobs/sha256/<hex>` and `<hex>.json` name their own digest; legacy `<id>/layer.tar` does not."""
    parts = name.split("/")
    if len(parts) >= 3 and parts[-3] == "blobs" and _HEX64.fullmatch(parts[-1]):
        return f"{parts[-2]}:{parts[-1]}"
    stem = posixpath.basename(name).removesuffix(".json")
    return f"sha256:{stem}" if _HEX64.fullmatch(stem) and name.endswith(".json") else None


def _choose(entries: list[Any], name: str | None, label: str) -> dict[str, Any]:
    if not entries or not all(isinstance(e, dict) for e in entries):
        raise ImageError(f"{label}: manifest.json lists no images")
    if name is None:
        if len(entries) > 1:
            tags = [t for e in entries for t in e.get("RepoTags") or []]
            raise ImageError(
                f"{label}: archive holds {len(entries)} images; name one as docker-archive:PATH:TAG "
                f"or PATH:@INDEX (tags: {', '.join(tags) or 'none'})"
            )
        return dict(entries[0])
    if name.startswith("@"):
        try:
            return dict(entries[int(name[1:])])
        except (ValueError, IndexError):
            raise ImageError(f"{label}: no image at index {name[1:]!r} in the archive") from None
    wanted = str(parse_docker_reference(name))
    for entry in entries:
        for tag in entry.get("RepoTags") or []:
            try:
                if str(parse_docker_reference(tag)) == wanted:
                    return dict(entry)
            except ImageError:
                continue
    raise ImageError(f"{label}: no image tagged {name!r} in the archive")


def open_docker_archive(
    path: Path, name: str | None, reference: str, transport: str, options: SourceOptions
) -> Image:
    """Open one image of a `docker save` archive."""
    label = reference
    index = ArchiveIndex(path, label, options.workdir)
    if "manifest.json" not in index:
        raise ImageError(
            f"{label}: not a docker-archive (no manifest.json; for an OCI archive use oci-archive:)"
        )
    try:
        entries = json.loads(index.read("manifest.json"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImageError(f"{label}: manifest.json is malformed ({exc})") from None
    if not isinstance(entries, list):
        raise ImageError(f"{label}: manifest.json is not a list of images")
    entry = _choose(entries, name, label)
    config_name = entry.get("Config")
    layer_names = entry.get("Layers")
    if not isinstance(config_name, str) or not isinstance(layer_names, list):
        raise ImageError(f"{label}: manifest.json entry lacks Config or Layers")
    config_bytes = index.read(config_name)
    named = _digest_from_name(config_name)
    if named:
        verify_digest(config_bytes, named, f"{label}: config {config_name}")
    config = parse_json(config_bytes, f"{label}: config {config_name}")
    diff_ids = diff_ids_of(config, label)
    if len(diff_ids) != len(layer_names):
        raise ImageError(
            f"{label}: manifest.json lists {len(layer_names)} layers "
            f"but the config has {len(diff_ids)} diff-ids"
        )
    history = created_by_of(config, len(layer_names))
    sources = entry.get("LayerSources") if isinstance(entry.get("LayerSources"), dict) else {}
    layers, blobs = [], []
    for i, (layer_name, diff_id) in enumerate(zip(layer_names, diff_ids, strict=True)):
        if not isinstance(layer_name, str):
            raise ImageError(f"{label}: manifest.json has a layer that is not a file name")
        blob_digest = _digest_from_name(layer_name)
        media_type = _PLAIN_LAYER
        declared = sources.get(diff_id) if sources else None
        if isinstance(declared, dict) and isinstance(declared.get("mediaType"), str):
            media_type = declared["mediaType"]
            if media_type not in LAYER_TYPES:
                raise ImageError(f"{label}: layer {diff_id} has unknown media type {media_type!r}")
        loc = index.location(layer_name, digest=blob_digest, diff_id=None if blob_digest else diff_id)
        layers.append(
            LayerInfo(
                index=i,
                digest=blob_digest or diff_id,
                diff_id=diff_id,
                media_type=media_type,
                size=loc.length,
                created_by=history[i],
            )
        )
        blobs.append(loc)
    tags = tuple(t for t in entry.get("RepoTags") or [] if isinstance(t, str))
    return Image(
        reference=reference,
        transport=transport,
        manifest_digest=None,
        config_digest=sha256_digest(config_bytes),
        config=config,
        layers=tuple(layers),
        blobs=tuple(blobs),
        platform=check_platform(config, options.platform, label),
        repo_tags=tags,
    )
