"""OCI and Docker v2 manifests, indexes and configs: media types, platform choice, layer lists.

Shared by every source, so a layout on disk, a `docker save` archive and a registry pull agree on
what a valid image is. Docker schema 1 manifests (deprecated since 2017, refused by current
registries) and artifacts that are not container images (Helm charts, signatures) are rejected with
the media type named.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ci_security.errors import ImageError, UsageError
from ci_security.models import LayerInfo, Platform

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
CONFIG_TYPES = (
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
)
LAYER_TYPES = frozenset(
    {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.diff.tar.zstd",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    }
)
ACCEPT_MANIFESTS = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))

_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm", "armel": "arm"}


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def verify_digest(data: bytes, expected: str, what: str) -> None:
    """Check `data` against a `sha256:`/`sha512:` digest; raise `ImageError` naming `what`."""
    algo, _, hexdigest = expected.partition(":")
    if algo not in {"sha256", "sha512"}:
        raise ImageError(f"{what}: unsupported digest algorithm in {expected!r}")
    got = hashlib.new(algo, data).hexdigest()
    if got != hexdigest:
        raise ImageError(f"{what}: content does not match its digest (expected {expected}, got {algo}:{got})")


def parse_json(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImageError(f"{what}: malformed JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ImageError(f"{what}: expected a JSON object")
    return value


def parse_platform(text: str) -> Platform:
    """Parse `os/arch[/variant]` as `docker --platform` does (`linux/arm64/v8`)."""
    parts = text.strip().split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise UsageError(f"invalid --platform {text!r}: expected OS/ARCH[/VARIANT], e.g. linux/amd64")
    return normalize_platform(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


def normalize_platform(os_name: str, arch: str, variant: str | None) -> Platform:
    arch = _ARCH_ALIASES.get(arch.lower(), arch.lower())
    variant = variant.lower() if variant else None
    if arch == "arm64" and variant == "v8":
        variant = None  # containerd treats arm64 and arm64/v8 as the same platform
    return Platform(os=os_name.lower(), architecture=arch, variant=variant)


def _descriptor_platform(desc: Mapping[str, Any]) -> Platform | None:
    plat = desc.get("platform")
    if not isinstance(plat, dict) or not plat.get("os") or not plat.get("architecture"):
        return None
    return normalize_platform(str(plat["os"]), str(plat["architecture"]), plat.get("variant"))


def check_descriptor(desc: Any, what: str) -> dict[str, Any]:
    if not isinstance(desc, dict) or not isinstance(desc.get("digest"), str):
        raise ImageError(f"{what}: descriptor without a digest")
    return desc


def select_from_index(
    index: Mapping[str, Any], wanted: Platform | None, default: Platform, what: str
) -> dict[str, Any]:
    """Pick the manifest for a platform from an OCI index / Docker manifest list."""
    manifests = index.get("manifests")
    if not isinstance(manifests, list) or not manifests:
        raise ImageError(f"{what}: the index lists no manifests")
    target = wanted or default
    available: list[str] = []
    for raw in manifests:
        desc = check_descriptor(raw, what)
        plat = _descriptor_platform(desc)
        if plat is None or plat.os == "unknown":
            continue  # BuildKit attestation manifests and other non-image entries
        available.append(str(plat))
        if (
            plat.os == target.os
            and plat.architecture == target.architecture
            and (target.variant is None or plat.variant == target.variant)
        ):
            return desc
    raise ImageError(
        f"{what}: no image for platform {target} (available: {', '.join(sorted(set(available))) or 'none'})"
    )


def check_platform(config: Mapping[str, Any], wanted: Platform | None, what: str) -> Platform | None:
    """The platform a single-platform image declares; refuse it if it contradicts `--platform`."""
    os_name, arch = config.get("os"), config.get("architecture")
    if not isinstance(os_name, str) or not isinstance(arch, str):
        return None
    plat = normalize_platform(os_name, arch, config.get("variant"))
    if wanted is not None and (plat.os, plat.architecture) != (wanted.os, wanted.architecture):
        raise ImageError(f"{what}: image is for {plat}, not the requested platform {wanted}")
    return plat


def check_manifest_type(manifest: Mapping[str, Any], media_type: str | None, what: str) -> str:
    """Return the manifest's media type, refusing schema 1 and unknown types."""
    declared = manifest.get("mediaType")
    kind = media_type or (declared if isinstance(declared, str) else None)
    if kind is None:
        # OCI manifests may omit mediaType; the shape tells an index from a manifest.
        kind = OCI_INDEX if "manifests" in manifest else OCI_MANIFEST
    if kind in SCHEMA1 or manifest.get("schemaVersion") == 1:
        raise ImageError(
            f"{what}: Docker schema 1 manifests are not supported (re-push the image with a current client)"
        )
    if kind not in MANIFEST_TYPES and kind not in INDEX_TYPES:
        raise ImageError(f"{what}: unknown manifest media type {kind!r}")
    return kind


def layers_from_manifest(
    manifest: Mapping[str, Any], config: Mapping[str, Any], what: str
) -> tuple[LayerInfo, ...]:
    """Combine the manifest's layer descriptors with the config's diff-ids and history."""
    cfg_desc = check_descriptor(manifest.get("config"), f"{what} config")
    cfg_type = cfg_desc.get("mediaType")
    if cfg_type is not None and cfg_type not in CONFIG_TYPES:
        raise ImageError(f"{what}: not a container image (config media type {cfg_type!r})")
    descriptors = manifest.get("layers")
    if not isinstance(descriptors, list):
        raise ImageError(f"{what}: manifest has no layer list")
    diff_ids = diff_ids_of(config, what)
    if len(diff_ids) != len(descriptors):
        raise ImageError(
            f"{what}: manifest has {len(descriptors)} layers but the config lists {len(diff_ids)} diff-ids"
        )
    history = created_by_of(config, len(descriptors))
    layers = []
    for index, raw in enumerate(descriptors):
        desc = check_descriptor(raw, f"{what} layer {index}")
        media_type = str(desc.get("mediaType", ""))
        if media_type not in LAYER_TYPES:
            raise ImageError(f"{what}: layer {desc['digest']} has unknown media type {media_type!r}")
        size = desc.get("size")
        layers.append(
            LayerInfo(
                index=index,
                digest=desc["digest"],
                diff_id=diff_ids[index],
                media_type=media_type,
                size=size if isinstance(size, int) else -1,
                created_by=history[index],
            )
        )
    return tuple(layers)


def diff_ids_of(config: Mapping[str, Any], what: str) -> list[str]:
    rootfs = config.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or not all(isinstance(d, str) and ":" in d for d in diff_ids):
        raise ImageError(f"{what}: image config has no valid rootfs.diff_ids")
    return list(diff_ids)


def created_by_of(config: Mapping[str, Any], count: int) -> Sequence[str | None]:
    """The build step behind each layer: history entries that are not `empty_layer`, in order."""
    history = config.get("history")
    steps: list[str | None] = []
    if isinstance(history, list):
        for item in history:
            if isinstance(item, dict) and not item.get("empty_layer"):
                created = item.get("created_by")
                steps.append(created if isinstance(created, str) else None)
    if len(steps) != count:
        return [None] * count  # history that does not line up with the layers tells us nothing
    return steps
