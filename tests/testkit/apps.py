"""A small vulnerable application image and the advisory database that matches it, shared by the
command-line tests: Debian 12 with openssl 3.0.11-1~deb12u2 (CVE-2024-0727, MEDIUM, fixed in
3.0.13-1~deb12u1) and bash, plus requests 2.19.0 from PyPI (PYSEC-2018-28 / CVE-2018-18074 and
PYSEC-2023-74 / CVE-2023-32681, no severity in the PYSEC records).
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ci_security.cli import main
from testkit.images import DEBIAN_RELEASE, Entry, build_docker_archive, directory, dpkg_status, file
from testkit.shared import osv_pypi

FIXTURES = Path(__file__).parent.parent / "fixtures"
SITE = "usr/local/lib/python3.11/site-packages"


def import_app_db(path: Path) -> Path:
    """The Debian advisories written for the tests (tests/fixtures/osv/distro) and pypa's requests
    advisories (from ../shared: without it the calling test is skipped), imported into `path`."""
    result = CliRunner().invoke(
        main,
        [
            "db",
            "import",
            "--db",
            str(path),
            str(FIXTURES / "osv" / "distro"),
            str(osv_pypi("requests")),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return path


def requests_dist(version: str) -> Entry:
    return file(
        f"{SITE}/requests-{version}.dist-info/METADATA",
        f"Metadata-Version: 2.1\nName: requests\nVersion: {version}\n\n",
    )


BASE_DEBS = (("openssl", "3.0.11-1~deb12u2"), ("bash", "5.2.15-2+b2"))


def build_app(
    path: Path,
    *,
    requests: str = "2.19.0",
    extra_debs: tuple[tuple[str, str], ...] = (),
    user: str = "app",
    tag: str = "demo/app:1.0",
) -> Path:
    """The application image as a `docker save` archive at `path`; `extra_debs` adds Debian packages
    (util-linux 2.38.1-5+b1 brings DEBIAN-CVE-2024-28085, fixed in 2.38.1-5+deb12u1)."""
    layers = [
        [
            *DEBIAN_RELEASE,
            directory("var/lib/dpkg"),
            file("var/lib/dpkg/status", dpkg_status(*BASE_DEBS, *extra_debs)),
        ],
        [requests_dist(requests)],
    ]
    build_docker_archive(path, layers, repo_tags=[tag], user=user)
    return path
