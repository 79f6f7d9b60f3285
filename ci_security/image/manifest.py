"""OCI and Docker v2 manifests, indexes and configs: media types, platform choice, layer lists.

Shared by every source, so a layout on disk, a `docker save` archive and a registry pull agree on
what a valid image is. Docker schema 1 manifests (deprecated since 2017, refused by current
registries) and artifacts that are not container images (Helm charts, signatures) are rejected with
the media type named.

Every document is untrusted: it is decoded by `structured.load_json` (size, depth, UTF-8 bounded)
and each key this tool reads is type-checked before use (`check_descriptor`, `check_config`), so a
number where a string belongs is one error naming the file and the key. Digests must match the
strict grammar of `image.digest` before they name a file or a URL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from ci_security import structured
from ci_security.errors import ImageError, UsageError
from ci_security.image import digest as digests
from ci_security.models import LayerInfo, Platform

T = TypeVar("T")

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
    return digests.compute(data)


def verify_digest(data: bytes, expected: str, what: str) -> None:
    """Check `data` against a `sha256:`/`sha512:` digest; raise `ImageError` naming `what`."""
    digests.verify(data, expected, what)


def parse_json(data: bytes, what: str) -> dict[str, Any]:
    """One JSON object from an image (manifest, index, config): size, depth and UTF-8 checked by
    `structured.load_json`, then the top level checked to be an object.
    """
    value = structured.load_json(data, what, size_limit="image_metadata_bytes", error=ImageError)
    if not isinstance(value, dict):
        raise ImageError(f"{what}: expected a JSON object, found {structured.kind_of(value)}")
    return value


def parse_config(data: bytes, what: str) -> dict[str, Any]:
    """An image config: `parse_json`, then every key this tool reads type-checked (`check_config`)."""
    config = parse_json(data, what)
    check_config(config, what)
    return config


def field(
    obj: Mapping[str, Any],
    key: str,
    kind: type[T],
    what: str,
    *,
    default: T | None = None,
    required: bool = False,
) -> T | None:
    """`structured.field` raising `ImageError` (exit 2, the file and the key named); None when the
    key is absent or null and there is no default.
    """
    value: T | None = structured.field(
        obj, key, kind, what, default=default, required=required, error=ImageError
    )
    return value


def required(obj: Mapping[str, Any], key: str, kind: type[T], what: str) -> T:
    """A key that must be present with type `kind`."""
    value: T = structured.field(obj, key, kind, what, required=True, error=ImageError)
    return value


def string_list(obj: Mapping[str, Any], key: str, what: str) -> list[str]:
    """An optional array of strings (`RepoTags`, `Env`); every element checked."""
    items: list[Any] = field(obj, key, list, what) or []
    for number, item in enumerate(items):
        if not isinstance(item, str):
            raise ImageError(f"{what}: {key!r}[{number}] must be a string, found {structured.kind_of(item)}")
    return items


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


def _descriptor_platform(desc: Mapping[str, Any], what: str) -> Platform | None:
    plat = field(desc, "platform", dict, what)
    if plat is None:
        return None
    where = f"{what} platform"
    os_name = field(plat, "os", str, where)
    arch = field(plat, "architecture", str, where)
    variant = field(plat, "variant", str, where)
    if not os_name or not arch:
        return None
    return normalize_platform(os_name, arch, variant)


def check_descriptor(desc: Any, what: str) -> dict[str, Any]:
    """A content descriptor with the types this tool reads checked: `digest` (strict grammar),
    `mediaType`, `size` (a non-negative integer), `annotations` (strings) and `platform`.
    """
    if not isinstance(desc, dict):
        raise ImageError(f"{what}: expected a descriptor object, found {structured.kind_of(desc)}")
    digests.check_digest(required(desc, "digest", str, what), f"{what} 'digest'")
    field(desc, "mediaType", str, what)
    size = field(desc, "size", int, what)
    if size is not None and size < 0:
        raise ImageError(f"{what}: 'size' must not be negative ({size})")
    annotations = field(desc, "annotations", dict, what)
    for key, value in (annotations or {}).items():
        if not isinstance(value, str):
            raise ImageError(
                f"{what}: annotation {key[:100]!r} must be a string, found {structured.kind_of(value)}"
            )
    _descriptor_platform(desc, what)
    return desc


def descriptors(doc: Mapping[str, Any], key: str, what: str) -> list[dict[str, Any]]:
    """The descriptors of `doc[key]` (`manifests` of an index, `layers` of a manifest), each checked."""
    items = field(doc, key, list, what) or []
    return [check_descriptor(item, f"{what} {key}[{number}]") for number, item in enumerate(items)]


def select_from_index(
    index: Mapping[str, Any], wanted: Platform | None, default: Platform, what: str
) -> dict[str, Any]:
    """Pick the manifest for a platform from an OCI index / Docker manifest list."""
    manifests = descriptors(index, "manifests", what)
    if not manifests:
        raise ImageError(f"{what}: the index lists no manifests")
    target = wanted or default
    available: list[str] = []
    for number, desc in enumerate(manifests):
        plat = _descriptor_platform(desc, f"{what} manifests[{number}]")
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


def check_config(config: Mapping[str, Any], what: str) -> None:
    """Check the types of every image-config key this tool reads (`os`, `architecture`, `variant`,
    `created`, `config.User`, `rootfs.diff_ids`, `history`), so a wrong type is one error naming
    the key rather than a failure wherever the value is first used.
    """
    for key in ("os", "architecture", "variant", "created"):
        field(config, key, str, what)
    inner = field(config, "config", dict, what)
    if inner is not None:
        field(inner, "User", str, f"{what} config")
        string_list(inner, "Env", f"{what} config")
    rootfs = required(config, "rootfs", dict, what)
    diff_ids = required(rootfs, "diff_ids", list, f"{what} rootfs")
    for number, diff_id in enumerate(diff_ids):
        digests.check_digest(diff_id, f"{what} rootfs.diff_ids[{number}]")
    history = field(config, "history", list, what) or []
    for number, item in enumerate(history):
        where = f"{what} history[{number}]"
        if not isinstance(item, dict):
            raise ImageError(f"{where}: expected an object, found {structured.kind_of(item)}")
        field(item, "created_by", str, where)
        field(item, "empty_layer", bool, where)


def check_platform(config: Mapping[str, Any], wanted: Platform | None, what: str) -> Platform | None:
    """The platform a single-platform image declares; refuse it if it contradicts `--platform`."""
    os_name = field(config, "os", str, what)
    arch = field(config, "architecture", str, what)
    if not os_name or not arch:
        return None
    plat = normalize_platform(os_name, arch, field(config, "variant", str, what))
    if wanted is not None and (plat.os, plat.architecture) != (wanted.os, wanted.architecture):
        raise ImageError(f"{what}: image is for {plat}, not the requested platform {wanted}")
    return plat


def check_manifest_type(manifest: Mapping[str, Any], media_type: str | None, what: str) -> str:
    """Return the manifest's media type, refusing schema 1 and unknown types."""
    declared = field(manifest, "mediaType", str, what)
    schema = field(manifest, "schemaVersion", int, what)
    kind = media_type or declared
    if kind is None:
        # OCI manifests may omit mediaType; the shape tells an index from a manifest.
        kind = OCI_INDEX if "manifests" in manifest else OCI_MANIFEST
    if kind in SCHEMA1 or schema == 1:
        raise ImageError(
            f"{what}: Docker schema 1 manifests are not supported (re-push the image with a current client)"
        )
    if kind not in MANIFEST_TYPES and kind not in INDEX_TYPES:
        raise ImageError(f"{what}: unknown manifest media type {kind[:200]!r}")
    return kind


def layers_from_manifest(
    manifest: Mapping[str, Any], config: Mapping[str, Any], what: str
) -> tuple[LayerInfo, ...]:
    """Combine the manifest's layer descriptors with the config's diff-ids and history."""
    cfg_desc = check_descriptor(required(manifest, "config", dict, what), f"{what} config")
    cfg_type = cfg_desc.get("mediaType")
    if cfg_type is not None and cfg_type not in CONFIG_TYPES:
        raise ImageError(f"{what}: not a container image (config media type {cfg_type[:200]!r})")
    if field(manifest, "layers", list, what) is None:
        raise ImageError(f"{what}: manifest has no layer list")
    layer_descs = descriptors(manifest, "layers", what)
    diff_ids = diff_ids_of(config, what)
    if len(diff_ids) != len(layer_descs):
        raise ImageError(
            f"{what}: manifest has {len(layer_descs)} layers but the config lists {len(diff_ids)} diff-ids"
        )
    history = created_by_of(config, len(layer_descs))
    layers = []
    for index, desc in enumerate(layer_descs):
        media_type = desc.get("mediaType", "")
        if media_type not in LAYER_TYPES:
            raise ImageError(f"{what}: layer {desc['digest']} has unknown media type {media_type[:200]!r}")
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
    """`rootfs.diff_ids`, each a valid digest (`check_config` has checked the types)."""
    check_config(config, what)
    return list(config["rootfs"]["diff_ids"])


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
