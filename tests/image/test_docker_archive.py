import gzip
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from testkit.images import build_docker_archive, build_oci_layout, file, layer_tar, sha256, whiteout

from ci_security.errors import ImageError
from ci_security.image.base import SourceOptions
from ci_security.image.docker_archive import DockerArchiveSource
from ci_security.image.reference import parse_image_ref
from ci_security.image.tarwalk import LayerWalker

LAYERS = [[file("etc/hostname", "a"), file("etc/motd", "hi")], [whiteout("etc/motd"), file("app/x", "y")]]


def _open(tmp_path: Path, ref: str):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return DockerArchiveSource().open(parse_image_ref(ref), SourceOptions(workdir=work))


def _walk_all(image) -> list[list[str]]:
    out = []
    for layer, loc in zip(image.layers, image.blobs, strict=True):
        with LayerWalker(loc, layer.digest) as walker:
            out.append([m.path for m in walker])
    return out


def test_open_and_walk(tmp_path):
    built = build_docker_archive(tmp_path / "app.tar", LAYERS, created_by=["ADD rootfs /", "COPY app /app"])
    image = _open(tmp_path, f"docker-archive:{tmp_path / 'app.tar'}")
    assert [layer.diff_id for layer in image.layers] == built.diff_ids
    assert image.config_digest == built.config_digest
    assert image.manifest_digest is None
    assert image.repo_tags == ("demo/app:1.0",)
    assert [layer.created_by for layer in image.layers] == ["ADD rootfs /", "COPY app /app"]
    assert str(image.platform) == "linux/amd64"
    assert _walk_all(image) == [["etc/hostname", "etc/motd"], ["etc/motd", "app/x"]]


def test_gzip_compressed_archive_and_layers(tmp_path):
    build_docker_archive(tmp_path / "plain.tar", LAYERS, codec="gzip")
    (tmp_path / "app.tar.gz").write_bytes(gzip.compress((tmp_path / "plain.tar").read_bytes()))
    image = _open(tmp_path, f"docker-archive:{tmp_path / 'app.tar.gz'}")
    assert _walk_all(image)[1] == ["etc/motd", "app/x"]


def test_compressed_layer_checked_against_diff_id(tmp_path):
    good = layer_tar(LAYERS[0])
    built = build_docker_archive(tmp_path / "app.tar", [], layer_tars=[good], codec="gzip")
    image = _open(tmp_path, f"docker-archive:{tmp_path / 'app.tar'}")
    assert image.layers[0].diff_id == built.diff_ids[0] == sha256(good)
    assert _walk_all(image) == [["etc/hostname", "etc/motd"]]


def test_select_image_by_tag_and_index(tmp_path):
    archive = tmp_path / "two.tar"
    build_docker_archive(archive, LAYERS, repo_tags=["demo/app:1.0"])
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    manifest.append(dict(manifest[0], RepoTags=["ghcr.io/o/other:2"]))
    _replace_member(archive, "manifest.json", json.dumps(manifest).encode())
    assert _open(tmp_path, f"docker-archive:{archive}:ghcr.io/o/other:2").repo_tags == ("ghcr.io/o/other:2",)
    assert _open(tmp_path, f"docker-archive:{archive}:docker.io/demo/app:1.0").repo_tags == ("demo/app:1.0",)
    assert _open(tmp_path, f"docker-archive:{archive}:@1").repo_tags == ("ghcr.io/o/other:2",)
    with pytest.raises(ImageError, match="holds 2 images"):
        _open(tmp_path, f"docker-archive:{archive}")
    with pytest.raises(ImageError, match="no image tagged"):
        _open(tmp_path, f"docker-archive:{archive}:nope:1")


def test_skopeo_written_archive(tmp_path):
    build_oci_layout(tmp_path / "layout", LAYERS, tag="v1")
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--insecure-policy",
            f"oci:{tmp_path / 'layout'}:v1",
            f"docker-archive:{tmp_path / 'sk.tar'}:demo/app:v1",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    image = _open(tmp_path, f"docker-archive:{tmp_path / 'sk.tar'}")
    assert image.repo_tags == ("docker.io/demo/app:v1",) or image.repo_tags == ("demo/app:v1",)
    assert _walk_all(image) == [["etc/hostname", "etc/motd"], ["etc/motd", "app/x"]]


def test_layer_not_matching_its_diff_id(tmp_path):
    good = layer_tar(LAYERS[0])
    bad = good.replace(b"hi", b"ho")
    archive = tmp_path / "bad.tar"
    build_docker_archive(archive, [], layer_tars=[good])
    raw = archive.read_bytes().replace(good, bad)
    archive.write_bytes(raw)
    image = _open(tmp_path, f"docker-archive:{archive}")
    from ci_security.errors import LayerError

    with pytest.raises(LayerError, match="does not match its digest"):
        _walk_all(image)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p.write_bytes(b"not a tar at all" * 100), "not a readable tar archive|archive is empty"),
        (lambda p: p.write_bytes(p.read_bytes()[:3000]), "truncated|not a readable tar"),
        (lambda p: _replace_member(p, "manifest.json", b"{nope"), "manifest.json: invalid JSON"),
        (
            lambda p: _replace_member(p, "manifest.json", b'[{"Config": "missing.json", "Layers": []}]'),
            "missing.json is missing",
        ),
        (lambda p: _drop_layer(p), "blob .* is missing from the archive"),
    ],
)
def test_bad_archives(tmp_path, mutate, message):
    archive = tmp_path / "app.tar"
    build_docker_archive(archive, LAYERS)
    mutate(archive)
    with pytest.raises(ImageError, match=message):
        _open(tmp_path, f"docker-archive:{archive}")


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="does not exist"):
        _open(tmp_path, f"docker-archive:{tmp_path / 'nope.tar'}")


def test_oci_archive_given_as_docker_archive(tmp_path):
    build_oci_layout(tmp_path / "layout", LAYERS, tag="v1")
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--insecure-policy",
            f"oci:{tmp_path / 'layout'}:v1",
            f"oci-archive:{tmp_path / 'o.tar'}",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with pytest.raises(ImageError, match="use oci-archive:"):
        _open(tmp_path, f"docker-archive:{tmp_path / 'o.tar'}")


def _replace_member(path: Path, name: str, data: bytes) -> None:
    members = []
    with tarfile.open(path) as src:
        for member in src:
            content = data if member.name == name else src.extractfile(member).read()
            members.append((member, content))
    with tarfile.open(path, "w") as dst:
        for member, content in members:
            member.size = len(content)
            dst.addfile(member, io.BytesIO(content))


def _drop_layer(path: Path) -> None:
    with tarfile.open(path) as src:
        members = [(m, src.extractfile(m).read()) for m in src if not m.name.endswith(".tar")]
    with tarfile.open(path, "w") as dst:
        for member, content in members:
            dst.addfile(member, io.BytesIO(content))
