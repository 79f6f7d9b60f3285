"""The per-distribution release table: one test per row, end-of-life, testing and Ubuntu Pro included,
the names searched, the releases that map to nothing, and the table against distro-info-data."""

import csv
from pathlib import Path

import pytest

from ci_security.match.distros import (
    BINARY,
    DEBIAN_RELEASES,
    SOURCE,
    Release,
    Unmapped,
    debian_testing,
    queries,
    release_for,
)
from ci_security.match.registry import BY_TYPE
from ci_security.models import OSInfo, Package


def _os(family, version=None, codename=None):
    return OSInfo(family=family, version=version, codename=codename)


@pytest.mark.parametrize(
    ("os_info", "ecosystems", "names"),
    [
        # Debian: 3.0 to 6.0 keep the minor OSV writes; from 7 on the major.
        (_os("debian", "3.0"), ("Debian:3.0",), (SOURCE,)),  # woody, end of life 2006
        (_os("debian", "3.1"), ("Debian:3.1",), (SOURCE,)),  # sarge
        (_os("debian", "4.0"), ("Debian:4.0",), (SOURCE,)),  # etch
        (_os("debian", "5.0.10"), ("Debian:5.0",), (SOURCE,)),  # lenny
        (_os("debian", "6.0.10"), ("Debian:6.0",), (SOURCE,)),  # squeeze
        (_os("debian", "7.11"), ("Debian:7",), (SOURCE,)),  # wheezy
        (_os("debian", "10.13"), ("Debian:10",), (SOURCE,)),  # buster, end of life
        (_os("debian", "11"), ("Debian:11",), (SOURCE,)),
        (_os("debian", "12.15"), ("Debian:12",), (SOURCE,)),
        (_os("debian", "13.1"), ("Debian:13",), (SOURCE,)),
        # Testing and unstable: no VERSION_ID, a codename; OSV files testing under its number.
        (_os("debian", None, "forky"), ("Debian:14",), (SOURCE,)),
        (_os("debian", None, "trixie"), ("Debian:13",), (SOURCE,)),  # testing in 2024-2025
        (_os("debian", None, "etch"), ("Debian:4.0",), (SOURCE,)),  # testing in 2005 (DTSA)
        (_os("debian", None, "sid"), ("Debian:14",), (SOURCE,)),
        (_os("debian", None, "unstable"), ("Debian:14",), (SOURCE,)),
        (_os("debian", "16"), ("Debian:16",), (SOURCE,)),  # newer than the table: its major
        # Ubuntu: LTS releases are searched in the standard and the Pro (ESM) ecosystem.
        (_os("ubuntu", "14.04"), ("Ubuntu:14.04:LTS", "Ubuntu:Pro:14.04:LTS"), (SOURCE,)),
        (_os("ubuntu", "16.04"), ("Ubuntu:16.04:LTS", "Ubuntu:Pro:16.04:LTS"), (SOURCE,)),
        (_os("ubuntu", "18.04"), ("Ubuntu:18.04:LTS", "Ubuntu:Pro:18.04:LTS"), (SOURCE,)),
        (_os("ubuntu", "20.04"), ("Ubuntu:20.04:LTS", "Ubuntu:Pro:20.04:LTS"), (SOURCE,)),
        (_os("ubuntu", "22.04"), ("Ubuntu:22.04:LTS", "Ubuntu:Pro:22.04:LTS"), (SOURCE,)),
        (_os("ubuntu", "24.04"), ("Ubuntu:24.04:LTS", "Ubuntu:Pro:24.04:LTS"), (SOURCE,)),
        (_os("ubuntu", "24.10"), ("Ubuntu:24.10",), (SOURCE,)),
        (_os("ubuntu", "25.10"), ("Ubuntu:25.10",), (SOURCE,)),
        # Alpine: released branches with the v prefix; origin and own name.
        (_os("alpine", "3.12.12"), ("Alpine:v3.12",), (SOURCE, BINARY)),
        (_os("alpine", "3.19.1"), ("Alpine:v3.19",), (SOURCE, BINARY)),
        (_os("alpine", "3.22.0"), ("Alpine:v3.22",), (SOURCE, BINARY)),
        # Rolling apk distributions: their records name the package built.
        (_os("wolfi", "20230201"), ("Wolfi",), (BINARY, SOURCE)),
        (_os("chainguard", "20230214"), ("Chainguard", "Wolfi"), (BINARY, SOURCE)),
        # RPM families: both names, the feed's own first.
        (_os("alma", "8.10"), ("AlmaLinux:8",), (BINARY, SOURCE)),
        (_os("alma", "9.3"), ("AlmaLinux:9",), (BINARY, SOURCE)),
        (_os("rocky", "8.4"), ("Rocky Linux:8",), (SOURCE, BINARY)),
        (_os("rocky", "9.4"), ("Rocky Linux:9",), (SOURCE, BINARY)),
        (_os("photon", "4.0"), ("Photon OS:4.0",), (BINARY, SOURCE)),
        (_os("photon", "5.0"), ("Photon OS:5.0",), (BINARY, SOURCE)),
        (_os("azurelinux", "3.0"), ("Azure Linux:3",), (SOURCE, BINARY)),
        (_os("cbl-mariner", "2.0"), ("Azure Linux:2",), (SOURCE, BINARY)),
        # Enterprise distributions: binary names first (their advisories list binary RPMs).
        (
            _os("redhat", "9.3"),
            ("Red Hat:enterprise_linux:9::baseos", "Red Hat:enterprise_linux:9::appstream"),
            (BINARY, SOURCE),
        ),
        (_os("redhat", "7.9"), ("Red Hat:enterprise_linux:7::server",), (BINARY, SOURCE)),
        (_os("amazon", "2023"), ("Amazon Linux:2023",), (BINARY, SOURCE)),
        (_os("amazon", "2"), ("Amazon Linux:2",), (BINARY, SOURCE)),
        (_os("amazon", "2018.03"), ("Amazon Linux:1",), (BINARY, SOURCE)),
        (_os("oracle", "9.3"), ("Oracle Linux:9",), (BINARY, SOURCE)),
        (_os("sles", "15.5"), ("SUSE:Linux Enterprise Server 15 SP5",), (BINARY, SOURCE)),
        (_os("sles", "15"), ("SUSE:Linux Enterprise Server 15",), (BINARY, SOURCE)),
        (_os("opensuse-leap", "15.5"), ("openSUSE:Leap 15.5",), (BINARY, SOURCE)),
        (_os("opensuse-tumbleweed", "20240101"), ("openSUSE:Tumbleweed",), (BINARY, SOURCE)),
    ],
)
def test_release_rows(os_info, ecosystems, names):
    release = release_for(os_info)
    assert isinstance(release, Release)
    assert (release.ecosystems, release.names) == (ecosystems, names)


@pytest.mark.parametrize(
    ("os_info", "why"),
    [
        (_os("debian", None, "zebra"), "Debian codename 'zebra' is not in this ci-security's release table"),
        (_os("debian"), "neither a version nor a codename"),
        (_os("alpine", "3.21_alpha20240807"), "not a released branch"),  # edge
        (_os("ubuntu", "jammy"), "not a YY.MM release"),
        (_os("centos", "7"), "CentOS has no OSV feed"),
        (_os("amazon", "2.0"), "Amazon Linux 2.0 is not a release ALAS covers"),
        (_os("opensuse-leap", "15"), "openSUSE Leap 15 is not a release"),
        (_os("redhat", None), "has no major release"),
        (_os("rocky", None), "no major release number"),
        (None, "not detected"),
    ],
)
def test_releases_without_an_ecosystem_say_why(os_info, why):
    release = release_for(os_info)
    assert isinstance(release, Unmapped) and why in release.reason


def test_unmapped_release_is_a_warning_naming_it():
    message = BY_TYPE["deb"].unsupported(_os("debian", None, "zebra"))
    assert message.startswith("no advisory data for debian zebra (Debian codename 'zebra'")
    assert message.endswith("; Debian packages were not checked")
    assert BY_TYPE["deb"].unsupported(_os("debian", "12")) is None
    assert "rpm packages in a Alpine image" in BY_TYPE["rpm"].unsupported(_os("alpine", "3.19"))


def test_every_name_a_feed_uses_is_searched_once():
    alma = release_for(_os("alma", "8.8"))
    pkg = Package(name="krb5-libs", version="1.18.2-8.el8", type="rpm", source_name="krb5")
    assert [(q.ecosystem, q.name, q.kind) for q in queries(pkg, alma, pkg.version)] == [
        ("AlmaLinux:8", "krb5-libs", "direct"),
        ("AlmaLinux:8", "krb5", "indirect"),
    ]
    same = Package(name="bash", version="5.1.8-6.el9", type="rpm", source_name="bash")
    assert len(queries(same, alma, same.version)) == 1
    ubuntu = release_for(_os("ubuntu", "22.04"))
    deb = Package(name="libssl3", version="3.0.2-0ubuntu1.10", type="deb", source_name="openssl")
    assert [(q.ecosystem, q.name) for q in BY_TYPE["deb"].queries(deb, _os("ubuntu", "22.04"))] == [
        ("Ubuntu:22.04:LTS", "openssl"),
        ("Ubuntu:Pro:22.04:LTS", "openssl"),
    ]
    assert ubuntu.names == (SOURCE,)  # Debian and Ubuntu feeds name source packages only


def test_testing_is_the_first_release_without_a_date():
    assert debian_testing() == ("14", "forky")


DISTRO_INFO = Path("/usr/share/distro-info/debian.csv")


@pytest.mark.skipif(not DISTRO_INFO.is_file(), reason="needs distro-info-data (Debian package)")
def test_table_knows_every_release_distro_info_data_knows():
    """How the table stays current: distro-info-data (a Debian package the CI image installs) is
    updated when Debian names a release; this fails until the table has that row too."""
    with DISTRO_INFO.open(newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["version"]]
    ours = {series: (number, released) for number, series, released in DEBIAN_RELEASES}
    for row in rows:
        assert row["series"] in ours, (
            f"Debian {row['version']} ({row['series']}) is missing from DEBIAN_RELEASES"
        )
        number, released = ours[row["series"]]
        assert number == row["version"]
        if row.get("release"):  # an older distro-info-data may not have the date this table has yet
            assert released == row["release"], f"release date of {row['series']} differs"
        assert release_for(_os("debian", None, row["series"])).ecosystems == (f"Debian:{row['version']}",)


UBUNTU_INFO = Path("/usr/share/distro-info/ubuntu.csv")


@pytest.mark.skipif(not UBUNTU_INFO.is_file(), reason="needs distro-info-data (Debian package)")
def test_every_ubuntu_release_with_esm_is_searched_in_pro():
    with UBUNTU_INFO.open(newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        number = row["version"].split()[0]
        if int(number.split(".")[0]) < 14:
            continue  # OSV's Ubuntu data starts with 14.04
        ecosystems = release_for(_os("ubuntu", number)).ecosystems
        if row.get("eol-esm"):
            assert ecosystems == (f"Ubuntu:{number}:LTS", f"Ubuntu:Pro:{number}:LTS"), row["series"]
        else:
            assert ecosystems == (f"Ubuntu:{number}",), row["series"]
