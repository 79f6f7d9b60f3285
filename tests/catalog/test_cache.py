"""The layer cache: hits skip reading layers, keys follow cataloger versions, bad entries are rebuilt."""

import json
import os
import zlib
from pathlib import Path

import pytest
from testkit.images import (
    DEBIAN_RELEASE,
    build_docker_archive,
    build_oci_layout,
    directory,
    dpkg_status,
    file,
    restamp_oci_layout,
    symlink,
)
from testkit.registries import TokenRegistry

from ci_security.catalog.base import CatalogOutput, FileResult, LayerScan
from ci_security.catalog.cache import LayerCache, decode_scan, encode_scan
from ci_security.catalog.os.dpkg import DpkgCataloger
from ci_security.catalog.registry import CATALOGERS
from ci_security.image.fsview import LayerIndex
from ci_security.models import Package
from ci_security.scan import ScanOptions, run

BASE = [
    *DEBIAN_RELEASE,
    directory("var/lib/dpkg"),
    file("var/lib/dpkg/status", dpkg_status(("libc6", "2.36-9"))),
]
APP = [
    file("var/lib/dpkg/status", dpkg_status(("libc6", "2.36-9"), ("curl", "7.88"))),
    file("app/node_modules/left-pad/package.json", '{"name": "left-pad", "version": "1.3.0"}'),
    symlink("app/current", "/app"),
]


def _entries(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.glob("layers-v*/*/*.json.z"))


def _scan_of(*names: str) -> LayerScan:
    """A layer scan whose dpkg status file lists `names`."""
    packages = tuple(Package(name=name, version="1.0", type="deb", found_by="os/dpkg") for name in names)
    result = FileResult(CatalogOutput(packages=packages))
    return LayerScan(LayerIndex(), results={("os/dpkg", "var/lib/dpkg/status"): result})


def _names(scan: LayerScan | None) -> set[str] | None:
    if scan is None:
        return None
    return {p.name for found in scan.results.values() if found.output for p in found.output.packages}


def test_second_scan_reads_no_layer(tmp_path, monkeypatch):
    build_docker_archive(tmp_path / "a.tar", [BASE, APP])
    opts = ScanOptions(
        vulns=False, image=f"docker-archive:{tmp_path / 'a.tar'}", cache_dir=tmp_path / "cache"
    )
    first = run(opts)
    assert len(_entries(tmp_path / "cache")) == 2

    import ci_security.catalog.runner as runner

    def no_walks(*args, **kwargs):
        raise AssertionError("a cached layer was read")

    monkeypatch.setattr(runner, "scan_layer", no_walks)
    second = run(opts)
    assert second.packages == first.packages
    assert second.target.os == first.target.os


def test_shared_base_layer_is_reused_by_another_image(tmp_path):
    build_docker_archive(tmp_path / "a.tar", [BASE, APP])
    build_docker_archive(tmp_path / "b.tar", [BASE, [file("app/other", "x")]])
    cache = tmp_path / "cache"
    run(ScanOptions(vulns=False, image=f"docker-archive:{tmp_path / 'a.tar'}", cache_dir=cache))
    assert len(_entries(cache)) == 2
    result = run(ScanOptions(vulns=False, image=f"docker-archive:{tmp_path / 'b.tar'}", cache_dir=cache))
    assert len(_entries(cache)) == 3  # only the new layer was scanned and stored
    assert [p.name for p in result.packages] == ["libc6"]


def test_corrupt_entry_is_ignored_and_rebuilt(tmp_path):
    build_docker_archive(tmp_path / "a.tar", [BASE, APP])
    opts = ScanOptions(
        vulns=False, image=f"docker-archive:{tmp_path / 'a.tar'}", cache_dir=tmp_path / "cache"
    )
    expected = run(opts).packages
    for entry in _entries(tmp_path / "cache"):
        entry.write_bytes(entry.read_bytes()[:20])
    assert run(opts).packages == expected
    rewritten = [_names(decode_scan(entry.read_bytes())) for entry in _entries(tmp_path / "cache")]
    assert set().union(*rewritten) == {"libc6", "curl", "left-pad"}  # a truncated entry would raise


def test_key_changes_with_cataloger_versions(tmp_path):
    class NewerDpkg(DpkgCataloger):
        version = DpkgCataloger.version + 1

    base = LayerCache(tmp_path, CATALOGERS)
    newer = LayerCache(tmp_path, [c if c.name != "os/dpkg" else NewerDpkg() for c in CATALOGERS])
    digest = "sha256:" + "ab" * 32
    base.store(digest, _scan_of("libc6"))
    assert _names(base.load(digest)) == {"libc6"}
    assert newer.load(digest) is None  # a newer dpkg cataloger reads the layer again
    newer.store(digest, _scan_of("libc6", "curl"))
    assert _names(newer.load(digest)) == {"libc6", "curl"}
    assert _names(base.load(digest)) == {"libc6"}  # each keeps its own entry


def test_round_trip(tmp_path):
    from ci_security.catalog.runner import scan_layer
    from ci_security.image.base import SourceOptions
    from ci_security.image.ocilayout import open_oci_dir

    build_oci_layout(tmp_path / "lay", [BASE + APP])
    (tmp_path / "w").mkdir()
    image = open_oci_dir(tmp_path / "lay", None, "oci:x", SourceOptions(workdir=tmp_path / "w"))
    scan = scan_layer(image, 0, CATALOGERS, tmp_path / "w")
    again = decode_scan(encode_scan(scan))
    assert again.index.kinds == scan.index.kinds and again.index.links == scan.index.links
    assert again.results == scan.results and again.links == scan.links


def test_unwritable_cache_is_not_fatal(tmp_path):
    build_docker_archive(tmp_path / "a.tar", [BASE])
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    result = run(ScanOptions(vulns=False, image=f"docker-archive:{tmp_path / 'a.tar'}", cache_dir=blocker))
    assert [p.name for p in result.packages] == ["libc6"] and result.warnings == ()


def test_prune_keeps_the_most_recent(tmp_path):
    cache = LayerCache(tmp_path, CATALOGERS)
    keys = [f"sha256:{i:064x}" for i in range(5)]
    for i, key in enumerate(keys):
        before = set(_entries(tmp_path))
        cache.store(key, _scan_of(f"pkg{i}"))
        (entry,) = set(_entries(tmp_path)) - before
        os.utime(entry, (1000 + i, 1000 + i))  # stored one after the other, a second apart
    assert cache.prune(max_entries=2) == 3
    assert [_names(cache.load(key)) for key in keys] == [None, None, None, {"pkg3"}, {"pkg4"}]


def test_cached_registry_layers_are_not_downloaded(tmp_path):
    build_oci_layout(tmp_path / "lay", [BASE, APP], tag="v1")
    with TokenRegistry(tmp_path / "lay", "org/app", anonymous=True) as reg:
        opts = ScanOptions(vulns=False, image=f"{reg.host}/org/app:v1", cache_dir=tmp_path / "cache")
        run(opts)
        first = sum("/blobs/" in path for path, _ in reg.requests)
        run(opts)
        second = sum("/blobs/" in path for path, _ in reg.requests) - first
    assert first == 3  # config + 2 layers
    assert second == 1  # the config only


# --- trust: a cache entry is keyed by verified content and checked like any other input ---------------


def _lying_pair(tmp_path: Path) -> tuple[str, str]:
    """Image A (the real one) and image B, whose config claims A's layer diff-id for a layer that
    holds something else. Returns both references."""
    built_a = build_oci_layout(tmp_path / "a", [BASE])
    build_oci_layout(
        tmp_path / "b", [[*BASE[:-1], file("var/lib/dpkg/status", dpkg_status(("evil", "6.6.6")))]]
    )
    restamp_oci_layout(tmp_path / "b", config=lambda c: c["rootfs"].update(diff_ids=built_a.diff_ids))
    return f"oci:{tmp_path / 'a'}", f"oci:{tmp_path / 'b'}"


def test_an_image_lying_about_a_diff_id_cannot_poison_another(tmp_path):
    image_a, image_b = _lying_pair(tmp_path)
    cache = tmp_path / "cache"
    liar = run(ScanOptions(vulns=False, image=image_b, cache_dir=cache))
    assert [p.name for p in liar.packages] == ["evil"]  # its own content, under its own blob digest
    real = run(ScanOptions(vulns=False, image=image_a, cache_dir=cache))
    assert [p.name for p in real.packages] == ["libc6"]
    # And the other way round: the real image's entry is not what the liar reads either.
    again = run(ScanOptions(vulns=False, image=image_b, cache_dir=cache))
    assert [p.name for p in again.packages] == ["evil"]
    assert [p.name for p in run(ScanOptions(vulns=False, image=image_a, cache_dir=cache)).packages] == [
        "libc6"
    ]


def test_entries_are_stored_only_under_the_digest_the_walk_verified(tmp_path):
    build_oci_layout(tmp_path / "lay", [BASE])
    cache = LayerCache(tmp_path / "cache", CATALOGERS)
    from ci_security.catalog.runner import catalog_image
    from ci_security.image.base import SourceOptions
    from ci_security.image.ocilayout import open_oci_dir

    (tmp_path / "w").mkdir()
    image = open_oci_dir(tmp_path / "lay", None, "oci:x", SourceOptions(workdir=tmp_path / "w"))
    catalog_image(image, CATALOGERS, tmpdir=tmp_path / "w", cache=cache)
    assert _names(cache.load(image.layers[0].digest)) == {"libc6"}
    assert cache.load(image.layers[0].diff_id) is None  # a config claim is never a key


def _zlib_zeros_bomb(total: int) -> bytes:
    """A zlib stream that inflates to `total` zero bytes, built from one compressed 64 MiB block
    repeated (after a full flush the compressor restarts, so each repeat is byte-identical)."""
    chunk = 64 << 20
    comp = zlib.compressobj(9)
    head = comp.compress(bytes(chunk)) + comp.flush(zlib.Z_FULL_FLUSH)
    body = comp.compress(bytes(chunk)) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = comp.flush(zlib.Z_FINISH)[:-4]
    adler = ((total % 65521) << 16) | 1  # adler32 of `total` zeros
    return head + body * (total // chunk - 1) + tail + adler.to_bytes(4, "big")


def test_a_zlib_bomb_entry_is_a_miss(tmp_path):
    build_docker_archive(tmp_path / "a.tar", [BASE, APP])
    opts = ScanOptions(
        vulns=False, image=f"docker-archive:{tmp_path / 'a.tar'}", cache_dir=tmp_path / "cache"
    )
    expected = run(opts).packages
    bomb = _zlib_zeros_bomb(4 << 30)
    assert len(bomb) < 5 << 20
    for entry in _entries(tmp_path / "cache"):
        entry.write_bytes(bomb)
    assert run(opts).packages == expected
    rebuilt = [_names(decode_scan(entry.read_bytes())) for entry in _entries(tmp_path / "cache")]
    assert set().union(*rebuilt) == {"libc6", "curl", "left-pad"}  # a bomb still there would raise


def test_a_below_ratio_bomb_stops_at_the_entry_size():
    data = zlib.compress(bytes(300 << 20), 1)  # ~230:1, under the ratio: the size bound stops it
    with pytest.raises(ValueError, match="inflates to more than"):
        decode_scan(data)


def _entry(doc: dict) -> bytes:
    return zlib.compress(json.dumps(doc).encode())


def _valid_doc() -> dict:
    return {
        "paths": ["etc", "etc/os-release", "var/lib/dpkg/status"],
        "kinds": "dlf",
        "links": {"etc/os-release": "../usr/lib/os-release"},
        "whiteouts": [],
        "opaque": [],
        "results": [
            [
                "os/dpkg",
                "var/lib/dpkg/status",
                {"packages": [{"name": "libc6", "version": "2.36-9", "type": "deb", "epoch": 1}]},
                None,
            ]
        ],
        "wanted_links": [["os/release", "etc/os-release"]],
    }


def _with(doc: dict, path: str, value) -> dict:
    *parents, last = path.split(".")
    node = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


NAMES = frozenset(c.name for c in CATALOGERS)


def test_a_valid_entry_decodes():
    scan = decode_scan(_entry(_valid_doc()), NAMES)
    (result,) = scan.results.values()
    assert result.output.packages[0].epoch == 1


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("paths", "etc"),
        ("paths.0", 1),
        ("kinds", "dlx"),
        ("kinds", "dl"),
        ("links", ["a"]),
        ("links.etc/os-release", 5),
        ("links.etc/os-release", "a/" * 5000),
        ("whiteouts", {"a": 1}),
        ("results", {}),
        ("results.0", ["os/dpkg", "x"]),
        ("results.0.0", "no/such-cataloger"),
        ("results.0.1", ["path"]),
        ("results.0.2", []),
        ("results.0.2.packages", {}),
        ("results.0.2.packages.0", ["libc6"]),
        ("results.0.2.packages.0.name", 5),
        ("results.0.2.packages.0.epoch", "1"),
        ("results.0.2.packages.0.epoch", True),
        ("results.0.2.packages.0.licenses", "MIT"),
        ("results.0.2.packages.0.unknown_field", "x"),
        ("results.0.2.packages.0.layer", {"index": 0}),
        ("results.0.2.os", {"family": 1, "version": None}),
        ("results.0.2.os", {"family": "debian"}),
        ("results.0.2.owned", [["a"]]),
        ("results.0.3", 7),
        ("wanted_links", [["os/release"]]),
        ("wanted_links.0.0", "no/such-cataloger"),
    ],
)
def test_entries_with_wrong_types_are_refused(path, value):
    doc = _with(_valid_doc(), path, value)
    with pytest.raises(ValueError):
        decode_scan(_entry(doc), NAMES)


def test_missing_required_package_field_is_refused():
    doc = _valid_doc()
    del doc["results"][0][2]["packages"][0]["version"]
    with pytest.raises(ValueError, match="name, version and type"):
        decode_scan(_entry(doc), NAMES)


def test_deep_json_and_value_floods_are_refused():
    with pytest.raises(ValueError, match="nesting-depth"):
        decode_scan(zlib.compress(b"[" * 100_000 + b"]" * 100_000))
    flood = b'{"paths": [' + b"[]," * 3_000_000 + b"[]]}"
    from ci_security import limits

    fewer = limits.with_overrides(limits.DEFAULTS, {"layer_files": "100000"})
    with limits.use(fewer), pytest.raises(ValueError, match="more values than a layer can have files"):
        decode_scan(zlib.compress(flood))


def test_a_fifo_or_symlink_entry_is_a_miss_without_blocking(tmp_path):
    build_docker_archive(tmp_path / "a.tar", [BASE])
    opts = ScanOptions(
        vulns=False, image=f"docker-archive:{tmp_path / 'a.tar'}", cache_dir=tmp_path / "cache"
    )
    expected = run(opts).packages
    (entry,) = _entries(tmp_path / "cache")
    entry.unlink()
    os.mkfifo(entry)  # a blocking read here would hang the scan
    assert run(opts).packages == expected
    entry.unlink()
    secret = tmp_path / "secret"
    secret.write_bytes(b"not for the cache")
    entry.symlink_to(secret)
    assert run(opts).packages == expected
    assert secret.read_bytes() == b"not for the cache"  # replaced the link, never wrote through it
    assert not entry.is_symlink()


def test_nothing_is_written_through_a_symlinked_cache_directory(tmp_path):
    build_docker_archive(tmp_path / "a.tar", [BASE])
    cache = tmp_path / "cache"
    opts = ScanOptions(vulns=False, image=f"docker-archive:{tmp_path / 'a.tar'}", cache_dir=cache)
    run(opts)
    (entry,) = _entries(cache)
    shard = entry.parent
    for item in shard.iterdir():
        item.unlink()
    shard.rmdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shard.symlink_to(elsewhere)
    result = run(opts)
    assert [p.name for p in result.packages] == ["libc6"]
    assert list(elsewhere.iterdir()) == []
    assert LayerCache(cache, CATALOGERS).prune(max_entries=0) == 0  # prune does not follow it either


def test_os_facts_round_trip_with_their_content_sets():
    from ci_security.catalog.base import CatalogOutput
    from ci_security.catalog.cache import _decode_output, _encode_output
    from ci_security.models import OSInfo

    fact = OSInfo(
        family="redhat",
        version=None,
        source="/root/buildinfo/content_manifests/a.json",
        content_sets=("a", "b"),
    )
    # Through JSON, as the cache stores it: lists come back and must become tuples again.
    doc = json.loads(json.dumps(_encode_output(CatalogOutput(os=fact))))
    assert _decode_output(doc, 4096).os == fact
