"""Release detection to ecosystem, end to end through the command line: a Debian testing image (a
codename, no version) is matched as its future release; an end-of-life release whose ecosystem
the database does not hold is a partial scan, which `--strict` turns into exit 3."""

from pathlib import Path

from click.testing import CliRunner
from testkit.images import build_docker_archive, directory, dpkg_status, file, symlink
from testkit.report_schema import load_report

from ci_security.cli import main
from ci_security.vulndb.dbimport import import_paths

DISTRO = Path(__file__).parents[1] / "fixtures" / "osv" / "distro"


def _debian_image(path: Path, os_release: str, debian_version: str, *debs: tuple[str, str]) -> str:
    base = [
        directory("etc"),
        directory("usr"),
        directory("usr/lib"),
        file("usr/lib/os-release", os_release),
        symlink("etc/os-release", "../usr/lib/os-release"),
        file("etc/debian_version", debian_version),
        directory("var/lib/dpkg"),
        file("var/lib/dpkg/status", dpkg_status(*debs)),
    ]
    build_docker_archive(path, [base], repo_tags=["demo/release:1"], user="app")
    return f"docker-archive:{path}"


def _scan(db: Path, ref: str, out: Path, *extra: str):
    args = ["scan", "-i", ref, "--db", str(db), "--no-cache", "-o", f"json={out}", *extra]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_testing_image_is_matched_as_its_future_release(tmp_path):
    db = tmp_path / "osv.sqlite"
    import_paths(db, [DISTRO])
    forky = (
        'PRETTY_NAME="Debian GNU/Linux forky/sid"\nNAME="Debian GNU/Linux"\nVERSION_CODENAME=forky\n'
        "ID=debian\nHOME_URL=https://www.debian.org/\n"
    )
    ref = _debian_image(tmp_path / "forky.tar", forky, "forky/sid\n", ("libarchive", "3.7.9-1"))
    out = tmp_path / "r.json"
    result = _scan(db, ref, out, "--strict")
    report = load_report(out)
    assert report["target"]["os"] == {
        "family": "debian",
        "version": None,
        "name": "Debian GNU/Linux forky/sid",
        "codename": "forky",
        "content_sets": [],
    }
    (vuln,) = report["vulnerabilities"]
    assert (vuln["id"], vuln["match"]["ecosystem"], vuln["fixed_version"]) == (
        "CVE-2025-5914",
        "Debian:14",
        "3.8.1-1",
    )
    assert vuln["vendor_severity"]["label"] == "medium"
    assert vuln["vendor_severity"]["source"] == "DEBIAN-CVE-2025-5914 ecosystem_specific"
    assert result.exit_code in (0, 1), result.output  # a policy verdict, not a partial scan


def test_release_missing_from_the_database_fails_strict(tmp_path):
    db = tmp_path / "osv.sqlite"
    import_paths(db, [DISTRO])
    buster = (
        'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nVERSION_ID="10"\nVERSION_CODENAME=buster\nID=debian\n'
    )
    ref = _debian_image(tmp_path / "buster.tar", buster, "10.13\n", ("openssl", "1.1.1n-0+deb10u6"))
    out = tmp_path / "r.json"
    lenient = _scan(db, ref, out)
    assert lenient.exit_code == 0, lenient.output
    assert "no advisories for Debian:10 in the database" in lenient.output
    strict = _scan(db, ref, out, "--strict")
    assert strict.exit_code == 3
    assert "partial scan" in strict.output
