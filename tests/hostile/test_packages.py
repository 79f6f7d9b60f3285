"""Hostile package databases inside images, each scanned as a pipeline would (a subprocess bounded in
time and memory by `testkit.hostile`): no hang, no memory blow-up, no traceback, nothing left behind.

Each image is a small `docker save` archive built here, carrying one database shaped the way an
attacker would shape it. Where the image still has a readable OS database, the hostile file is a
partial-scan warning naming the file and the limit (exit 0, and 3 with `--strict`); where it is the
only OS database, the scan cannot say anything true about OS packages and fails with exit 2,
naming the file and the limit (see docs/security.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from testkit import pkgdbs
from testkit.hostile import CaseDirs, Outcome, assert_clean_error, assert_survived, run_hostile
from testkit.images import DEBIAN_RELEASE, Entry, build_docker_archive, directory, dpkg_status, file
from testkit.report_schema import load_report, valid_report

GOOD_DPKG = [
    *DEBIAN_RELEASE,
    directory("var/lib/dpkg"),
    file("var/lib/dpkg/status", dpkg_status(("bash", "5.2"))),
]
SITE = "usr/lib/python3/dist-packages"

pytestmark = pytest.mark.timeout(300)


def _image(case: CaseDirs, entries: list[Entry]) -> Path:
    path = case.input / "image.tar"
    build_docker_archive(path, [entries], codec="gzip")
    return path


def _scan(case: CaseDirs, image: Path, *extra: str) -> Outcome:
    report = case.out / "report.json"
    return run_hostile(
        [
            "scan",
            "--no-vulns",
            "--no-cache",
            "-q",
            "-i",
            f"docker-archive:{image}",
            "-o",
            f"json={report}",
            *extra,
        ],
        case,
    )


def _report(case: CaseDirs) -> dict:
    return load_report(case.out / "report.json")


def _partial(case: CaseDirs, image: Path, path: str, limit: str) -> dict:
    """The scan goes on with a warning naming `path` and `limit`; `--strict` makes it exit 3."""
    outcome = _scan(case, image)
    assert_survived(outcome, codes=(0,))
    warnings = [line for line in outcome.stderr_lines if line.startswith("ci-security: warning:")]
    assert any(path in line and limit in line for line in warnings), outcome.stderr[-3000:]
    report = _report(case)
    strict = _scan(case, image, "--strict")
    assert_survived(strict, codes=(3,))
    assert "partial scan" in strict.stderr
    return report


def _names(report: dict) -> set[str]:
    return {package["name"] for package in report["packages"]}


def test_dpkg_status_with_millions_of_continuation_lines(case):
    status = pkgdbs.dpkg_continuations(2_000_000)
    image = _image(case, [*DEBIAN_RELEASE, directory("var/lib/dpkg"), file("var/lib/dpkg/status", status)])
    assert_clean_error(_scan(case, image), code=2, contains=["/var/lib/dpkg/status", "continuation-lines"])


def test_dpkg_status_with_a_five_megabyte_line(case):
    status = b"Package: long\nVersion: " + b"1" * (5 << 20) + b"\n\n"
    image = _image(case, [*DEBIAN_RELEASE, directory("var/lib/dpkg"), file("var/lib/dpkg/status", status)])
    assert_clean_error(_scan(case, image), code=2, contains=["/var/lib/dpkg/status", "line-bytes"])


def test_distroless_status_file_among_good_ones(case):
    evil = "var/lib/dpkg/status.d/evil"
    entries = [
        *DEBIAN_RELEASE,
        directory("var/lib/dpkg/status.d"),
        file("var/lib/dpkg/status.d/base", "Package: base-files\nVersion: 12.4\n\n"),
        file(evil, pkgdbs.dpkg_continuations(150_000)),
    ]
    report = _partial(case, _image(case, entries), "/" + evil, "continuation-lines")
    assert "base-files" in _names(report)


def test_dpkg_md5sums_with_one_huge_line(case):
    md5sums = "var/lib/dpkg/info/bash.md5sums"
    entries = [
        *GOOD_DPKG,
        directory("var/lib/dpkg/info"),
        file(md5sums, b"0" * 32 + b"  " + b"x" * (3 << 20)),
    ]
    report = _partial(case, _image(case, entries), "/" + md5sums, "line-bytes")
    assert "bash" in _names(report)


def test_python_metadata_with_a_long_continued_header(case):
    metadata = f"{SITE}/evil-1.0.dist-info/METADATA"
    data = b"Name: evil\nVersion: 1.0\nSummary: s" + (b"\n " + b"x" * 100) * 19_000 + b"\n\n"
    report = _partial(case, _image(case, [*GOOD_DPKG, file(metadata, data)]), "/" + metadata, "line-bytes")
    assert "evil" not in _names(report) and "bash" in _names(report)


def test_jar_whose_manifest_continues_for_150000_lines(case):
    jar = pkgdbs.jar({"META-INF/MANIFEST.MF": pkgdbs.manifest_with_continuations(150_000)})
    path = "opt/app/lib/thing-1.0.jar"
    report = _partial(case, _image(case, [*GOOD_DPKG, file(path, jar)]), "/" + path, "continuation-lines")
    assert "bash" in _names(report)


def test_rpm_header_whose_40000_files_share_one_long_directory(case):
    # Joining every path took 5 GB before; the harness allows the child 2 GiB of address space.
    database = pkgdbs.rpm_sqlite([pkgdbs.long_dirname_header(), pkgdbs.rpm_package("bash", "5.2", "1")])
    image = _image(case, [directory("var/lib/rpm"), file("var/lib/rpm/rpmdb.sqlite", database)])
    outcome = _scan(case, image)
    assert_survived(outcome, codes=(0,))
    assert {"longdir", "bash"} <= _names(_report(case))


def test_rpm_header_listing_more_files_than_a_database_may(case):
    files = [f"f{i}" for i in range(1_000_001)]
    database = pkgdbs.rpm_sqlite([pkgdbs.rpm_package("many", basenames=files, dirnames=["/usr/"])])
    image = _image(case, [directory("var/lib/rpm"), file("var/lib/rpm/rpmdb.sqlite", database)])
    assert_clean_error(_scan(case, image), code=2, contains=["/var/lib/rpm/rpmdb.sqlite", "package-entries"])


def test_apk_database_of_a_million_and_one_packages(case):
    installed = b"".join(b"P:p%d\nV:1\n\n" % i for i in range(1_000_001))
    image = _image(case, [directory("lib/apk/db"), file("lib/apk/db/installed", installed)])
    assert_clean_error(_scan(case, image), code=2, contains=["/lib/apk/db/installed", "package-entries"])


def test_apk_long_directory_followed_by_many_files(case):
    installed = b"P:musl\nV:1.2.4\nF:" + b"d" * 500_000 + b"\n" + b"R:f\n" * 400_000 + b"\n"
    image = _image(case, [directory("lib/apk/db"), file("lib/apk/db/installed", installed)])
    outcome = _scan(case, image)
    assert_survived(outcome, codes=(0,))
    assert "musl" in _names(_report(case))


def test_package_json_with_lone_surrogate_escapes(case):
    manifest = b'{"name": "\\ud800evil", "version": "1.0.0\\udfff", "license": "MIT\\udc80"}'
    path = "app/node_modules/evil/package.json"
    image = _image(case, [*GOOD_DPKG, file(path, manifest)])
    outcome = run_hostile(
        [
            "scan",
            "--no-vulns",
            "--no-cache",
            "-i",
            f"docker-archive:{image}",
            "-o",
            "table",
            "-o",
            "sarif=" + str(case.out / "r.sarif"),
            "-o",
            f"json={case.out / 'report.json'}",
        ],
        case,
    )
    assert_survived(outcome, codes=(0,))
    raw = (case.out / "report.json").read_bytes()
    raw.decode("utf-8")  # strict: no surrogate reached the report
    assert "\ufffdevil" in _names(valid_report(json.loads(raw)))
    (case.out / "r.sarif").read_bytes().decode("utf-8")


def test_deps_json_nested_a_hundred_thousand_deep(case):
    path = "app/app.deps.json"
    document = b'{"libraries": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    report = _partial(case, _image(case, [*GOOD_DPKG, file(path, document)]), "/" + path, "nesting-depth")
    assert "bash" in _names(report)


def test_redhat_release_line_of_blanks(case):
    entries = [*GOOD_DPKG, file("etc/redhat-release", " " * 65_000 + "release 9\n")]
    outcome = _scan(case, _image(case, entries))
    assert_survived(outcome, codes=(0,))


def test_gemspec_and_composer_of_hostile_text(case):
    gemspec = "usr/local/bundle/specifications/x-1.gemspec"
    composer = "app/vendor/composer/installed.json"
    entries = [
        *GOOD_DPKG,
        file(gemspec, b's.name = "' + b"#" * (4 << 20) + b'"\n' + b"s.version = " + b" " * (3 << 20)),
        file(composer, b'[{"name": "v/\\udbff", "version": "1"}]'),
    ]
    report = _partial(case, _image(case, entries), "/" + gemspec, "no literal gem")
    assert "v/\ufffd" in _names(report)
