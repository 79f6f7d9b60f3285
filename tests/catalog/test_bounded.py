"""The bounds every package-database parser reads within: each shape that used to hang, blow up or
crash a cataloger is now linear work, or a `CatalogError` naming the record and the limit.
"""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import pytest
from testkit import pkgdbs

from ci_security import limits
from ci_security.catalog.base import Cataloger, CatalogInput, CatalogOutput
from ci_security.catalog.bounded import CatalogLimitError, Joined, Owned, lines, text
from ci_security.catalog.dotnet.deps_json import DepsJsonCataloger
from ci_security.catalog.java.archive import JavaArchiveCataloger, group_from_symbolic_name, parse_properties
from ci_security.catalog.npm.package_json import PackageJsonCataloger
from ci_security.catalog.os.apk import ApkCataloger
from ci_security.catalog.os.dpkg import DpkgCataloger
from ci_security.catalog.os.rpm import RpmCataloger
from ci_security.catalog.os.rpm_manifest import RpmManifestCataloger
from ci_security.catalog.os.rpmdb.header import parse_header
from ci_security.catalog.php.composer import ComposerInstalledCataloger
from ci_security.catalog.python.metadata import PythonMetadataCataloger
from ci_security.errors import CatalogError


def run(cataloger: Cataloger, path: str, data: bytes, tmp_path: Path) -> CatalogOutput:
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    return cataloger.catalog(CatalogInput(path, len(data), io.BytesIO(data), scratch))


def tighter(**values: int | str) -> limits.Limits:
    return limits.with_overrides(limits.DEFAULTS, values)


# --- the helpers ---------------------------------------------------------------------------------


def test_lines_refuse_a_long_line_after_reading_only_the_limit():
    stream = io.BytesIO(b"short\n" + b"x" * 1_000_000 + b"\nnever read\n")
    with limits.use(tighter(line_bytes=1024)):
        reader = lines(stream)
        assert next(reader) == (1, "short\n")
        with pytest.raises(CatalogLimitError, match=r"line 2: exceeds the line-bytes limit \(1 KiB\)"):
            next(reader)
    assert stream.tell() < 100_000
    assert not stream.closed  # the decoding wrapper let go of it


def test_a_line_of_exactly_the_limit_is_fine():
    with limits.use(tighter(line_bytes=8)):
        assert [line for _, line in lines(io.BytesIO(b"12345678\n12345678"))] == [
            "12345678\n",
            "12345678",
        ]


def test_joined_values_are_bounded_in_total():
    joined = Joined("a", "line 3")
    with limits.use(tighter(line_bytes=10)):
        joined.add("bbbb")
        with pytest.raises(CatalogLimitError, match="line 3: exceeds the line-bytes limit"):
            joined.add("cccccc")
    assert joined.value() == "a\nbbbb"


def test_owned_skips_impossible_paths_and_bounds_the_rest():
    owned = Owned()
    assert owned.fits(limits.DEFAULTS.path_bytes + 1) is False
    owned.add("usr/bin/x", "pkg")
    assert owned.pairs == [("usr/bin/x", "pkg")]
    with limits.use(tighter(package_entries=2)):
        few = Owned()
        few.add("a", "p")
        few.add("b", "p")
        with pytest.raises(CatalogLimitError, match="package-entries"):
            few.add("c", "p")
    with limits.use(tighter(metadata_bytes=10)):
        small = Owned()
        small.add("12345", "p")
        with pytest.raises(CatalogLimitError, match="metadata-bytes"):
            small.add("123456", "p")


def test_text_replaces_lone_surrogates_only():
    assert text("plain") == "plain"
    assert text("caf\u00e9 \U0001f600") == "caf\u00e9 \U0001f600"
    assert text("a\ud800b\udfff") == "a\ufffdb\ufffd"
    text("x\ud800").encode("utf-8")  # what a report writer does; no UnicodeEncodeError


# --- dpkg, apk, rpm manifest ----------------------------------------------------------------------


def test_dpkg_continuations_are_linear_below_the_limit(tmp_path):
    # 95,000 continuation lines of 10 characters: appending each to the value copied ~50 GB before.
    out = run(DpkgCataloger(), "var/lib/dpkg/status", pkgdbs.dpkg_continuations(95_000, 10), tmp_path)
    (package,) = out.packages
    assert package.version.count("\n") == 95_000


def test_dpkg_continuations_past_the_limit_name_the_stanza_and_limit(tmp_path):
    with pytest.raises(
        CatalogError, match=r"stanza at line 1: exceeds the continuation-lines limit \(100,000\)"
    ):
        run(DpkgCataloger(), "var/lib/dpkg/status", pkgdbs.dpkg_continuations(100_001), tmp_path)


def test_dpkg_status_entries_are_bounded(tmp_path):
    with limits.use(tighter(package_entries=100)):
        assert (
            len(run(DpkgCataloger(), "var/lib/dpkg/status", pkgdbs.dpkg_entries(100), tmp_path).packages)
            == 100
        )
        with pytest.raises(CatalogError, match="stanzas: exceeds the package-entries limit"):
            run(DpkgCataloger(), "var/lib/dpkg/status", pkgdbs.dpkg_entries(101), tmp_path)


def test_dpkg_md5sums_are_bounded(tmp_path):
    data = b"".join(b"0123456789abcdef0123456789abcdef  usr/share/f%d\n" % i for i in range(50))
    with limits.use(tighter(package_entries=10)), pytest.raises(CatalogError, match="package-entries"):
        run(DpkgCataloger(), "var/lib/dpkg/info/x.md5sums", data, tmp_path)
    with (
        limits.use(tighter(line_bytes=100)),
        pytest.raises(CatalogError, match="line 1: exceeds the line-bytes"),
    ):
        run(DpkgCataloger(), "var/lib/dpkg/info/x.md5sums", b"x  " + b"y" * 200 + b"\n", tmp_path)


def test_apk_long_directory_with_many_files_costs_nothing(tmp_path):
    long_dir = "d" * 100_000
    data = f"P:musl\nV:1.2\nF:{long_dir}\n".encode() + b"R:f\n" * 50_000 + b"F:lib\nR:ld.so\n\n"
    tracemalloc.start()
    try:
        out = run(ApkCataloger(), "lib/apk/db/installed", data, tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [p.name for p in out.packages] == ["musl"]
    assert out.owned == (("lib/ld.so", "musl"),)
    assert peak < 64 << 20  # joining every path would take 5 GB


def test_apk_records_are_bounded(tmp_path):
    data = b"".join(b"P:p%d\nV:1\n\n" % i for i in range(20))
    with limits.use(tighter(package_entries=10)), pytest.raises(CatalogError, match="records: exceeds"):
        run(ApkCataloger(), "lib/apk/db/installed", data, tmp_path)


def test_rpm_manifest_lines_are_bounded(tmp_path):
    path = "var/lib/rpmmanifest/container-manifest-2"
    with (
        limits.use(tighter(line_bytes=64)),
        pytest.raises(CatalogError, match="line 1: exceeds the line-bytes"),
    ):
        run(RpmManifestCataloger(), path, b"x" * 100 + b"\n", tmp_path)


# --- rpm ------------------------------------------------------------------------------------------


def test_rpm_header_with_one_long_directory_for_many_files_stays_small():
    blob = pkgdbs.long_dirname_header()
    assert len(blob) < 1 << 20
    tracemalloc.start()
    try:
        header = parse_header(blob)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert header.name == "longdir"
    assert header.files == ()  # no layer can hold a 128 KiB path
    assert peak < 64 << 20  # every path joined is 5 GB


def test_rpm_files_of_a_database_are_bounded_in_total(tmp_path):
    blobs = [
        pkgdbs.rpm_package(f"p{i}", basenames=[f"f{k}" for k in range(100)], dirnames=["/usr/"])
        for i in range(5)
    ]
    data = pkgdbs.rpm_sqlite(blobs)
    out = run(RpmCataloger(), "var/lib/rpm/rpmdb.sqlite", data, tmp_path)
    assert len(out.owned) == 500
    with limits.use(tighter(package_entries=250)), pytest.raises(CatalogError, match="package-entries"):
        run(RpmCataloger(), "var/lib/rpm/rpmdb.sqlite", data, tmp_path)
    with limits.use(tighter(metadata_bytes=2048)), pytest.raises(CatalogError, match="metadata-bytes"):
        run(RpmCataloger(), "var/lib/rpm/rpmdb.sqlite", data, tmp_path)


def test_rpm_file_arrays_longer_than_the_entry_limit_are_refused_before_decoding():
    blob = pkgdbs.rpm_package("many", basenames=["f"] * 300)
    with (
        limits.use(tighter(package_entries=200)),
        pytest.raises(CatalogLimitError, match=r"DIRINDEXES|BASENAMES"),
    ):
        parse_header(blob)


def test_rpm_sqlite_blob_over_the_metadata_limit_is_not_fetched(tmp_path):
    data = pkgdbs.rpm_sqlite([pkgdbs.rpm_package("small"), pkgdbs.rpm_package("big", version="1" * 5000)])
    with (
        limits.use(tighter(metadata_bytes=4096)),
        pytest.raises(CatalogError, match=r"row 2: exceeds the metadata-bytes"),
    ):
        run(RpmCataloger(), "var/lib/rpm/rpmdb.sqlite", data, tmp_path)


def test_rpm_package_records_are_bounded(tmp_path):
    data = pkgdbs.rpm_sqlite([pkgdbs.rpm_package(f"p{i}") for i in range(6)])
    with (
        limits.use(tighter(package_entries=5)),
        pytest.raises(CatalogError, match="package records: exceeds"),
    ):
        run(RpmCataloger(), "var/lib/rpm/rpmdb.sqlite", data, tmp_path)


# --- Python METADATA ------------------------------------------------------------------------------


def test_metadata_continuations_are_linear_below_the_limit(tmp_path):
    out = run(
        PythonMetadataCataloger(),
        "x/q-1.0.dist-info/METADATA",
        pkgdbs.metadata_continuations(19_000),
        tmp_path,
    )
    assert [(p.name, p.version) for p in out.packages] == [("quadratic", "1.0")]


def test_metadata_continued_value_past_the_line_limit_is_refused(tmp_path):
    # The header block is read for at most 20,000 lines; what was quadratic there is a long value.
    data = b"Name: q\nVersion: 1\nSummary: s" + (b"\n " + b"x" * 100) * 19_000 + b"\n\n"
    with pytest.raises(CatalogError, match="line 3: exceeds the line-bytes limit"):
        run(PythonMetadataCataloger(), "x/q-1.0.dist-info/METADATA", data, tmp_path)


def test_metadata_continuation_count_is_bounded(tmp_path):
    with (
        limits.use(tighter(continuation_lines=10)),
        pytest.raises(CatalogError, match="headers: exceeds the continuation"),
    ):
        run(
            PythonMetadataCataloger(),
            "x/q-1.0.dist-info/METADATA",
            pkgdbs.metadata_continuations(11),
            tmp_path,
        )


# --- Java -----------------------------------------------------------------------------------------


def test_manifest_continuations_are_linear_below_the_limit(tmp_path):
    data = pkgdbs.jar({"META-INF/MANIFEST.MF": pkgdbs.manifest_with_continuations(99_000)})
    (package,) = run(JavaArchiveCataloger(), "app/lib/thing.jar", data, tmp_path).packages
    assert package.version == "1" + "0" * 99_000


def test_manifest_continuations_past_the_limit_are_refused(tmp_path):
    data = pkgdbs.jar({"META-INF/MANIFEST.MF": pkgdbs.manifest_with_continuations(100_001)})
    with pytest.raises(
        CatalogError, match=r"MANIFEST\.MF main section: exceeds the continuation-lines limit"
    ):
        run(JavaArchiveCataloger(), "app/lib/thing.jar", data, tmp_path)


def test_properties_continuations_are_joined_once():
    data = b"version=1" + b"\\\n0" * 99_000 + b"\n"
    assert parse_properties(data)["version"] == "1" + "0" * 99_000
    with pytest.raises(CatalogLimitError, match="continuation-lines"):
        parse_properties(b"version=1" + b"\\\n0" * 100_001 + b"\n")


def test_symbolic_name_with_many_dots_is_linear():
    name = "a." * 400_000 + "b"
    assert group_from_symbolic_name(name, "b") is not None
    assert group_from_symbolic_name(name, "zzz") is None
    # the readings from before still hold
    assert group_from_symbolic_name("org.mockito.mockito-core", "mockito-core") == "org.mockito"
    assert group_from_symbolic_name("com.google.guava", "guava") == "com.google.guava"
    assert group_from_symbolic_name("org.apache.commons.lang3", "commons-lang3") == "org.apache.commons"


# --- JSON catalogers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cataloger", "path", "document"),
    [
        (
            PackageJsonCataloger(),
            "app/node_modules/x/package.json",
            {"name": "\ud800x", "version": "1\udfff"},
        ),
        (
            ComposerInstalledCataloger(),
            "app/vendor/composer/installed.json",
            [{"name": "\ud800x", "version": "1\udfff"}],
        ),
        (
            DepsJsonCataloger(),
            "app/a.deps.json",
            {"libraries": {"\ud800x/1\udfff": {"type": "package"}}},
        ),
    ],
)
def test_lone_surrogates_become_replacement_characters(cataloger, path, document, tmp_path):
    data = json.dumps(document).encode()  # ensure_ascii writes the lone surrogates as \ud800 escapes
    assert b"\\ud800" in data
    (package,) = run(cataloger, path, data, tmp_path).packages
    assert (package.name, package.version) == ("\ufffdx", "1\ufffd")
    package.name.encode("utf-8")


def test_npm_license_surrogates_too(tmp_path):
    data = json.dumps({"name": "x", "version": "1", "license": "MIT\udc80"}).encode()
    (package,) = run(PackageJsonCataloger(), "node_modules/x/package.json", data, tmp_path).packages
    assert package.licenses == ("MIT\ufffd",)


def test_deeply_nested_json_is_a_catalog_error_not_a_recursion_error(tmp_path):
    deep = b'{"name": "x", "version": "1", "a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(CatalogError, match="nesting-depth"):
        run(ComposerInstalledCataloger(), "vendor/composer/installed.json", deep, tmp_path)
    with pytest.raises(CatalogError, match="nesting-depth"):
        run(PackageJsonCataloger(), "node_modules/x/package.json", deep, tmp_path)
    assert run(PackageJsonCataloger(), "src/fixtures/package.json", deep, tmp_path).packages == ()


def test_composer_and_deps_json_entries_are_bounded(tmp_path):
    composer = json.dumps([{"name": f"v/p{i}", "version": "1"} for i in range(20)]).encode()
    deps = json.dumps({"libraries": {f"P{i}/1": {"type": "package"} for i in range(20)}}).encode()
    with limits.use(tighter(package_entries=10)):
        with pytest.raises(CatalogError, match="packages: exceeds the package-entries"):
            run(ComposerInstalledCataloger(), "vendor/composer/installed.json", composer, tmp_path)
        with pytest.raises(CatalogError, match="libraries: exceeds the package-entries"):
            run(DepsJsonCataloger(), "a.deps.json", deps, tmp_path)


def test_epochs_of_any_length_or_script(tmp_path):
    status = "Package: a\nStatus: install ok installed\nVersion: " + "9" * 5000 + ":1\n\n"
    status += "Package: b\nStatus: install ok installed\nVersion: ²:1\n\n"
    packages = run(DpkgCataloger(), "var/lib/dpkg/status", status.encode(), tmp_path).packages
    assert [(p.name, p.epoch) for p in packages] == [("a", None), ("b", None)]
    row = "\t".join(["x", "1-1", "0", "0", "v", "9" * 5000, "1", "x86_64", "0", "x-1-1.src.rpm"])
    with pytest.raises(CatalogError, match="malformed epoch"):
        run(
            RpmManifestCataloger(), "var/lib/rpmmanifest/container-manifest-2", row.encode() + b"\n", tmp_path
        )
