"""Hostile images: docker-archive, OCI layout, oci-archive and the layer cache, each case generated
here (small on disk; bombs written as repeated compressed blocks, never expanded in this process)
and scanned by a separate, time- and memory-bounded ci-security process (`testkit.hostile`).

Each refusal is exit 2 with one error line naming the input and the limit or key, and nothing left
behind; inputs the scan can read in part end 0 with no traceback. What each case did before the
fix is noted where it was a crash or a hang.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import zstandard
from testkit import tarcraft
from testkit.hostile import CaseDirs, Outcome, assert_clean_error, assert_survived, run_hostile
from testkit.images import (
    DEBIAN_RELEASE,
    build_docker_archive,
    build_oci_layout,
    directory,
    dpkg_status,
    file,
    layer_tar,
    make_config,
    restamp_oci_layout,
)
from testkit.report_schema import valid_report

BASE = [
    *DEBIAN_RELEASE,
    directory("var/lib/dpkg"),
    file("var/lib/dpkg/status", dpkg_status(("libc6", "2.36-9"))),
]
GiB = 1 << 30


def _scan(case: CaseDirs, ref: str, *extra: str, report: str = "r.json") -> Outcome:
    return run_hostile(
        ["scan", "--no-vulns", "--image", ref, "-o", f"json={case.out / report}", *extra], case
    )


def _packages(case: CaseDirs, report: str = "r.json") -> list[str]:
    doc = valid_report(json.loads((case.out / report).read_bytes().decode("utf-8")))
    return sorted(p["name"] for p in doc["packages"])


def _docker_archive(case: CaseDirs, layer: bytes, name: str = "img.tar") -> str:
    path = case.input / name
    build_docker_archive(path, [], layer_tars=[layer])
    return f"docker-archive:{path}"


def _rewrite_member(archive: Path, name: str, data: bytes) -> None:
    """Replace one member of a docker-archive (manifest.json, a config) with `data`."""
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        for info, content in members:
            if info.name == name:
                content = data
                info.size = len(data)
            tar.addfile(info, io.BytesIO(content))


def _write_stream(path: Path, parts: Iterable[bytes]) -> str:
    """Write `parts` to `path`, hashing as it goes; the file's digest."""
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        for part in parts:
            digest.update(part)
            out.write(part)
    return "sha256:" + digest.hexdigest()


def _layout_around_blob(root: Path, write_blob, media_type: str) -> None:
    """An OCI layout whose one layer is the blob `write_blob(path)` writes (streamed) and whose
    config names a diff-id that was not computed: the walker refuses such a layer on its size or
    ratio long before a diff-id could matter, and OCI layers are keyed by their blob digest."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    tmp = root / "layer.tmp"
    digest = write_blob(tmp)
    size = tmp.stat().st_size
    tmp.rename(blobs / digest.split(":")[1])

    def store(data: bytes) -> str:
        d = "sha256:" + hashlib.sha256(data).hexdigest()
        (blobs / d.split(":")[1]).write_bytes(data)
        return d

    config = make_config(["sha256:" + hashlib.sha256(b"not computed").hexdigest()])
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": store(config),
                "size": len(config),
            },
            "layers": [{"mediaType": media_type, "digest": digest, "size": size}],
        }
    ).encode()
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": store(manifest),
                "size": len(manifest),
            }
        ],
    }
    (root / "index.json").write_text(json.dumps(index))
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')


# --- wrong JSON types, deep JSON, hostile digests: exit 3 (traceback) before ------------------------


def test_manifest_json_config_is_a_number(case):
    ref = _docker_archive(case, tarcraft.member("a", b"x") + tarcraft.END)
    archive = Path(ref.split(":", 1)[1])
    _rewrite_member(archive, "manifest.json", b'[{"Config": 12345, "Layers": ["a.tar"]}]')
    line = assert_clean_error(
        _scan(case, ref), contains=["img.tar", "manifest.json [0]", "'Config' must be a string"]
    )
    assert "found an integer" in line


def test_manifest_json_layers_is_an_object(case):
    ref = _docker_archive(case, tarcraft.member("a", b"x") + tarcraft.END)
    archive = Path(ref.split(":", 1)[1])
    _rewrite_member(archive, "manifest.json", b'[{"Config": "c.json", "Layers": {"0": "a.tar"}}]')
    assert_clean_error(
        _scan(case, ref), contains=["manifest.json [0]", "'Layers' must be an array, found an object"]
    )


def test_index_json_manifests_is_an_object(case):
    root = case.input / "lay"
    build_oci_layout(root, [BASE])
    restamp_oci_layout(root, index=lambda i: i.update(manifests={"0": i["manifests"][0]}))
    assert_clean_error(_scan(case, f"oci:{root}"), contains=["index.json", "'manifests' must be an array"])


def test_config_diff_ids_are_a_string(case):
    root = case.input / "lay"
    build_oci_layout(root, [BASE])
    restamp_oci_layout(root, config=lambda c: c["rootfs"].update(diff_ids="sha256:" + "a" * 64))
    assert_clean_error(_scan(case, f"oci:{root}"), contains=["config sha256:", "'diff_ids' must be an array"])


def test_manifest_layer_descriptor_is_a_list(case):
    root = case.input / "lay"
    build_oci_layout(root, [BASE])
    restamp_oci_layout(root, manifest=lambda m: m.update(layers=[["sha256:" + "a" * 64]]))
    assert_clean_error(
        _scan(case, f"oci:{root}"), contains=["manifest sha256:", "layers[0]: expected a descriptor"]
    )


def test_docker_archive_config_history_is_a_number(case):
    layer = layer_tar(BASE)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.loads(make_config([diff_id]))
    config["history"] = 7
    data = json.dumps(config).encode()
    config_name = hashlib.sha256(data).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "Layers": ["layer.tar"]}]).encode()
    path = case.input / "img.tar"
    with tarfile.open(path, "w") as tar:
        for name, content in (("layer.tar", layer), (config_name, data), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    outcome = _scan(case, f"docker-archive:{path}")
    assert_clean_error(
        outcome, contains=[f"config {config_name}", "'history' must be an array, found an integer"]
    )


def test_deeply_nested_index_json(case):
    root = case.input / "lay"
    build_oci_layout(root, [BASE])
    (root / "index.json").write_bytes(b'{"manifests": ' + b"[" * 200_000 + b"]" * 200_000 + b"}")
    assert_clean_error(_scan(case, f"oci:{root}"), contains=["index.json", "nesting-depth"])


def test_wide_and_oversized_index_json(case):
    # Millions of tiny values decode to far more memory than bytes (3.3 GB RSS and 75 s for 64 MiB
    # of `[],` before): the size bound for image JSON is 8 MiB, and within it the worst case is cheap.
    root = case.input / "lay"
    build_oci_layout(root, [BASE])
    wide = b'{"manifests": [' + b"[]," * ((8 << 20) // 3 - 10) + b"[]]}"
    (root / "index.json").write_bytes(wide)
    assert_clean_error(
        _scan(case, f"oci:{root}"), contains=["index.json manifests[0]", "expected a descriptor"]
    )
    (root / "index.json").write_bytes(b" " * (8 << 20) + wide)
    assert_clean_error(
        _scan(case, f"oci:{root}"), contains=["index.json", "image-metadata-bytes limit (8 MiB)"]
    )


def test_digest_with_a_nul(case):
    root = case.input / "lay"
    build_oci_layout(root, [BASE])
    restamp_oci_layout(
        root, index=lambda i: i["manifests"][0].update(digest="sha256:" + "a" * 32 + "\0" + "a" * 31)
    )
    assert_clean_error(
        _scan(case, f"oci:{root}"), contains=["index.json manifests[0]", "invalid digest", "\\x00"]
    )


def test_layer_digest_with_a_slash_never_becomes_a_path(case):
    root = case.input / "lay"
    build_oci_layout(root, [BASE])
    # `sha256:../../x` and `sha256:aaaa/bbbb` would name files outside blobs/sha256 if joined as paths.
    restamp_oci_layout(root, manifest=lambda m: m["layers"][0].update(digest="sha256:aaaa/bbbb"))
    assert_clean_error(
        _scan(case, f"oci:{root}"), contains=["layers[0] 'digest'", "invalid digest 'sha256:aaaa/bbbb'"]
    )


def test_oci_archive_with_a_wrong_type_in_index_json(case):
    root = case.input / "lay"
    build_oci_layout(root, [BASE])
    restamp_oci_layout(root, index=lambda i: i["manifests"][0].update(size="big"))
    archive = case.input / "img.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(root, arcname=".")
    assert_clean_error(
        _scan(case, f"oci-archive:{archive}"), contains=["img.tar", "'size' must be an integer"]
    )


# --- tar members: names, sizes, links -------------------------------------------------------------


def test_member_name_longer_than_any_path(case):
    layer = tarcraft.gnu_long_name(b"usr/" + b"n" * 300_000) + tarcraft.member("x", b"1") + tarcraft.END
    assert_clean_error(
        _scan(case, _docker_archive(case, layer)), contains=["img.tar: layer sha256:", "path-bytes"]
    )


def test_member_name_with_many_components(case):
    layer = tarcraft.pax({b"path": b"a/" * 2000 + b"b"}) + tarcraft.member("x", b"1") + tarcraft.END
    assert_clean_error(
        _scan(case, _docker_archive(case, layer)), contains=["layer sha256:", "path-components"]
    )


def test_member_names_that_are_not_utf8(case):
    status = dpkg_status(("libc6", "2.36-9")).encode()
    layer = (
        tarcraft.member(
            b"usr/lib/python3/dist-packages/f\xffoo-1.0.dist-info/METADATA", b"Name: f\xffoo\nVersion: 1.0\n"
        )
        + tarcraft.member(b"var/lib/dpkg/status", status)
        + tarcraft.member(b"opt/\xc3\x28/\xfe\xfe", b"x")
        + tarcraft.END
    )
    outcome = _scan(case, _docker_archive(case, layer))
    assert_survived(outcome)  # it used to end in exit 3 writing the report (a lone surrogate)
    report = (case.out / "r.json").read_bytes().decode("utf-8")  # strict: valid UTF-8
    assert "f\\\\xffoo-1.0.dist-info" in report


def test_pax_size_that_is_not_a_number(case):
    layer = tarcraft.pax({b"size": b"12e3"}) + tarcraft.member("etc/hostname", b"x") + tarcraft.END
    assert_clean_error(
        _scan(case, _docker_archive(case, layer)),
        contains=["layer sha256:", "PAX header size '12e3' is not a number"],
    )


def test_negative_base256_size_plain(case):
    # Read naively, the walk seeks 1 KiB back onto the same header and never ends (> 60 s before).
    layer = tarcraft.member("etc/hostname", b"x") + tarcraft.header("evil", size=-1024) + tarcraft.END
    assert_clean_error(
        _scan(case, _docker_archive(case, layer)), contains=["layer sha256:", "negative size (-1024)"]
    )


def test_negative_base256_size_gzip(case):
    root = case.input / "lay"
    layer = tarcraft.member("etc/hostname", b"x") + tarcraft.header("evil", size=-1) + tarcraft.END
    build_oci_layout(root, [], codec="gzip", layer_tars=[layer])
    assert_clean_error(
        _scan(case, f"oci:{root}"), contains=[f"oci:{root}: layer sha256:", "negative size (-1)"]
    )


def test_member_size_beyond_any_layer(case):
    layer = tarcraft.header("huge", size=1 << 60) + tarcraft.END
    assert_clean_error(
        _scan(case, _docker_archive(case, layer)), contains=["layer sha256:", "layer-bytes", "claims"]
    )


def test_symlink_target_with_100k_components(case):
    layer = (
        tarcraft.pax({b"linkpath": b"a/" * 100_000})
        + tarcraft.header("etc/os-release", typeflag=b"2")
        + tarcraft.END
    )
    assert_clean_error(
        _scan(case, _docker_archive(case, layer)), contains=["layer sha256:", "symlink-target-bytes"]
    )


def test_too_many_files_in_a_layer(case):
    layer = b"".join(tarcraft.member(f"f/{i}", b"") for i in range(1001)) + tarcraft.END
    outcome = _scan(case, _docker_archive(case, layer), "--limit", "layer-files=1000")
    assert_clean_error(outcome, contains=["layer sha256:", "layer-files limit (1,000)"])


# --- decompression bombs: 2 GB RSS and 5 GiB of temp disk before ----------------------------------


def test_compressed_oci_archive_that_expands_to_5_gib(case):
    root = case.input / "lay"
    build_oci_layout(root, [BASE])
    head = io.BytesIO()
    with tarfile.open(fileobj=head, mode="w") as tar:
        tar.add(root, arcname=".")
    small = head.getvalue()[: -2 * 512 * 5]  # the members, without tarfile's end-of-archive padding
    small = small.rstrip(b"\0")
    small += bytes(-len(small) % 512)
    archive = case.input / "img.tar.gz"
    _write_stream(
        archive,
        [
            gzip.compress(small + tarcraft.header("blobs/sha256/padding", size=5 * GiB), mtime=0),
            *tarcraft.zero_gzip_members(5 * GiB),
            gzip.compress(tarcraft.END, mtime=0),
        ],
    )
    assert archive.stat().st_size < 8 << 20
    outcome = _scan(case, f"oci-archive:{archive}")
    assert_clean_error(outcome, contains=["img.tar.gz", "compression-ratio"])


def test_compressed_archive_below_the_ratio_stops_at_spool_bytes(case):
    path = case.input / "img.tar"
    build_docker_archive(path, [BASE])
    archive = case.input / "img.tar.gz"
    plain = path.read_bytes()
    _write_stream(
        archive,
        [
            gzip.compress(plain[: -2 * 512], mtime=0),
            gzip.compress(tarcraft.header("padding", size=GiB), mtime=0),
            *tarcraft.zero_gzip_members(GiB, level=1),  # ~230:1, under the ratio limit
            gzip.compress(tarcraft.END, mtime=0),
        ],
    )
    outcome = _scan(case, f"docker-archive:{archive}", "--limit", "spool-bytes=256MiB")
    assert_clean_error(outcome, contains=["img.tar.gz", "spool-bytes limit (256 MiB)"])


def test_zstd_layer_that_expands_to_5_gib(case):
    root = case.input / "lay"
    frame = zstandard.ZstdCompressor(level=19).compress(bytes(64 << 20))

    def write(path: Path) -> str:
        head = zstandard.ZstdCompressor().compress(tarcraft.header("zeros", size=5 * GiB))
        return _write_stream(path, [head, *[frame] * 80, zstandard.ZstdCompressor().compress(tarcraft.END)])

    _layout_around_blob(root, write, "application/vnd.oci.image.layer.v1.tar+zstd")
    outcome = _scan(case, f"oci:{root}")
    assert_clean_error(outcome, contains=[f"oci:{root}: layer sha256:", "compression-ratio"])


def test_gzip_layer_bounded_by_layer_bytes(case):
    # Three members of 256 MiB each: no header claims more than the limit, the sum does.
    root = case.input / "lay"
    zeros = list(tarcraft.zero_gzip_members(256 << 20, level=1))

    def write(path: Path) -> str:
        parts = []
        for i in range(3):
            parts += [gzip.compress(tarcraft.header(f"zeros{i}", size=256 << 20), mtime=0), *zeros]
        return _write_stream(path, [*parts, gzip.compress(tarcraft.END, mtime=0)])

    _layout_around_blob(root, write, "application/vnd.oci.image.layer.v1.tar+gzip")
    outcome = _scan(case, f"oci:{root}", "--limit", "layer-bytes=512MiB")
    assert_clean_error(
        outcome, contains=["layer sha256:", "layer-bytes limit (512 MiB): decompresses to more than"]
    )


# --- the layer cache: shared between branches, so hostile too --------------------------------------


def test_cache_poisoning_by_a_lying_diff_id(case):
    built = build_oci_layout(case.input / "real", [BASE])
    build_oci_layout(
        case.input / "liar", [[*BASE[:-1], file("var/lib/dpkg/status", dpkg_status(("evil", "6.6.6")))]]
    )
    restamp_oci_layout(case.input / "liar", config=lambda c: c["rootfs"].update(diff_ids=built.diff_ids))
    assert_survived(_scan(case, f"oci:{case.input / 'liar'}", report="liar.json"))
    assert _packages(case, "liar.json") == ["evil"]
    assert_survived(_scan(case, f"oci:{case.input / 'real'}", report="real.json"))
    assert _packages(case, "real.json") == ["libc6"]  # it used to read the liar's entry: ["evil"]


def _zlib_zeros_bomb(total: int) -> bytes:
    chunk = 64 << 20
    comp = zlib.compressobj(9)
    head = comp.compress(bytes(chunk)) + comp.flush(zlib.Z_FULL_FLUSH)
    body = comp.compress(bytes(chunk)) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = comp.flush(zlib.Z_FINISH)[:-4]
    return head + body * (total // chunk - 1) + tail + (((total % 65521) << 16) | 1).to_bytes(4, "big")


def test_cache_entry_replaced_by_a_zlib_bomb(case):
    ref = _docker_archive(
        case, tarcraft.member("var/lib/dpkg/status", dpkg_status(("libc6", "2.36-9")).encode()) + tarcraft.END
    )
    assert_survived(_scan(case, ref))
    entries = sorted(case.cache.glob("ci-security/layers-v*/*/*.json.z"))
    assert entries
    bomb = _zlib_zeros_bomb(4 * GiB)
    for entry in entries:
        entry.write_bytes(bomb)  # 4 MB on disk, 4 GiB inflated: it used to be inflated whole
    outcome = _scan(case, ref, report="again.json")
    assert_survived(outcome)
    assert _packages(case, "again.json") == ["libc6"]


def test_cache_entry_replaced_by_a_fifo(case):
    import os

    ref = _docker_archive(
        case, tarcraft.member("var/lib/dpkg/status", dpkg_status(("libc6", "2.36-9")).encode()) + tarcraft.END
    )
    assert_survived(_scan(case, ref))
    for entry in sorted(case.cache.glob("ci-security/layers-v*/*/*.json.z")):
        entry.unlink()
        os.mkfifo(entry)  # a blocking open/read would hang the scan
    assert_survived(_scan(case, ref, report="again.json"))
    assert _packages(case, "again.json") == ["libc6"]


# --- nothing is extracted, and no link or `..` leads out of the image ------------------------------


def test_member_climbing_out_of_the_root_is_refused(case):
    victim = case.root / "escaped"
    layer = tarcraft.member("../../../../../../../../" + str(victim).lstrip("/"), b"x") + tarcraft.END
    assert_clean_error(
        _scan(case, _docker_archive(case, layer)), contains=["layer sha256:", "escapes the image root"]
    )
    assert not victim.exists()


def test_symlinks_resolve_inside_the_image_never_on_the_host(case):
    host = case.input / "host-status"
    host.write_text(dpkg_status(("host-only-package", "1.0")))
    layer = (
        tarcraft.header(
            "var/lib/dpkg/status", typeflag=b"2", linkname="/../../../../../../" + str(host).lstrip("/")
        )
        + tarcraft.member("etc/os-release", b'ID=debian\nVERSION_ID="12"\n')
        + tarcraft.END
    )
    assert_survived(_scan(case, _docker_archive(case, layer)))
    assert "host-only-package" not in _packages(case)


def test_archive_symlink_out_of_the_archive_is_not_followed(case):
    root = case.input / "lay"
    built = build_oci_layout(root, [BASE])
    blob = root / "blobs" / "sha256" / built.layer_digests[0].split(":")[1]
    blob.unlink()
    archive = case.input / "img.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(root, arcname=".")
        link = tarfile.TarInfo(f"blobs/sha256/{blob.name}")
        link.type = tarfile.SYMTYPE
        link.linkname = "../../../../../../../../" + str(case.input / "lay" / "index.json").lstrip("/")
        tar.addfile(link)
    assert_clean_error(
        _scan(case, f"oci-archive:{archive}"), contains=["img.tar", f"layer blob {built.layer_digests[0]}"]
    )
