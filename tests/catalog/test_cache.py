"""The layer cache: hits skip reading layers, keys follow cataloger versions, bad entries are rebuilt."""

from pathlib import Path

from testkit.images import (
    DEBIAN_RELEASE,
    build_docker_archive,
    build_oci_layout,
    directory,
    dpkg_status,
    file,
    symlink,
)
from testkit.registries import TokenRegistry

from ci_security.catalog.cache import LayerCache, decode_scan, encode_scan
from ci_security.catalog.os.dpkg import DpkgCataloger
from ci_security.catalog.registry import CATALOGERS
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
    for entry in _entries(tmp_path / "cache"):
        assert decode_scan(entry.read_bytes()) is not None  # rewritten whole


def test_key_changes_with_cataloger_versions(tmp_path):
    class NewerDpkg(DpkgCataloger):
        version = DpkgCataloger.version + 1

    base = LayerCache(tmp_path, CATALOGERS)
    newer = LayerCache(tmp_path, [c if c.name != "os/dpkg" else NewerDpkg() for c in CATALOGERS])
    assert base._path("sha256:x") != newer._path("sha256:x")


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
    import os

    cache = LayerCache(tmp_path, CATALOGERS)
    from ci_security.catalog.runner import LayerScan
    from ci_security.image.fsview import LayerIndex

    for i in range(5):
        cache.store(f"sha256:{i}", LayerScan(LayerIndex()))
        os.utime(cache._path(f"sha256:{i}"), (1000 + i, 1000 + i))
    assert cache.prune(max_entries=2) == 3
    assert cache.load("sha256:4") is not None and cache.load("sha256:0") is None


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
    assert _decode_output(_encode_output(CatalogOutput(os=fact))).os == fact
