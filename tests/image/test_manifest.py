"""Schema checks at the boundary: every key read from manifest.json, index.json, a manifest or an
image config is type-checked, and a wrong type is one ImageError naming the file and the key."""

import io
import json
import tarfile
from pathlib import Path

import pytest
from testkit.images import build_docker_archive, build_oci_layout, file, restamp_oci_layout

from ci_security import limits
from ci_security.errors import ImageError
from ci_security.image.base import SourceOptions
from ci_security.image.docker_archive import DockerArchiveSource
from ci_security.image.manifest import check_config, check_descriptor, select_from_index
from ci_security.image.oci import OciSource
from ci_security.image.reference import parse_image_ref
from ci_security.limits import LimitExceededError
from ci_security.models import Platform

LAYERS = [[file("etc/alpine-release", "3.19.1\n")]]
AMD64 = Platform(os="linux", architecture="amd64")


def _layout(tmp_path: Path, **changes) -> Path:
    root = tmp_path / "lay"
    build_oci_layout(root, LAYERS)
    restamp_oci_layout(root, **changes)
    return root


def _open_oci(tmp_path: Path, root: Path):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return OciSource().open(parse_image_ref(f"oci:{root}"), SourceOptions(workdir=work))


def _set(path: str, value):
    """A change that sets a dotted path (`rootfs.diff_ids`, `manifests.0.digest`) to `value`."""

    def change(doc):
        *parents, last = path.split(".")
        for key in parents:
            doc = doc[int(key)] if isinstance(doc, list) else doc[key]
        if isinstance(doc, list):
            doc[int(last)] = value
        else:
            doc[last] = value

    return change


@pytest.mark.parametrize(
    ("where", "change", "message"),
    [
        ("index", _set("manifests", {"a": 1}), r"index.json: 'manifests' must be an array, found an object"),
        ("index", _set("manifests", 7), r"index.json: 'manifests' must be an array, found an integer"),
        ("index", _set("manifests.0", []), r"index.json manifests\[0\]: expected a descriptor object"),
        (
            "index",
            _set("manifests.0.digest", 12),
            r"'digest' must be a string, found an integer",
        ),
        ("index", _set("manifests.0.digest", "sha256:aaaa/bbbb"), r"invalid digest 'sha256:aaaa/bbbb'"),
        (
            "index",
            _set("manifests.0.digest", "sha256:" + "a" * 63 + "\0"),
            r"invalid digest 'sha256:a+\\x00'",
        ),
        (
            "index",
            _set("manifests.0.size", "12"),
            r"'size' must be an integer, found a string",
        ),
        ("index", _set("manifests.0.size", -1), r"'size' must not be negative"),
        ("index", _set("manifests.0.annotations", ["x"]), r"'annotations' must be an object, found an array"),
        (
            "index",
            _set("manifests.0.annotations", {"ref": 5}),
            r"annotation .* string",
        ),
        ("index", _set("manifests.0.platform", "linux"), r"'platform' must be an object, found a string"),
        (
            "index",
            _set("manifests.0.platform", {"os": 1}),
            r"platform: 'os' must be",
        ),
        (
            "manifest",
            _set("mediaType", 3),
            r"manifest sha256:\w+: 'mediaType' must be a string",
        ),
        ("manifest", _set("schemaVersion", "2"), r"'schemaVersion' must be an integer, found a string"),
        ("manifest", _set("config", ["x"]), r"'config' must be an object, found an array"),
        ("manifest", _set("layers", {"0": {}}), r"'layers' must be an array, found an object"),
        (
            "manifest",
            _set("layers.0", "sha256:x"),
            r"layers\[0\]: expected a descriptor object",
        ),
        ("manifest", _set("layers.0.digest", None), r"layers\[0\]: missing 'digest'"),
        ("manifest", _set("layers.0.mediaType", ["tar"]), r"layers\[0\]: 'mediaType' must be a string"),
        ("config", _set("rootfs", []), r"config sha256:\w+: 'rootfs' must be an object, found an array"),
        (
            "config",
            _set("rootfs.diff_ids", "sha256:x"),
            r"rootfs: 'diff_ids' must be an array",
        ),
        (
            "config",
            _set("rootfs.diff_ids.0", 5),
            r"rootfs.diff_ids\[0\]: digest must be a string",
        ),
        ("config", _set("rootfs.diff_ids.0", "sha256:/etc/passwd"), r"rootfs.diff_ids\[0\]: invalid digest"),
        ("config", _set("history", {"a": 1}), r"'history' must be an array, found an object"),
        ("config", _set("history.0", "RUN x"), r"history\[0\]: expected an object, found a string"),
        (
            "config",
            _set("history.0.created_by", ["RUN", "x"]),
            r"history\[0\]: 'created_by' must be",
        ),
        ("config", _set("history.0.empty_layer", "false"), r"history\[0\]: 'empty_layer' must be a boolean"),
        ("config", _set("os", 1), r"'os' must be a string, found an integer"),
        ("config", _set("architecture", {"x": 1}), r"'architecture' must be a string, found an object"),
        ("config", _set("created", 1700000000), r"'created' must be a string, found an integer"),
        ("config", _set("config", "root"), r"'config' must be an object, found a string"),
        (
            "config",
            _set("config.User", 0),
            r"config sha256:\w+ config: 'User' must be a",
        ),
        ("config", _set("config.Env", "PATH=/bin"), r"'Env' must be an array, found a string"),
        ("config", _set("config.Env", [1]), r"'Env'\[0\] must be a string"),
    ],
)
def test_wrong_types_in_an_oci_layout(tmp_path, where, change, message):
    root = _layout(tmp_path, **{where: change})
    with pytest.raises(ImageError, match=message):
        _open_oci(tmp_path, root)


def test_deep_json_is_a_limit_error_naming_the_file(tmp_path):
    root = _layout(tmp_path)
    (root / "index.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(LimitExceededError, match=r"index.json: exceeds the nesting-depth limit"):
        _open_oci(tmp_path, root)


def test_json_that_is_not_an_object(tmp_path):
    root = _layout(tmp_path)
    (root / "index.json").write_text("[1, 2]")
    with pytest.raises(ImageError, match=r"index.json: expected a JSON object, found an array"):
        _open_oci(tmp_path, root)


def test_metadata_size_is_bounded(tmp_path):
    root = _layout(tmp_path)
    (root / "index.json").write_bytes(b" " * 5000 + b"{}")
    small = limits.with_overrides(limits.DEFAULTS, {"image-metadata-bytes": "4KiB"})
    with (
        limits.use(small),
        pytest.raises(LimitExceededError, match=r"index.json: exceeds the image-metadata-bytes"),
    ):
        _open_oci(tmp_path, root)


def test_a_fifo_in_the_layout_does_not_stall(tmp_path):
    import os

    root = _layout(tmp_path)
    (root / "index.json").unlink()
    os.mkfifo(root / "index.json")
    with pytest.raises(ImageError, match=r"index\.json"):
        _open_oci(tmp_path, root)


# --- docker-archive manifest.json ---------------------------------------------------------------


def _archive_with_manifest(tmp_path: Path, change, raw: bytes | None = None) -> Path:
    archive = tmp_path / "a.tar"
    build_docker_archive(archive, LAYERS)
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    out = tmp_path / "b.tar"
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            if info.name == "manifest.json":
                if raw is None:
                    doc = json.loads(data)
                    change(doc)
                    data = json.dumps(doc).encode()
                else:
                    data = raw
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("0", "x.json"), r"manifest.json \[0\]: expected an object, found a string"),
        (_set("0.Config", 7), r"manifest.json \[0\]: 'Config' must be a string, found an integer"),
        (_set("0.Config", None), r"manifest.json \[0\]: missing 'Config'"),
        (_set("0.Layers", "layer.tar"), r"manifest.json \[0\]: 'Layers' must be an array, found a string"),
        (_set("0.Layers", [5]), r"manifest.json \[0\]: 'Layers'\[0\] must be a string, found an integer"),
        (_set("0.RepoTags", "demo/app:1.0"), r"'RepoTags' must be an array, found a string"),
        (_set("0.RepoTags", [["demo/app:1.0"]]), r"'RepoTags'\[0\] must be a string, found an array"),
        (_set("0.LayerSources", []), r"'LayerSources' must be an object, found an array"),
    ],
)
def test_wrong_types_in_manifest_json(tmp_path, change, message):
    archive = _archive_with_manifest(tmp_path, change)
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(ImageError, match=message):
        DockerArchiveSource().open(parse_image_ref(f"docker-archive:{archive}"), SourceOptions(workdir=work))


def test_manifest_json_that_is_not_a_list(tmp_path):
    archive = _archive_with_manifest(tmp_path, None, raw=b'{"Config": "x.json", "Layers": []}')
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(ImageError, match=r"manifest\.json is not a list of images"):
        DockerArchiveSource().open(parse_image_ref(f"docker-archive:{archive}"), SourceOptions(workdir=work))


# --- the functions themselves -------------------------------------------------------------------


def test_check_descriptor_accepts_a_real_one():
    desc = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:" + "1" * 64,
        "size": 10,
        "annotations": {"org.opencontainers.image.ref.name": "v1"},
        "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
        "urls": ["ignored"],
    }
    assert check_descriptor(desc, "x") is desc


def test_select_from_index_checks_every_entry():
    index = {"manifests": [{"digest": "sha256:" + "1" * 64, "platform": {"os": "linux", "architecture": 64}}]}
    with pytest.raises(ImageError, match=r"idx manifests\[0\] platform: 'architecture' must be a string"):
        select_from_index(index, None, AMD64, "idx")


def test_check_config_minimal():
    check_config({"rootfs": {"type": "layers", "diff_ids": []}}, "cfg")
    with pytest.raises(ImageError, match="cfg: missing 'rootfs'"):
        check_config({}, "cfg")
