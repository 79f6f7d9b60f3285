"""Mutation fuzzing of every package-database parser: on any variant of a real database a cataloger
returns a result or raises `CatalogError` (the runner's partial-scan warning), never another
exception, and what it reports is text every report can write (valid UTF-8).

Seeds are the real databases of the `pkgdb` fixture (and a few built in their real formats by
`testkit.pkgdbs`); iterations are bounded and the random generators seeded, so a failure replays.
The `timeout` marks only stop a hang from stalling the suite: nothing here asserts on time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from testkit import pkgdbs
from testkit.mutate import mutants

from ci_security.catalog.base import Cataloger, CatalogInput, CatalogOutput
from ci_security.catalog.dotnet.deps_json import DepsJsonCataloger
from ci_security.catalog.java.archive import JavaArchiveCataloger, parse_manifest, parse_properties
from ci_security.catalog.npm.package_json import PackageJsonCataloger
from ci_security.catalog.os.apk import ApkCataloger
from ci_security.catalog.os.dpkg import DpkgCataloger
from ci_security.catalog.os.release import OSReleaseCataloger
from ci_security.catalog.os.rpm import RpmCataloger
from ci_security.catalog.os.rpm_manifest import RpmManifestCataloger
from ci_security.catalog.os.rpmdb import bdb
from ci_security.catalog.os.rpmdb.header import parse_header
from ci_security.catalog.php.composer import ComposerInstalledCataloger
from ci_security.catalog.python.metadata import PythonMetadataCataloger
from ci_security.catalog.ruby.gemspec import GemspecCataloger
from ci_security.catalog.rust.auditable import RustAuditableCataloger
from ci_security.errors import CatalogError
from ci_security.models import Package


def _reportable(output: CatalogOutput) -> None:
    for package in output.packages:
        for item in dataclasses.fields(Package):
            value = getattr(package, item.name)
            for text in value if isinstance(value, tuple) else (value,):
                if isinstance(text, str):
                    text.encode("utf-8")  # a lone surrogate would raise here, as in a report writer
    if output.os is not None:
        for text in (output.os.family, output.os.version, output.os.name):
            (text or "").encode("utf-8")


def _fuzz(
    cataloger: Cataloger,
    path: str,
    seeds: list[bytes],
    count: int,
    seed: int,
    tmp_path: Path,
    *,
    same_size: bool = False,
) -> int:
    """Catalog `count` mutants of each seed; the number that gave a result (the rest: CatalogError)."""
    rng = random.Random(seed)
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    results = 0
    for original in seeds:
        for data in mutants(original, rng, count, same_size=same_size):
            try:
                output = cataloger.catalog(CatalogInput(path, len(data), io.BytesIO(data), scratch))
            except CatalogError:
                continue
            _reportable(output)
            results += 1
    assert list(scratch.iterdir()) == []  # spooled copies are gone whatever happened
    return results


def _files(pkgdb: Path, *names: str) -> list[bytes]:
    return [(pkgdb / name).read_bytes() for name in names]


TEXT_CASES: list[tuple[Cataloger, str, Callable[[Path], list[bytes]]]] = [
    (
        DpkgCataloger(),
        "var/lib/dpkg/status",
        lambda db: _files(db, "dpkg/third-party-status", "dpkg/ubuntu-18.04-status"),
    ),
    (
        DpkgCataloger(),
        "var/lib/dpkg/status.d/libsqlite3-0",
        lambda db: _files(db, "dpkg/distroless-status.d/libsqlite3-0"),
    ),
    (
        DpkgCataloger(),
        "var/lib/dpkg/info/libsqlite3-0:amd64.md5sums",
        lambda db: _files(db, "dpkg/distroless-status.d/libsqlite3-0.md5sums"),
    ),
    (
        ApkCataloger(),
        "lib/apk/db/installed",
        lambda db: _files(db, "apk/alpine-3.16-installed", "apk/alpine-3.4-edited-installed"),
    ),
    (
        RpmManifestCataloger(),
        "var/lib/rpmmanifest/container-manifest-2",
        lambda db: _files(db, "rpm/mariner2-distroless-container-manifest-2"),
    ),
    (
        PythonMetadataCataloger(),
        "usr/lib/python3/site-packages/x-1.0.dist-info/METADATA",
        lambda db: _files(
            db, "python/Flask-2.0.0.dist-info/METADATA", "python/distlib-0.3.1.egg-info/PKG-INFO"
        ),
    ),
    (
        PackageJsonCataloger(),
        "app/node_modules/x/package.json",
        lambda db: _files(
            db, "npm/express/package.json", "npm/lodash/package.json", "npm/@babel/parser/package.json"
        ),
    ),
    (
        ComposerInstalledCataloger(),
        "app/vendor/composer/installed.json",
        lambda db: _files(db, "php/installed.json"),
    ),
    (
        DepsJsonCataloger(),
        "app/datacollector.deps.json",
        lambda db: _files(db, "dotnet/datacollector.deps.json"),
    ),
    (
        GemspecCataloger(),
        "usr/local/bundle/specifications/test-unit-3.3.7.gemspec",
        lambda db: _files(db, "ruby/test-unit-3.3.7.gemspec"),
    ),
    (
        OSReleaseCataloger(),
        "etc/os-release",
        lambda _: [b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'],
    ),
    (
        OSReleaseCataloger(),
        "etc/redhat-release",
        lambda _: [b"CentOS Linux release 7.9.2009 (Core)\n"],
    ),
]


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("cataloger", "path", "seeds"),
    TEXT_CASES,
    ids=[f"{c.name}:{p.rsplit('/', 1)[-1]}" for c, p, _ in TEXT_CASES],
)
def test_text_and_json_databases(cataloger, path, seeds, pkgdb, tmp_path):
    assert _fuzz(cataloger, path, seeds(pkgdb), 300, 1, tmp_path) > 0


@pytest.mark.timeout(600)
def test_rpm_header_blobs(pkgdb):
    blobs = list(bdb.iter_blobs(pkgdb / "rpm" / "centos8-dive-Packages"))
    blobs.append(
        pkgdbs.rpm_package("x", basenames=["a", "b"], dirnames=["/usr/", "/etc/"], dirindexes=[0, 1])
    )
    rng = random.Random(2)
    parsed = 0
    for blob in blobs:
        for data in [*mutants(blob, rng, 1500), *mutants(blob, rng, 1500, same_size=True)]:
            try:
                header = parse_header(data)
            except CatalogError:
                continue
            parsed += 1
            for text in (header.name, header.version, header.release, header.license or ""):
                text.encode("utf-8")
    assert parsed > 0


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    ("path", "seeds", "count"),
    [
        (
            "var/lib/rpm/Packages",
            lambda db: _files(db, "rpm/centos8-dive-Packages", "rpm/ubi8-libuuid-Packages"),
            150,
        ),
        ("var/lib/rpm/Packages.db", lambda db: _files(db, "rpm/sle15-bci-Packages.db"), 40),
        (
            "var/lib/rpm/rpmdb.sqlite",
            lambda _: [pkgdbs.rpm_sqlite([pkgdbs.rpm_package(f"p{i}", basenames=["f"]) for i in range(20)])],
            150,
        ),
    ],
    ids=["bdb", "ndb", "sqlite"],
)
def test_rpm_databases(path, seeds, count, pkgdb, tmp_path):
    _fuzz(RpmCataloger(), path, seeds(pkgdb), count, 3, tmp_path)
    # In place, the pages stay pages and the headers inside them get damaged instead.
    assert _fuzz(RpmCataloger(), path, seeds(pkgdb), count, 4, tmp_path, same_size=True) > 0


@pytest.mark.timeout(600)
def test_jar_manifests_properties_and_archives(pkgdb, tmp_path):
    manifest = b"Manifest-Version: 1.0\r\nImplementation-Title: x\r\nImplementation-Version: 1.2.3\r\n"
    manifest += b"Bundle-SymbolicName: org.example.thing\r\n long-continued\r\n\r\nName: a/\r\nX: y\r\n"
    properties = b"#Generated by Maven\ngroupId=org.example\nartifactId=thing\nversion=1.2.\\\n 3\n"
    rng = random.Random(4)
    for data in mutants(manifest, rng, 2000):
        with contextlib.suppress(CatalogError):
            parse_manifest(data)
    for data in mutants(properties, rng, 2000):
        with contextlib.suppress(CatalogError):
            parse_properties(data)
    built = pkgdbs.jar(
        {"META-INF/MANIFEST.MF": manifest, "META-INF/maven/org.example/thing/pom.properties": properties}
    )
    seeds = [built, *_files(pkgdb, "java/jackson-annotations-2.15.0-rc2.jar")]
    _fuzz(JavaArchiveCataloger(), "app/lib/thing-1.2.3.jar", seeds, 200, 5, tmp_path)
    _fuzz(JavaArchiveCataloger(), "app/lib/thing-1.2.3.jar", seeds, 200, 6, tmp_path, same_size=True)


@pytest.mark.timeout(600)
def test_rust_dependency_section(pkgdb, tmp_path):
    seeds = _files(pkgdb, "rust/executable_rust")
    _fuzz(RustAuditableCataloger(), "usr/local/bin/app", seeds, 60, 6, tmp_path)
    _fuzz(RustAuditableCataloger(), "usr/local/bin/app", seeds, 60, 7, tmp_path, same_size=True)
