"""Reader for `docker save` archives (the `docker-archive` format), shared by the archive and daemon
sources.

The archive's `manifest.json` lists, per image, the config file, the repo tags and the layer files.
Layers are usually plain tars named after their diff-id (skopeo, legacy Docker) or OCI blobs under
`blobs/sha256/` (Docker 25+); both are read in place as regions of the archive.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from ci_security import structured
from ci_security.errors import ImageError
from ci_security.image.base import Image, SourceOptions
from ci_security.image.digest import is_digest
from ci_security.image.manifest import (
    LAYER_TYPES,
    check_platform,
    created_by_of,
    diff_ids_of,
    field,
    parse_config,
    required,
    sha256_digest,
    string_list,
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
    if len(parts) >= 3 and parts[-3] == "blobs":
        named = f"{parts[-2]}:{parts[-1]}"
        return named if is_digest(named) else None
    stem = posixpath.basename(name).removesuffix(".json")
    return f"sha256:{stem}" if _HEX64.fullmatch(stem) and name.endswith(".json") else None


def _tags(entry: dict[str, Any], what: str) -> list[str]:
    return string_list(entry, "RepoTags", what)


def _choose(entries: list[Any], name: str | None, label: str) -> tuple[int, dict[str, Any]]:
    if not entries:
        raise ImageError(f"{label}: manifest.json lists no images")
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ImageError(
                f"{label}: manifest.json [{number}]: expected an object, found {structured.kind_of(entry)}"
            )
        _tags(entry, f"{label}: manifest.json [{number}]")
    if name is None:
        if len(entries) > 1:
            tags = [t for e in entries for t in _tags(e, label)]
            raise ImageError(
                f"{label}: archive holds {len(entries)} images; name one as docker-archive:PATH:TAG "
                f"or PATH:@INDEX (tags: {', '.join(tags) or 'none'})"
            )
        return 0, entries[0]
    if name.startswith("@"):
        text = name[1:]
        if text.isdigit() and len(text) < 10 and int(text) < len(entries):
            return int(text), entries[int(text)]
        raise ImageError(f"{label}: no image at index {text[:20]!r} in the archive")
    wanted = str(parse_docker_reference(name))
    for number, entry in enumerate(entries):
        for tag in _tags(entry, label):
            try:
                if str(parse_docker_reference(tag)) == wanted:
                    return number, entry
            except ImageError:
                continue
    raise ImageError(f"{label}: no image tagged {name!r} in the archive")


def open_docker_archive(
    path: Path, name: str | None, reference: str, transport: str, options: SourceOptions
) -> Image:
    """Open one image of a `docker save` archive."""
    label = reference
    index = ArchiveIndex(path, label, options.workdir, options.budget)
    if "manifest.json" not in index:
        raise ImageError(
            f"{label}: not a docker-archive (no manifest.json; for an OCI archive use oci-archive:)"
        )
    entries = structured.load_json(
        index.read("manifest.json"),
        f"{label}: manifest.json",
        size_limit="image_metadata_bytes",
        error=ImageError,
    )
    if not isinstance(entries, list):
        found = structured.kind_of(entries)
        raise ImageError(f"{label}: manifest.json is not a list of images (found {found})")
    number, entry = _choose(entries, name, label)
    what = f"{label}: manifest.json [{number}]"
    config_name = required(entry, "Config", str, what)
    required(entry, "Layers", list, what)
    layer_names = string_list(entry, "Layers", what)
    sources = field(entry, "LayerSources", dict, what) or {}
    config_bytes = index.read(config_name)
    config_what = f"{label}: config {config_name[:200]}"
    named = _digest_from_name(config_name)
    if named:
        verify_digest(config_bytes, named, config_what)
    config = parse_config(config_bytes, config_what)
    diff_ids = diff_ids_of(config, config_what)
    if len(diff_ids) != len(layer_names):
        raise ImageError(
            f"{label}: manifest.json lists {len(layer_names)} layers "
            f"but the config has {len(diff_ids)} diff-ids"
        )
    history = created_by_of(config, len(layer_names))
    layers, blobs = [], []
    for i, (layer_name, diff_id) in enumerate(zip(layer_names, diff_ids, strict=True)):
        blob_digest = _digest_from_name(layer_name)
        media_type = _PLAIN_LAYER
        declared = sources.get(diff_id)
        if declared is not None:
            declared_what = f"{what} LayerSources[{diff_id}]"
            if not isinstance(declared, dict):
                raise ImageError(f"{declared_what}: expected an object, found {structured.kind_of(declared)}")
            declared_type = field(declared, "mediaType", str, declared_what)
            if declared_type is not None:
                media_type = declared_type
                if media_type not in LAYER_TYPES:
                    raise ImageError(f"{label}: layer {diff_id} has unknown media type {media_type[:200]!r}")
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
    return Image(
        reference=reference,
        transport=transport,
        manifest_digest=None,
        config_digest=sha256_digest(config_bytes),
        config=config,
        layers=tuple(layers),
        blobs=tuple(blobs),
        platform=check_platform(config, options.platform, config_what),
        repo_tags=tuple(_tags(entry, what)),
        budget=options.budget,
    )
