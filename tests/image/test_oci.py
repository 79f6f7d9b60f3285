import json
import subprocess
from pathlib import Path

import pytest
from testkit.images import build_multiplatform_layout, build_oci_layout, file

from ci_security.errors import ImageError, UsageError
from ci_security.image.base import SourceOptions
from ci_security.image.manifest import parse_platform
from ci_security.image.oci import OciSource
from ci_security.image.reference import parse_image_ref
from ci_security.image.tarwalk import LayerWalker

LAYERS = [[file("etc/alpine-release", "3.19.1\n")], [file("app/main.py", "print(1)\n")]]


def _open(tmp_path: Path, ref: str, platform: str | None = None):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    opts = SourceOptions(workdir=work, platform=parse_platform(platform) if platform else None)
    return OciSource().open(parse_image_ref(ref), opts)


@pytest.mark.parametrize("codec", [None, "gzip", "zstd"])
def test_layout_directory(tmp_path, codec):
    built = build_oci_layout(tmp_path / "lay", LAYERS, tag="v1", codec=codec)
    image = _open(tmp_path, f"oci:{tmp_path / 'lay'}:v1")
    assert image.manifest_digest == built.manifest_digest
    assert [layer.digest for layer in image.layers] == built.layer_digests
    assert [layer.diff_id for layer in image.layers] == built.diff_ids
    for loc in image.blobs:
        with LayerWalker(loc, "l") as walker:
            assert len(list(walker)) == 1
    # One image in the layout: the name may be left out.
    assert _open(tmp_path, f"oci:{tmp_path / 'lay'}").manifest_digest == built.manifest_digest


def test_oci_archive_written_by_skopeo(tmp_path):
    build_oci_layout(tmp_path / "lay", LAYERS, tag="v1")
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--insecure-policy",
            f"oci:{tmp_path / 'lay'}:v1",
            f"oci-archive:{tmp_path / 'img.tar'}:v1",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    image = _open(tmp_path, f"oci-archive:{tmp_path / 'img.tar'}")
    assert len(image.layers) == 2
    with LayerWalker(image.blobs[1], "l") as walker:
        assert [m.path for m in walker] == ["app/main.py"]


def test_platform_selection_from_an_index(tmp_path):
    digests = build_multiplatform_layout(
        tmp_path / "multi",
        {
            "linux/amd64": [[file("arch", "amd64")]],
            "linux/arm64/v8": [[file("arch", "arm64")]],
            "linux/arm/v7": [[file("arch", "armv7")]],
        },
    )
    ref = f"oci:{tmp_path / 'multi'}:latest"
    assert _open(tmp_path, ref).manifest_digest == digests["linux/amd64"]
    assert _open(tmp_path, ref, "linux/arm64").manifest_digest == digests["linux/arm64/v8"]
    assert _open(tmp_path, ref, "linux/aarch64/v8").manifest_digest == digests["linux/arm64/v8"]
    assert _open(tmp_path, ref, "linux/arm/v7").manifest_digest == digests["linux/arm/v7"]
    with pytest.raises(
        ImageError,
        match=r"no image for platform linux/s390x \(available: linux/amd64, linux/arm/v7, linux/arm64\)",
    ):
        _open(tmp_path, ref, "linux/s390x")


def test_explicit_platform_must_match_a_single_platform_image(tmp_path):
    build_oci_layout(tmp_path / "lay", LAYERS)
    with pytest.raises(ImageError, match="image is for linux/amd64, not the requested platform linux/arm64"):
        _open(tmp_path, f"oci:{tmp_path / 'lay'}", "linux/arm64")


def test_bad_platform_flag():
    with pytest.raises(UsageError):
        parse_platform("amd64")


def _manifest_path(root: Path) -> Path:
    digest = json.loads((root / "index.json").read_text())["manifests"][0]["digest"]
    return root / "blobs" / "sha256" / digest.split(":")[1]


def _rewrite_manifest(root: Path, change) -> None:
    path = _manifest_path(root)
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))  # digest no longer matches its name on purpose in some tests


def test_manifest_tampered_with(tmp_path):
    build_oci_layout(tmp_path / "lay", LAYERS)
    _rewrite_manifest(tmp_path / "lay", lambda d: d.update(annotations={"x": "y"}))
    with pytest.raises(ImageError, match="does not match its digest"):
        _open(tmp_path, f"oci:{tmp_path / 'lay'}")


def _rehash(root: Path, change) -> None:
    """Change the manifest and store it under its new digest, as a valid-but-odd layout would."""
    import hashlib

    path = _manifest_path(root)
    doc = json.loads(path.read_text())
    change(doc)
    data = json.dumps(doc).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (root / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
    index = json.loads((root / "index.json").read_text())
    index["manifests"][0].update(digest=digest, size=len(data))
    if "mediaType" in doc:
        index["manifests"][0]["mediaType"] = doc["mediaType"]
    (root / "index.json").write_text(json.dumps(index))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["layers"][0].update(mediaType="application/x-unknown"),
            "unknown media type 'application/x-unknown'",
        ),
        (lambda d: d.update(mediaType="application/vnd.docker.distribution.manifest.v1+json"), "schema 1"),
        (
            lambda d: d["config"].update(mediaType="application/vnd.cncf.helm.config.v1+json"),
            "not a container image",
        ),
        (lambda d: d["layers"].pop(), "2 diff-ids"),
        (lambda d: d["layers"][0].update(digest="sha256:" + "0" * 64), "is missing"),
    ],
)
def test_invalid_manifests(tmp_path, change, message):
    build_oci_layout(tmp_path / "lay", LAYERS)
    _rehash(tmp_path / "lay", change)
    with pytest.raises(ImageError, match=message):
        _open(tmp_path, f"oci:{tmp_path / 'lay'}")


def test_not_a_layout(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageError, match="not an OCI layout"):
        _open(tmp_path, f"oci:{tmp_path / 'empty'}")
    with pytest.raises(ImageError, match="is not a directory"):
        _open(tmp_path, f"oci:{tmp_path / 'missing'}")


def test_unknown_name_in_layout(tmp_path):
    build_oci_layout(tmp_path / "lay", LAYERS, tag="v1")
    with pytest.raises(ImageError, match=r"no image named 'v2' \(names: v1\)"):
        _open(tmp_path, f"oci:{tmp_path / 'lay'}:v2")


def test_blob_symlink_out_of_the_layout_is_refused(tmp_path):
    built = build_oci_layout(tmp_path / "lay", LAYERS)
    secret = tmp_path / "secret"
    secret.write_text("outside")
    blob = tmp_path / "lay" / "blobs" / "sha256" / built.layer_digests[0].split(":")[1]
    blob.unlink()
    blob.symlink_to(secret)
    with pytest.raises(ImageError, match="points outside the layout"):
        _open(tmp_path, f"oci:{tmp_path / 'lay'}")
