"""Matching on fixture advisories in real OSV form: source-package keyed distro records, unfixed
entries, binNMUs, epochs, withdrawn records, alias merging and OS-installed language packages."""

import json
from pathlib import Path

import pytest
from testkit.shared import osv_pypi

from ci_security.match.registry import BY_TYPE
from ci_security.match.runner import embedded_cve, fingerprint, identities, match_inventory
from ci_security.models import Advisory, OSInfo, Package, Severity
from ci_security.vulndb.dbimport import import_paths
from ci_security.vulndb.store import VulnDB

DISTRO = Path(__file__).parents[1] / "fixtures" / "osv" / "distro"
DEBIAN = OSInfo(family="debian", version="12.5")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """The distro records written for these tests."""
    path = tmp_path_factory.mktemp("db") / "osv.sqlite"
    import_paths(path, [DISTRO])
    with VulnDB(path) as opened:
        yield opened


@pytest.fixture(scope="module")
def requests_db(tmp_path_factory):
    """The distro records, pypa's requests advisories (from ../shared) and a GHSA record written here."""
    path = tmp_path_factory.mktemp("db") / "osv.sqlite"
    extra = tmp_path_factory.mktemp("extra")
    # A GHSA record for the same requests flaw as PYSEC-2018-28 (linked through the CVE).
    (extra / "GHSA-x84v-xcm2-53pg.json").write_text(
        json.dumps(
            {
                "id": "GHSA-x84v-xcm2-53pg",
                "modified": "2024-01-01T00:00:00Z",
                "aliases": ["CVE-2018-18074"],
                "summary": "Insufficiently Protected Credentials in Requests",
                "database_specific": {"severity": "HIGH"},
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": "requests"},
                        "ranges": [
                            {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.20.0"}]}
                        ],
                    }
                ],
            }
        )
    )
    import_paths(path, [DISTRO, osv_pypi("requests"), extra])
    with VulnDB(path) as opened:
        yield opened


def _deb(name, version, source=None, source_version=None):
    return Package(
        name=name,
        version=version,
        type="deb",
        arch="amd64",
        source_name=source or name,
        source_version=source_version or version,
        path="/var/lib/dpkg/status",
    )


def _match(db, packages, os_info):
    return match_inventory(packages, os_info, db, BY_TYPE)


def test_debian_source_package_match_is_indirect(db):
    (vuln,), warnings = _match(db, [_deb("libssl3", "3.0.11-1~deb12u2", "openssl")], DEBIAN)
    assert warnings == ()
    assert (vuln.id, vuln.aliases) == ("CVE-2024-0727", ("DEBIAN-CVE-2024-0727",))
    assert (vuln.package.name, vuln.fixed_version, vuln.status) == ("libssl3", "3.0.13-1~deb12u1", "fixed")
    assert (vuln.severity, vuln.cvss_score) == (Severity.MEDIUM, 5.5)
    assert (
        vuln.match.kind == "indirect" and vuln.match.ecosystem == "Debian:12" and vuln.match.name == "openssl"
    )
    assert vuln.fingerprint == fingerprint("CVE-2024-0727", vuln.package)
    # The withdrawn DEBIAN-CVE-2022-9999 and the Debian 11 entry play no part.


def test_fixed_version_is_not_affected(db):
    assert _match(db, [_deb("openssl", "3.0.13-1~deb12u1")], DEBIAN)[0] == ()


def test_unfixed_entry_reports_affected_with_the_feeds_urgency(db):
    (vuln,), _ = _match(db, [_deb("zlib1g", "1:1.2.13.dfsg-1", "zlib", "1:1.2.13.dfsg-1")], DEBIAN)
    assert (vuln.id, vuln.fixed_version, vuln.status, vuln.severity) == (
        "CVE-2023-45853",
        None,
        "affected",
        Severity.LOW,
    )


def test_binnmu_compares_the_source_version(db):
    # libglib2.0-0 2.74.6-2+b1 is a rebuild of source 2.74.6-2, which the DSA fixes in 2.74.6-2+deb12u1.
    (vuln,), _ = _match(db, [_deb("libglib2.0-0", "2.74.6-2+b1", "glib2.0", "2.74.6-2")], DEBIAN)
    assert (vuln.id, vuln.fixed_version) == ("CVE-2023-29499", "2.74.6-2+deb12u1")
    rebuilt_fixed = _deb("libglib2.0-0", "2.74.6-2+deb12u1+b1", "glib2.0", "2.74.6-2+deb12u1")
    assert _match(db, [rebuilt_fixed], DEBIAN)[0] == ()


def test_epochs(db):
    login = _deb("login", "1:4.13+dfsg1-1", "shadow", "1:4.13+dfsg1-1")
    vulns, _ = _match(db, [login], DEBIAN)
    # Fixed in 4.13+dfsg1-2 (epoch 0) is below epoch 1: not affected; fixed in 1:…+deb12u1 is above.
    assert [(v.id, v.fixed_version) for v in vulns] == [("CVE-2023-0002", "1:4.13+dfsg1-1+deb12u1")]


def test_release_scoping(db):
    assert (
        _match(db, [_deb("libssl3", "3.0.11-1~deb12u2", "openssl")], OSInfo(family="debian", version="11.8"))[
            0
        ]
        == ()
    )
    ubuntu = OSInfo(family="ubuntu", version="22.04")
    (vuln,), _ = _match(db, [_deb("libssl3", "3.0.2-0ubuntu1.10", "openssl")], ubuntu)
    assert (vuln.id, vuln.fixed_version, vuln.severity) == (
        "CVE-2024-0727",
        "3.0.2-0ubuntu1.14",
        Severity.LOW,
    )
    assert vuln.match.ecosystem == "Ubuntu:22.04:LTS"


def test_alpine_origin_and_alma_source_rpm(db):
    alpine = OSInfo(family="alpine", version="3.19.1")
    pkg = Package(
        name="libssl3", version="3.1.4-r0", type="apk", source_name="openssl", source_version="3.1.4-r0"
    )
    (vuln,), _ = _match(db, [pkg], alpine)
    assert (vuln.id, vuln.fixed_version, vuln.match.ecosystem) == (
        "CVE-2023-5678",
        "3.1.4-r1",
        "Alpine:v3.19",
    )
    assert (
        _match(db, [Package(name="libssl3", version="3.1.4-r1", type="apk", source_name="openssl")], alpine)[
            0
        ]
        == ()
    )
    alma = OSInfo(family="alma", version="9.3")
    rpm = Package(
        name="openssl-libs",
        version="1:3.0.7-25.el9",
        type="rpm",
        epoch=1,
        source_name="openssl",
        source_version="3.0.7-25.el9",
    )
    (vuln,), _ = _match(db, [rpm], alma)
    # The ALSA names its CVE only in `related`: the finding is named by the CVE, the ALSA an alias.
    assert (vuln.id, vuln.aliases, vuln.fixed_version, vuln.severity) == (
        "CVE-2023-3446",
        ("ALSA-2024:2447",),
        "1:3.0.7-27.el9",
        Severity.MEDIUM,
    )
    assert (vuln.vendor_severity.label, vuln.vendor_severity.severity) == ("Moderate", Severity.MEDIUM)


def test_unsupported_os_is_a_warning_not_a_silent_pass(db):
    centos = OSInfo(family="centos", version="7.9.2009")
    vulns, warnings = _match(
        db, [Package(name="bash", version="4.2.46-35.el7_9", type="rpm", source_name="bash")], centos
    )
    assert vulns == ()
    assert [w.message for w in warnings] == [
        "no advisory data for centos 7.9.2009 (CentOS has no OSV feed); rpm packages were not checked"
    ]


def test_aliases_merge_into_one_finding_named_by_cve(requests_db):
    requests = Package(
        name="requests", version="2.19.0", type="pypi", path="/usr/lib/site-packages/x/METADATA"
    )
    vulns, _ = _match(requests_db, [requests], None)
    by_id = {v.id: v for v in vulns}
    merged = by_id["CVE-2018-18074"]
    assert set(merged.aliases) == {"GHSA-x84v-xcm2-53pg", "PYSEC-2018-28"}
    assert merged.severity is Severity.HIGH  # the GHSA's label, the most severe of the cluster
    assert merged.fixed_version == "2.20.0"
    assert len([v for v in vulns if "PYSEC-2018-28" in (v.id, *v.aliases)]) == 1


def test_language_packages_installed_by_the_os_are_not_matched_by_ecosystem(requests_db):
    shipped = Package(
        name="requests",
        version="2.19.0",
        type="pypi",
        installed_by="python3-requests",
        path="/usr/lib/python3/dist-packages/requests-2.19.0.egg-info/PKG-INFO",
    )
    assert _match(requests_db, [shipped], DEBIAN)[0] == ()


def _advisory(**fields):
    return Advisory(id=fields.pop("id", "X-1"), modified="2024", **fields)


def test_identities_of_the_forms_feeds_use():
    # A GHSA listing two CVE ids for one flaw stays one vulnerability.
    ghsa = _advisory(id="GHSA-aaaa-bbbb-cccc", aliases=("CVE-2024-1001", "CVE-2024-1002"))
    assert [cve for _, _, cve in identities(ghsa, None, False)] == [None]
    # A Go advisory relates neighbouring flaws' CVEs: they are not its own.
    go = _advisory(id="GO-2024-1", aliases=("GHSA-xxxx-yyyy-zzzz",), related=("CVE-2024-1009",))
    ((keys, _, cve),) = identities(go, None, False)
    assert cve is None and keys == {"GO-2024-1", "GHSA-xxxx-yyyy-zzzz"}
    # A distribution advisory naming its CVEs only in related: one vulnerability per CVE.
    alsa = _advisory(id="ALSA-2024:1", related=("CVE-2024-1001", "CVE-2024-1002"))
    assert [(sorted(k), sorted(e), c) for k, e, c in identities(alsa, None, True)] == [
        (["CVE-2024-1001"], ["ALSA-2024:1"], "CVE-2024-1001"),
        (["CVE-2024-1002"], ["ALSA-2024:1"], "CVE-2024-1002"),
    ]
    # Ubuntu: the notice's upstream is a UBUNTU-CVE id, which names the CVE.
    usn = _advisory(id="USN-1-1", upstream=("UBUNTU-CVE-2021-3782",))
    ((keys, _, cve),) = identities(usn, None, True)
    assert cve == "CVE-2021-3782" and keys == {"USN-1-1", "UBUNTU-CVE-2021-3782", "CVE-2021-3782"}
    assert embedded_cve("DEBIAN-CVE-2024-0727") == "CVE-2024-0727" and embedded_cve("DSA-135") is None
