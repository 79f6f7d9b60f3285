"""Build real image files for tests: layer tarballs, OCI layouts, docker-archive tarballs.

Layers are written with Python's `tarfile` (PAX format, as BuildKit writes them), whiteouts as the
OCI spec names them (`.wh.NAME`, `.wh..wh..opq`), configs with `rootfs.diff_ids` and `history`.
The results are the same formats `docker save`, `skopeo copy` and `umoci` produce; tests that need a
third party's bytes convert these with skopeo.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard


@dataclass(frozen=True)
class Entry:
    """One tar member to write."""

    path: str
    kind: str = "file"  # file, dir, symlink, hardlink, whiteout, opaque
    data: bytes = b""
    target: str = ""
    mode: int = 0o644


def file(path: str, data: bytes | str, mode: int = 0o644) -> Entry:
    return Entry(path, "file", data.encode() if isinstance(data, str) else data, mode=mode)


def directory(path: str) -> Entry:
    return Entry(path, "dir", mode=0o755)


def symlink(path: str, target: str) -> Entry:
    return Entry(path, "symlink", target=target)


def hardlink(path: str, target: str) -> Entry:
    return Entry(path, "hardlink", target=target)


def whiteout(path: str) -> Entry:
    return Entry(path, "whiteout")


def opaque(directory_path: str) -> Entry:
    return Entry(directory_path, "opaque")


def layer_tar(entries: list[Entry], *, fmt: int = tarfile.PAX_FORMAT, prefix: str = "") -> bytes:
    """A layer tarball; `prefix` ("./") mimics writers that emit ./-relative names."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for entry in entries:
            name = prefix + entry.path
            if entry.kind in ("whiteout", "opaque"):
                parent, _, base = entry.path.rpartition("/")
                wh = ".wh..wh..opq" if entry.kind == "opaque" else f".wh.{base}"
                if entry.kind == "opaque":
                    parent = entry.path
                info = tarfile.TarInfo(prefix + (f"{parent}/{wh}" if parent else wh))
                tar.addfile(info, io.BytesIO(b""))
                continue
            info = tarfile.TarInfo(name)
            info.mode = entry.mode
            if entry.kind == "file":
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
            elif entry.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif entry.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = entry.target
                tar.addfile(info)
            elif entry.kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = prefix + entry.target
                tar.addfile(info)
            else:
                raise ValueError(entry.kind)
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def compress(data: bytes, codec: str | None) -> bytes:
    if codec == "gzip":
        return gzip.compress(data, compresslevel=1, mtime=0)
    if codec == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


_LAYER_MEDIA = {
    None: "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}


@dataclass
class BuiltImage:
    """What a builder wrote: digests the tests assert on."""

    path: Path
    diff_ids: list[str]
    layer_digests: list[str]
    config_digest: str
    manifest_digest: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def make_config(
    diff_ids: list[str],
    created_by: list[str] | None = None,
    arch: str = "amd64",
    os_name: str = "linux",
    variant: str | None = None,
    user: str = "app",
) -> bytes:
    history = [
        {"created": "2024-01-01T00:00:00Z", "created_by": step}
        for step in (created_by or [f"layer {i}" for i in range(len(diff_ids))])
    ]
    config: dict[str, Any] = {
        "architecture": arch,
        "os": os_name,
        "config": {"User": user, "Env": ["PATH=/usr/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    if variant:
        config["variant"] = variant
    return json.dumps(config, sort_keys=True).encode()


def _write_blob(root: Path, data: bytes) -> str:
    digest = sha256(data)
    blob_dir = root / "blobs" / "sha256"
    blob_dir.mkdir(parents=True, exist_ok=True)
    (blob_dir / digest.split(":")[1]).write_bytes(data)
    return digest


def write_image_blobs(
    root: Path,
    layers: list[list[Entry]],
    *,
    codec: str | None = "gzip",
    created_by: list[str] | None = None,
    arch: str = "amd64",
    variant: str | None = None,
    layer_tars: list[bytes] | None = None,
) -> tuple[dict[str, Any], BuiltImage]:
    """Write layer and config blobs into an OCI layout's blobs/ and return the manifest.
    `layer_tars` replaces the generated layer bytes (to write oversized or hostile layers)."""
    tars = layer_tars if layer_tars is not None else [layer_tar(entries) for entries in layers]
    diff_ids = [sha256(t) for t in tars]
    blobs = [compress(t, codec) for t in tars]
    layer_digests = [_write_blob(root, b) for b in blobs]
    config = make_config(diff_ids, created_by, arch=arch, variant=variant)
    config_digest = _write_blob(root, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": len(config),
        },
        "layers": [
            {"mediaType": _LAYER_MEDIA[codec], "digest": d, "size": len(b)}
            for d, b in zip(layer_digests, blobs, strict=True)
        ],
    }
    return manifest, BuiltImage(root, diff_ids, layer_digests, config_digest)


def build_oci_layout(
    root: Path,
    layers: list[list[Entry]],
    *,
    tag: str = "latest",
    codec: str | None = "gzip",
    created_by: list[str] | None = None,
    layer_tars: list[bytes] | None = None,
) -> BuiltImage:
    """An OCI image layout directory holding one image named `tag`."""
    root.mkdir(parents=True, exist_ok=True)
    manifest, built = write_image_blobs(
        root, layers, codec=codec, created_by=created_by, layer_tars=layer_tars
    )
    data = json.dumps(manifest).encode()
    built.manifest_digest = _write_blob(root, data)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": built.manifest_digest,
                "size": len(data),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (root / "index.json").write_text(json.dumps(index))
    return built


def build_oci_layout_from_files(root: Path, layers: list[Path], *, tag: str = "latest") -> BuiltImage:
    """An OCI layout whose layers are existing gzip-compressed tar files (streamed, for layers too
    large to build in memory); the files are moved into the layout."""
    root.mkdir(parents=True, exist_ok=True)
    blob_dir = root / "blobs" / "sha256"
    blob_dir.mkdir(parents=True, exist_ok=True)
    diff_ids, digests, sizes = [], [], []
    for path in layers:
        blob_hash, diff_hash = hashlib.sha256(), hashlib.sha256()
        with open(path, "rb") as raw:
            while chunk := raw.read(8 << 20):
                blob_hash.update(chunk)
        with gzip.open(path, "rb") as plain:
            while chunk := plain.read(8 << 20):
                diff_hash.update(chunk)
        digest = "sha256:" + blob_hash.hexdigest()
        sizes.append(path.stat().st_size)
        path.rename(blob_dir / blob_hash.hexdigest())
        digests.append(digest)
        diff_ids.append("sha256:" + diff_hash.hexdigest())
    config = make_config(diff_ids)
    config_digest = _write_blob(root, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": len(config),
        },
        "layers": [
            {"mediaType": _LAYER_MEDIA["gzip"], "digest": d, "size": n}
            for d, n in zip(digests, sizes, strict=True)
        ],
    }
    data = json.dumps(manifest).encode()
    manifest_digest = _write_blob(root, data)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(
        json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": manifest_digest,
                        "size": len(data),
                        "annotations": {"org.opencontainers.image.ref.name": tag},
                    }
                ],
            }
        )
    )
    return BuiltImage(root, diff_ids, digests, config_digest, manifest_digest)


def build_multiplatform_layout(
    root: Path, per_platform: dict[str, list[list[Entry]]], *, tag: str = "latest"
) -> dict[str, str]:
    """An OCI layout whose `tag` is an index of one image per platform ("linux/arm64/v8" …);
    returns platform → manifest digest."""
    root.mkdir(parents=True, exist_ok=True)
    descriptors, digests = [], {}
    for plat, layers in per_platform.items():
        os_name, arch, *rest = plat.split("/")
        manifest, _ = write_image_blobs(root, layers, arch=arch, variant=rest[0] if rest else None)
        data = json.dumps(manifest).encode()
        digest = _write_blob(root, data)
        digests[plat] = digest
        platform: dict[str, str] = {"os": os_name, "architecture": arch}
        if rest:
            platform["variant"] = rest[0]
        descriptors.append(
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest,
                "size": len(data),
                "platform": platform,
            }
        )
    # A BuildKit-style attestation entry that must be ignored when choosing a platform.
    descriptors.append(
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digests[next(iter(digests))],
            "size": 1,
            "platform": {"os": "unknown", "architecture": "unknown"},
        }
    )
    index_doc = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": descriptors}
    ).encode()
    index_digest = _write_blob(root, index_doc)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(
        json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": "application/vnd.oci.image.index.v1+json",
                        "digest": index_digest,
                        "size": len(index_doc),
                        "annotations": {"org.opencontainers.image.ref.name": tag},
                    }
                ],
            }
        )
    )
    digests["index"] = index_digest
    return digests


def build_docker_archive(
    path: Path,
    layers: list[list[Entry]],
    *,
    repo_tags: list[str] | None = None,
    codec: str | None = None,
    created_by: list[str] | None = None,
    layer_tars: list[bytes] | None = None,
    user: str = "app",
) -> BuiltImage:
    """A `docker save`-style tarball: `<diff-id>.tar` layers, `<config digest>.json`, manifest.json.
    `layer_tars` overrides the generated layer bytes (to write corrupt or hostile layers); `user` is
    the config's `User` ("" runs as root)."""
    tars = layer_tars if layer_tars is not None else [layer_tar(entries) for entries in layers]
    diff_ids = [sha256(t) for t in tars]
    config = make_config(diff_ids, created_by, user=user)
    config_digest = sha256(config)
    members: list[tuple[str, bytes]] = []
    layer_names = []
    for diff_id, tar in zip(diff_ids, tars, strict=True):
        name = f"{diff_id.split(':')[1]}.tar"
        layer_names.append(name)
        members.append((name, compress(tar, codec)))
    members.append((f"{config_digest.split(':')[1]}.json", config))
    manifest = [
        {
            "Config": f"{config_digest.split(':')[1]}.json",
            "RepoTags": repo_tags if repo_tags is not None else ["demo/app:1.0"],
            "Layers": layer_names,
        }
    ]
    members.append(("manifest.json", json.dumps(manifest).encode()))
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return BuiltImage(path, diff_ids, diff_ids, config_digest)


DPKG_STATUS_TEMPLATE = """Package: {name}
Status: install ok installed
Priority: required
Architecture: amd64
Version: {version}
Description: test package {name}
 long description line

"""


def dpkg_status(*packages: tuple[str, str]) -> str:
    return "".join(DPKG_STATUS_TEMPLATE.format(name=n, version=v) for n, v in packages)


DEBIAN_RELEASE = [
    directory("etc"),
    directory("usr"),
    directory("usr/lib"),
    file(
        "usr/lib/os-release",
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
    ),
    symlink("etc/os-release", "../usr/lib/os-release"),
    file("etc/debian_version", "12.5\n"),
]


def restamp_oci_layout(
    root: Path,
    *,
    config: Callable[[dict[str, Any]], None] | None = None,
    manifest: Callable[[dict[str, Any]], None] | None = None,
    index: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Change the config, manifest and/or index.json of a one-image layout and store each again under
    its new digest, as a writer that means it would: the layout stays internally consistent, so what
    a test sees is the effect of the change itself (a wrong type, a lying diff-id), not a digest
    mismatch."""
    index_doc = json.loads((root / "index.json").read_text())
    manifest_digest = index_doc["manifests"][0]["digest"]
    manifest_doc = json.loads((root / "blobs" / "sha256" / manifest_digest.split(":")[1]).read_text())
    config_digest = manifest_doc["config"]["digest"]
    config_doc = json.loads((root / "blobs" / "sha256" / config_digest.split(":")[1]).read_text())
    if config:
        config(config_doc)
    data = json.dumps(config_doc).encode()
    manifest_doc["config"].update(digest=_write_blob(root, data), size=len(data))
    if manifest:
        manifest(manifest_doc)
    data = json.dumps(manifest_doc).encode()
    index_doc["manifests"][0].update(digest=_write_blob(root, data), size=len(data))
    if index:
        index(index_doc)
    (root / "index.json").write_text(json.dumps(index_doc))


def rpm_header(
    name: str, version: str, release: str, *, epoch: int | None = None, arch: str = "x86_64", source: str = ""
) -> bytes:
    """An rpm header blob (the immutable region rpm stores per package) with the tags the rpm
    cataloger reads: NAME, VERSION, RELEASE, EPOCH, ARCH and SOURCERPM."""
    import struct

    def text(value: str) -> bytes:
        return value.encode() + b"\0"

    entries: list[tuple[int, int, bytes]] = [
        (1000, 6, text(name)),
        (1001, 6, text(version)),
        (1002, 6, text(release)),
    ]
    if epoch is not None:
        entries.append((1003, 4, struct.pack(">I", epoch)))
    entries.append((1022, 6, text(arch)))
    if source:
        entries.append((1044, 6, text(source)))
    index = data = b""
    for tag, typ, raw in entries:
        data += b"\0" * (-len(data) % (4 if typ == 4 else 1))
        index += struct.pack(">IIII", tag, typ, len(data), 1)
        data += raw
    return struct.pack(">II", len(entries), len(data)) + index + data


def rpmdb_sqlite(*packages: bytes) -> bytes:
    """An `rpmdb.sqlite` (RHEL 9, Amazon Linux 2023, Oracle Linux 9) holding the given header blobs."""
    import sqlite3
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rpmdb.sqlite"
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
            conn.executemany("INSERT INTO Packages (blob) VALUES (?)", [(p,) for p in packages])
        conn.close()
        return path.read_bytes()
