"""Conformance: a Rust application image with a `Cargo.lock`, scanned against the real RustSec
advisories (../shared/data/osv/crates.io, read at test time), reports the lockfile's vulnerable
crates with the lockfile's path and layer, as Trivy's image mode does; a lockfile an OS package
installed is the distribution's, and is matched through that package instead."""

from pathlib import Path

import pytest
from testkit.images import (
    DEBIAN_RELEASE,
    build_docker_archive,
    build_oci_layout,
    directory,
    dpkg_status,
    file,
)
from testkit.shared import shared_path

from ci_security.scan import ScanOptions, run
from ci_security.vulndb.dbimport import import_paths

DISTRO = Path(__file__).parents[1] / "fixtures" / "osv" / "distro"
# The application's lock file, as cargo 1.78 writes it: two crates with RustSec advisories
# (smallvec 1.6.0: RUSTSEC-2021-0003 / CVE-2021-25900, fixed in 1.6.1; time 0.1.43:
# RUSTSEC-2020-0071 / CVE-2020-26235, fixed from 0.2.0 on), one without, and the application itself.
APP_LOCK = """version = 3

[[package]]
name = "demo-server"
version = "0.1.0"
dependencies = ["libc", "smallvec", "time"]

[[package]]
name = "libc"
version = "0.2.153"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "9c198f91728a82281a64e1f4f9eeb25d82cb32a5de251c6bd1b5154d63a8e7bd"

[[package]]
name = "smallvec"
version = "1.6.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "fe0f37c9e8f3c5a4a66ad655a93c74daac4ad00c441533bf5c6e7990bb42604e"

[[package]]
name = "time"
version = "0.1.43"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "ca8a50ef2360fbd1eeb0ecd46795a87a19024eb4b53c5dc916ca1fd95fe62438"
dependencies = ["libc"]
"""
# A lock file shipped inside a Debian package (its dpkg file list names it).
PACKAGED_LOCK = """version = 3

[[package]]
name = "smallvec"
version = "1.6.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
"""
PACKAGED = "usr/share/doc/rust-tool/examples/Cargo.lock"


def _layers(pkgdb):
    base = [
        *DEBIAN_RELEASE,
        directory("var/lib/dpkg"),
        file("var/lib/dpkg/status", dpkg_status(("rust-tool", "1.0-1"))),
        file("var/lib/dpkg/info/rust-tool.md5sums", f"0123456789abcdef0123456789abcdef  {PACKAGED}\n"),
        file(PACKAGED, PACKAGED_LOCK),
    ]
    app = [
        file("usr/local/bin/demo-server", (pkgdb / "rust" / "executable_rust").read_bytes(), mode=0o755),
        file("usr/src/demo-server/Cargo.lock", APP_LOCK),
    ]
    return [base, app]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "osv.sqlite"
    import_paths(path, [shared_path("data", "osv", "crates.io", "crates"), DISTRO])
    return path


@pytest.mark.parametrize("kind", ["oci", "docker-archive"])
def test_cargo_lock_crates_are_listed_and_matched(pkgdb, tmp_path, db, kind):
    if kind == "oci":
        build_oci_layout(tmp_path / "layout", _layers(pkgdb))
        ref = f"oci:{tmp_path / 'layout'}"
    else:
        build_docker_archive(tmp_path / "img.tar", _layers(pkgdb))
        ref = f"docker-archive:{tmp_path / 'img.tar'}"
    result = run(ScanOptions(image=ref, db_path=db, use_cache=False))
    assert not result.partial, result.warnings
    lock = "/usr/src/demo-server/Cargo.lock"
    crates = {(p.name, p.version): p for p in result.packages if p.path == lock}
    assert sorted(crates) == [
        ("demo-server", "0.1.0"),
        ("libc", "0.2.153"),
        ("smallvec", "1.6.0"),
        ("time", "0.1.43"),
    ]
    assert {(p.type, p.found_by, p.layer.index) for p in crates.values()} == {("cargo", "rust/cargo-lock", 1)}
    assert crates[("smallvec", "1.6.0")].purl == "pkg:cargo/smallvec@1.6.0"
    found = {(v.id, v.package.name, v.package.path): v for v in result.vulnerabilities}
    smallvec = found["CVE-2021-25900", "smallvec", lock]
    assert set(smallvec.aliases) == {"RUSTSEC-2021-0003", "GHSA-43w2-9j62-hq99"}
    assert (smallvec.fixed_version, smallvec.match.ecosystem, smallvec.package.layer.index) == (
        "1.6.1",
        "crates.io",
        1,
    )
    assert found["CVE-2020-26235", "time", lock].fixed_version == "0.2.0"
    assert not any(v.package.name == "libc" for v in result.vulnerabilities)
    # The packaged lock file is listed, attributed to its Debian package, and not matched as crates.io.
    (packaged,) = [p for p in result.packages if p.path == "/" + PACKAGED]
    assert (packaged.installed_by, packaged.layer.index) == ("rust-tool", 0)
    assert not any(v.package.path == "/" + PACKAGED for v in result.vulnerabilities)
    # The cargo-auditable crates of the binary are still read next to the lock file.
    assert any(p.found_by == "rust/cargo-auditable" for p in result.packages)
