"""Matching on real OSV records of every supported distribution, as osv.dev exports them.

The records are byte-for-byte copies in ../shared/data/osv-real (read at test time, never copied
here; see its SOURCES.md); Azure Linux and today's Debian testing are covered by records written for
these tests in the same format (tests/fixtures/osv/distro, see LICENSE-NOTE.md). For each: an image
at an affected version reports the record under its CVE id with the vendor's severity; an image at
the fixed version does not. Then one test per partial-scan warning: a release with no ecosystem in
the database, a version the ordering cannot read, an advisory entry that cannot be interpreted.
"""

import json
from pathlib import Path

import pytest
from testkit.shared import shared_path

from ci_security.match.registry import BY_TYPE
from ci_security.match.runner import match_inventory
from ci_security.models import OSInfo, Package, Severity
from ci_security.vulndb.dbimport import import_paths
from ci_security.vulndb.osv import parse_record
from ci_security.vulndb.store import VulnDB

FIXTURES = Path(__file__).parents[1] / "fixtures" / "osv" / "distro"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("real") / "osv.sqlite"
    import_paths(path, [shared_path("data", "osv-real"), FIXTURES])
    with VulnDB(path) as opened:
        yield opened


def _os(family, version=None, codename=None):
    return OSInfo(family=family, version=version, codename=codename)


def deb(name, version, source=None, source_version=None):
    return Package(
        name=name,
        version=version,
        type="deb",
        source_name=source or name,
        source_version=source_version or version,
        path="/var/lib/dpkg/status",
    )


def apk(name, version, origin=None):
    return Package(
        name=name, version=version, type="apk", source_name=origin or name, path="/lib/apk/db/installed"
    )


def rpm(name, version, source=None):
    return Package(
        name=name, version=version, type="rpm", source_name=source or name, path="/var/lib/rpm/rpmdb.sqlite"
    )


def _match(db, os_info, *packages):
    return match_inventory(list(packages), os_info, db, BY_TYPE)


def _one(db, os_info, pkg):
    vulns, warnings = _match(db, os_info, pkg)
    assert warnings == ()
    assert len(vulns) == 1, [v.id for v in vulns]
    return vulns[0]


def _clean(db, os_info, pkg):
    vulns, warnings = _match(db, os_info, pkg)
    assert (vulns, warnings) == ((), ())


# --- Debian: an end-of-life release, testing then and now, a stable release with no fix yet


def test_debian_end_of_life_release_is_searched_as_osv_names_it(db):
    # DSA-135 is filed under Debian:3.0 (woody); a woody image says 3.0 in /etc/debian_version.
    woody = _os("debian", "3.0")
    vuln = _one(db, woody, deb("libapache-mod-ssl", "2.8.7-1"))
    assert (vuln.id, vuln.aliases) == ("CVE-2002-0653", ("DSA-135",))  # the CVE is only in `related`
    assert (vuln.fixed_version, vuln.match.ecosystem) == ("2.8.9-2", "Debian:3.0")
    _clean(db, woody, deb("libapache-mod-ssl", "2.8.9-2"))


def test_debian_testing_advisory_of_its_time(db):
    # DTSA-1-1 fixed kismet in etch while etch was testing: Debian:4.0, the number etch later had.
    etch_testing = _os("debian", None, "etch")
    vulns, warnings = _match(db, etch_testing, deb("kismet", "2005.07.R1a-1"))
    assert warnings == ()
    assert [(v.id, v.aliases) for v in vulns] == [
        ("CVE-2005-2626", ("DTSA-1-1",)),
        ("CVE-2005-2627", ("DTSA-1-1",)),
    ]
    _clean(db, etch_testing, deb("kismet", "2005.08.R1-0.1etch1"))


def test_debian_testing_image_is_searched_as_its_future_release(db):
    # CVE-2024-10524 has a Debian:13 entry from when trixie was testing (no VERSION_ID, codename only).
    trixie = _os("debian", None, "trixie")
    vuln = _one(db, trixie, deb("wget", "1.24.5-2"))
    assert (vuln.id, vuln.fixed_version, vuln.match.ecosystem) == ("CVE-2024-10524", "1.25.0-1", "Debian:13")
    # The tracker's urgency is the vendor rating; "not yet assigned" rates nothing yet.
    assert (vuln.vendor_severity.label, vuln.vendor_severity.severity) == (
        "not yet assigned",
        Severity.UNKNOWN,
    )
    _clean(db, trixie, deb("wget", "1.25.0-1"))


def test_debian_stable_release_without_a_fix_is_affected(db):
    vuln = _one(db, _os("debian", "12.8"), deb("wget", "1.21.3-1+b2", "wget", "1.21.3-1"))
    assert (vuln.id, vuln.status, vuln.fixed_version) == ("CVE-2024-10524", "affected", None)


@pytest.mark.parametrize("codename", ["forky", "sid"])
def test_debian_testing_and_sid_today(db, codename):
    # Written record (Debian:14 is forky, today's testing): sid images are searched as testing.
    image = _os("debian", None, codename)
    vuln = _one(db, image, deb("libarchive13t64", "3.7.9-1", "libarchive"))
    assert (vuln.id, vuln.aliases, vuln.match.ecosystem) == (
        "CVE-2025-5914",
        ("DEBIAN-CVE-2025-5914",),
        "Debian:14",
    )
    assert (vuln.severity, vuln.vendor_severity.label) == (Severity.MEDIUM, "medium")
    assert vuln.vendor_severity.source == "DEBIAN-CVE-2025-5914 ecosystem_specific"
    _clean(db, image, deb("libarchive13t64", "3.8.1-1", "libarchive"))


# --- Ubuntu: notices and CVE records merged, Pro (ESM) entries, priorities in all their places


def test_ubuntu_notice_and_cve_record_are_one_finding_rated_per_cve(db):
    jammy = _os("ubuntu", "22.04")
    vuln = _one(db, jammy, deb("libwayland-client0", "1.20.0-1", "wayland"))
    assert (vuln.id, vuln.aliases) == ("CVE-2021-3782", ("UBUNTU-CVE-2021-3782", "USN-5614-1"))
    assert (vuln.fixed_version, vuln.match.kind) == ("1.20.0-1ubuntu0.1", "indirect")
    # USN-5614-1 rates its CVE in database_specific.cves_map: a CVSS vector and Ubuntu's priority.
    assert (vuln.severity, vuln.vendor_severity.label, vuln.vendor_severity.severity) == (
        Severity.MEDIUM,
        "medium",
        Severity.MEDIUM,
    )
    assert {r.kind for r in vuln.severity_sources} == {"advisory", "vendor"}
    _clean(db, jammy, deb("libwayland-client0", "1.20.0-1ubuntu0.1", "wayland"))


def test_ubuntu_priority_in_ecosystem_specific_and_cve_only_in_related(db):
    jammy = _os("ubuntu", "22.04")
    vuln = _one(db, jammy, deb("rabbitmq-server", "3.9.13-1"))
    assert (vuln.id, vuln.aliases) == ("CVE-2024-51988", ("UBUNTU-CVE-2024-51988",))
    assert vuln.vendor_severity.source == "UBUNTU-CVE-2024-51988 ecosystem_specific.ubuntu_priority"
    assert vuln.vendor_severity.label == "medium"
    _clean(db, jammy, deb("rabbitmq-server", "3.9.27-0ubuntu0.1"))


def test_ubuntu_pro_entries_are_searched_for_lts_releases(db):
    # netty on 20.04 is fixed only in ESM (Ubuntu:Pro:20.04:LTS).
    focal = _os("ubuntu", "20.04")
    vuln = _one(db, focal, deb("libnetty-java", "1:4.1.45-1", "netty"))
    assert (vuln.id, vuln.match.ecosystem) == ("CVE-2022-24823", "Ubuntu:Pro:20.04:LTS")
    assert vuln.fixed_version == "1:4.1.45-1ubuntu0.1~esm2"
    assert (vuln.vendor_severity.label, vuln.vendor_severity.severity) == ("low", Severity.LOW)
    # The distribution's rating decides (issue 16; CVSS came first before); its CVSS stays shown.
    assert (vuln.severity, vuln.cvss_score) == (Severity.LOW, 5.5)
    _clean(db, focal, deb("libnetty-java", "1:4.1.45-1ubuntu0.1~esm2", "netty"))


def test_ubuntu_notice_with_many_cves_is_one_finding_per_cve(db):
    record = json.loads(shared_path("data", "osv-real", "Ubuntu", "USN-7095-1.json").read_text())
    cves = {r for r in record["related"] if r.startswith("CVE-")}
    pkg = deb("linux-headers-6.8.0-1016-nvidia", "6.8.0-1016.18~22.04.1", "linux-nvidia-6.8")
    vulns, _ = _match(db, _os("ubuntu", "22.04"), pkg)
    assert {v.id for v in vulns} == cves and len(vulns) == len(cves)
    assert all("USN-7095-1" in v.aliases and f"UBUNTU-{v.id}" in v.aliases for v in vulns)


def test_withdrawn_ubuntu_record_is_not_matched(db):
    _clean(db, _os("ubuntu", "16.04"), deb("libwolfssl3", "3.4.8+dfsg-1", "wolfssl"))


# --- Alpine


def test_alpine_origin_record_with_cvss(db):
    v319 = _os("alpine", "3.19.1")
    vuln = _one(db, v319, apk("openvpn", "2.6.6-r0"))
    assert (vuln.id, vuln.aliases, vuln.severity, vuln.cvss_score) == (
        "CVE-2023-46850",
        ("ALPINE-CVE-2023-46850",),
        Severity.CRITICAL,
        9.8,
    )
    assert vuln.vendor_severity is None  # Alpine's secdb carries no rating of its own
    _clean(db, v319, apk("openvpn", "2.6.7-r0"))


def test_alpine_subpackage_is_searched_by_origin(db):
    v316 = _os("alpine", "3.16.2")
    vuln = _one(db, v316, apk("mariadb-client", "10.6.7-r0", "mariadb"))
    assert (vuln.id, vuln.match.name, vuln.match.kind, vuln.fixed_version) == (
        "CVE-2022-27449",
        "mariadb",
        "indirect",
        "10.6.8-r0",
    )
    _clean(db, v316, apk("mariadb-client", "10.6.8-r0", "mariadb"))


# --- AlmaLinux names binary RPMs, Rocky Linux source RPMs


@pytest.mark.parametrize(
    ("binary", "source", "affected", "fixed", "advisory"),
    [
        ("python3-requests", "python-requests", "2.20.0-2.1.el8_1", "2.20.0-3.el8_8", "ALSA-2023:4520"),
        ("krb5-libs", "krb5", "1.18.2-8.el8", "1.18.2-14.el8", "ALBA-2021:4378"),
        ("dhcp-client", "dhcp", "12:4.3.6-45.el8", "12:4.3.6-47.el8", "ALEA-2022:2093"),
    ],
)
def test_almalinux_records_name_binary_rpms(db, binary, source, affected, fixed, advisory):
    alma8 = _os("alma", "8.8")
    vuln = _one(db, alma8, rpm(binary, affected, source))
    assert advisory in (vuln.id, *vuln.aliases)
    assert (vuln.match.name, vuln.match.kind, vuln.fixed_version) == (binary, "direct", fixed)
    _clean(db, alma8, rpm(binary, fixed, source))


def test_almalinux_cve_and_vendor_severity(db):
    vuln = _one(db, _os("alma", "8.8"), rpm("python3-requests", "2.20.0-2.1.el8_1", "python-requests"))
    assert (vuln.id, vuln.aliases) == ("CVE-2023-32681", ("ALSA-2023:4520",))
    assert (vuln.vendor_severity.label, vuln.vendor_severity.source) == ("Moderate", "ALSA-2023:4520 summary")
    assert vuln.severity is Severity.MEDIUM  # no CVSS in the record: the vendor's rating


def test_almalinux_advisory_with_five_cves_is_five_findings(db):
    alma9 = _os("alma", "9.3")
    vulns, _ = _match(db, alma9, rpm("avahi-libs", "0.8-15.el9", "avahi"))
    assert [v.id for v in vulns] == [f"CVE-2023-{n}" for n in range(38469, 38474)]
    assert {v.aliases for v in vulns} == {("ALSA-2024:2433",)}
    _clean(db, alma9, rpm("avahi-libs", "0.8-20.el9", "avahi"))


def test_rocky_records_name_source_rpms(db):
    rocky9 = _os("rocky", "9.4")
    vulns, _ = _match(db, rocky9, rpm("java-11-openjdk-headless", "1:11.0.24.0.8-3.el9", "java-11-openjdk"))
    assert [v.id for v in vulns] == [
        "CVE-2023-48161",
        "CVE-2024-21208",
        "CVE-2024-21210",
        "CVE-2024-21217",
        "CVE-2024-21235",
    ]
    first = vulns[0]
    assert (first.match.name, first.match.kind, first.fixed_version) == (
        "java-11-openjdk",
        "indirect",
        "1:11.0.25.0.9-2.el9",
    )
    assert (first.vendor_severity.label, first.severity) == ("Moderate", Severity.MEDIUM)
    _clean(db, rocky9, rpm("java-11-openjdk-headless", "1:11.0.25.0.9-2.el9", "java-11-openjdk"))


def test_rocky_vendor_rating_wins_and_the_cvss_is_kept(db):
    vulns, _ = _match(db, _os("rocky", "8.4"), rpm("java-11-openjdk", "1:11.0.12.0.7-0.el8_4"))
    from_3891 = [v for v in vulns if "RLSA-2021:3891" in v.aliases]
    assert len(from_3891) == 10
    vuln = from_3891[0]
    # Rocky's own rating decides (issue 16; the record's CVSS, MEDIUM, did before), the CVSS is kept.
    assert (vuln.severity, vuln.cvss_score, vuln.severity_source) == (
        Severity.HIGH,
        6.8,
        "RLSA-2021:3891 summary",
    )
    assert (vuln.vendor_severity.label, vuln.vendor_severity.severity) == ("Important", Severity.HIGH)


# --- Wolfi and Chainguard: records name the package built


def test_wolfi_record_names_the_versioned_stream(db):
    wolfi = _os("wolfi", "20230201")
    vuln = _one(db, wolfi, apk("haproxy-3.0", "3.0.9-r0", "haproxy-3.0"))
    assert (vuln.id, set(vuln.aliases)) == ("CVE-2025-32464", {"CGA-224q-ccj5-2p53", "GHSA-frg5-h47x-75j9"})
    assert (vuln.severity, vuln.match.ecosystem) == (Severity.CRITICAL, "Wolfi")
    _clean(db, wolfi, apk("haproxy-3.0", "3.0.10-r0"))


def test_wolfi_subpackage_is_searched_by_its_own_name(db):
    wolfi = _os("wolfi", "20230201")
    vuln = _one(db, wolfi, apk("nri-memcached-compat", "2.5.6-r0", "nri-memcached"))
    assert (vuln.id, vuln.match.name, vuln.match.kind) == ("CVE-2024-34156", "nri-memcached-compat", "direct")
    _clean(db, wolfi, apk("nri-memcached-compat", "2.5.7-r1", "nri-memcached"))


def test_chainguard_image(db):
    chainguard = _os("chainguard", "20230214")
    vuln = _one(db, chainguard, apk("haproxy-2.8", "2.8.17-r0"))
    assert (vuln.id, vuln.match.ecosystem) == ("CVE-2025-32464", "Chainguard")
    _clean(db, chainguard, apk("haproxy-2.8", "2.8.18-r0"))


# --- Photon OS: CVEs only in `related`, `ranges` written as an object


def test_photon_object_ranges_are_read_and_empty_duplicates_left_out():
    record = json.loads(shared_path("data", "osv-real", "Photon OS", "PHSA-2024-4.0-0685.json").read_text())
    assert sum(isinstance(a.get("ranges"), dict) for a in record["affected"]) == 2
    advisory = parse_record(record, "PHSA-2024-4.0-0685.json")
    assert len(advisory.affected) == 4  # 2 object-valued, 2 lists; the 2 without ranges add nothing
    assert all(a.ranges and a.problem is None for a in advisory.affected)


def test_photon_kernel_advisory(db):
    photon4 = _os("photon", "4.0")
    vulns, warnings = _match(db, photon4, rpm("linux", "5.10.224-1.ph4"))
    assert warnings == ()
    assert [v.id for v in vulns] == ["CVE-2024-43835", "CVE-2024-43853", "CVE-2024-43854"]
    assert {(v.aliases, v.fixed_version) for v in vulns} == {(("PHSA-2024-4.0-0685",), "5.10.224-4.ph4")}
    _clean(db, photon4, rpm("linux", "5.10.224-4.ph4"))


def test_photon_binary_package_is_found_through_its_source(db):
    vulns, _ = _match(db, _os("photon", "5.0"), rpm("curl-libs", "8.18.0-1.ph5", "curl"))
    assert len(vulns) == 6 and all(v.match.kind == "indirect" for v in vulns)


# --- Azure Linux (written records): `Azure Linux:<major>`, CBL-Mariner 2.0 is `Azure Linux:2`


def test_azure_linux_3(db):
    azl3 = _os("azurelinux", "3.0")
    vuln = _one(db, azl3, rpm("zlib", "1.3-2.azl3"))
    assert (vuln.id, vuln.aliases, vuln.match.ecosystem) == (
        "CVE-2023-45853",
        ("AZL-41392",),
        "Azure Linux:3",
    )
    assert (vuln.vendor_severity.label, vuln.severity) == ("Critical", Severity.CRITICAL)
    _clean(db, azl3, rpm("zlib", "1.3.1-1.azl3"))
    unfixed = _one(db, azl3, rpm("curl", "8.5.0-1.azl3"))  # last_affected: no fix yet
    # Azure Linux rates it Medium; its record's CVSS says HIGH (which decided before issue 16).
    assert (unfixed.status, unfixed.severity, unfixed.vendor_severity.label) == (
        "affected",
        Severity.MEDIUM,
        "Medium",
    )
    assert unfixed.rating("advisory").severity is Severity.HIGH


def test_cbl_mariner_2(db):
    mariner = _os("cbl-mariner", "2.0")
    vuln = _one(db, mariner, rpm("libcurl", "8.5.0-1.cm2", "curl"))
    assert (vuln.id, vuln.match.ecosystem, vuln.fixed_version) == (
        "CVE-2024-2398",
        "Azure Linux:2",
        "8.6.0-2.cm2",
    )
    _clean(db, mariner, rpm("libcurl", "8.6.0-2.cm2", "curl"))


# --- No silent misses: one test per partial-scan warning


def test_release_without_an_ecosystem_in_the_database_is_a_partial_warning(db):
    # Debian 10 (buster) left OSV's export at end of life: nothing in the database is Debian:10.
    vulns, warnings = _match(db, _os("debian", "10.13"), deb("wget", "1.20.1-1.1"), deb("bash", "5.0-4"))
    assert vulns == ()
    (warning,) = warnings
    assert warning.partial and warning.source == "match/dpkg"
    assert warning.message.startswith(
        "no advisories for Debian:10 in the database, so 2 package(s) were not checked"
    )
    assert "bash 5.0-4, wget 1.20.1-1.1" in warning.message
    # A language ecosystem the database was built without says how to add it.
    crate = Package(name="smallvec", version="1.6.0", type="cargo", path="/app/Cargo.lock")
    (language,) = _match(db, None, crate)[1]
    assert language.partial and language.source == "match/language"
    assert language.message == (
        "no advisories for crates.io in the database, so 1 package(s) were not checked (smallvec 1.6.0); "
        "a database built without crates.io has none (`ci-security db update --ecosystem crates.io`)"
    )
    # Ubuntu names both ecosystems it searched.
    (ubuntu,) = _match(db, _os("ubuntu", "12.04"), deb("bash", "4.2-2ubuntu2"))[1]
    assert "no advisories for Ubuntu:12.04:LTS or Ubuntu:Pro:12.04:LTS" in ubuntu.message


def test_version_the_ordering_cannot_read_is_a_partial_warning(db):
    vulns, warnings = _match(db, _os("alpine", "3.19.1"), apk("openvpn", "git-2.6.6"))
    assert vulns == ()
    (warning,) = warnings
    assert warning.partial and warning.source == "match/apk"
    assert "ranges of their Alpine:v3.19 advisories were not evaluated" in warning.message
    assert "openvpn git-2.6.6 ('git-2.6.6' cannot be read as a apk version)" in warning.message


@pytest.fixture(scope="module")
def odd_db(tmp_path_factory):
    """Records in real feeds' forms with entries that cannot be interpreted (written here)."""
    folder = tmp_path_factory.mktemp("odd")
    records = {
        # Photon OS form, but this package only has the entry without ranges.
        "PHSA-2025-5.0-0999": {
            "id": "PHSA-2025-5.0-0999",
            "modified": "2025-05-01T00:00:00Z",
            "related": ["CVE-2025-0001"],
            "affected": [{"package": {"ecosystem": "Photon OS:5.0", "name": "openssh"}}],
        },
        # One range object and nothing else: read as that range.
        "PHSA-2025-5.0-1000": {
            "id": "PHSA-2025-5.0-1000",
            "modified": "2025-05-01T00:00:00Z",
            "related": ["CVE-2025-0002"],
            "affected": [
                {
                    "package": {"ecosystem": "Photon OS:5.0", "name": "sudo"},
                    "ranges": {
                        "type": "ECOSYSTEM",
                        "events": [{"introduced": "0"}, {"fixed": "1.9.15-2.ph5"}],
                    },
                }
            ],
        },
        # An introduced version the apk ordering cannot read.
        "ALPINE-CVE-2025-0003": {
            "id": "ALPINE-CVE-2025-0003",
            "modified": "2025-05-01T00:00:00Z",
            "upstream": ["CVE-2025-0003"],
            "affected": [
                {
                    "package": {"ecosystem": "Alpine:v3.19", "name": "busybox"},
                    "ranges": [
                        {"type": "ECOSYSTEM", "events": [{"introduced": "unknown"}, {"fixed": "1.36.1-r16"}]}
                    ],
                }
            ],
        },
    }
    for name, record in records.items():
        (folder / f"{name}.json").write_text(json.dumps(record))
    path = folder / "osv.sqlite"
    import_paths(path, [folder])
    with VulnDB(path) as opened:
        yield opened


def test_entry_that_cannot_be_interpreted_is_a_partial_warning(odd_db):
    photon5 = _os("photon", "5.0")
    vulns, warnings = _match(odd_db, photon5, rpm("openssh", "9.3p2-1.ph5"), rpm("sudo", "1.9.15-1.ph5"))
    assert [(v.id, v.package.name) for v in vulns] == [("CVE-2025-0002", "sudo")]  # the object range
    (warning,) = warnings
    assert warning.partial and warning.source == "match/rpm"
    assert warning.message == (
        "1 Photon OS:5.0 advisory entry for packages in the image cannot be interpreted, so those packages "
        "were not checked against them: PHSA-2025-5.0-0999 (openssh: no ranges and no versions)"
    )
    vulns, warnings = _match(odd_db, _os("alpine", "3.19.0"), apk("busybox", "1.36.1-r15"))
    assert vulns == ()
    assert "ALPINE-CVE-2025-0003 (busybox: introduced 'unknown' cannot be read as a apk version)" in (
        warnings[0].message
    )


# --- The CVE a finding gets from `related` is one a policy ignore or a VEX statement can name


def test_policy_ignore_and_vex_by_a_cve_found_only_in_related(db):
    from dataclasses import replace
    from datetime import date

    from ci_security.models import ScanResult, build_purl
    from ci_security.policy.evaluate import evaluate
    from ci_security.policy.load import parse_policy
    from ci_security.policy.vex import parse_vex

    alma9 = _os("alma", "9.3")
    pkg = rpm("avahi-libs", "0.8-15.el9", "avahi")
    pkg = replace(pkg, purl=build_purl(pkg, alma9))
    vulns, _ = _match(db, alma9, pkg)
    result = ScanResult(target=None, packages=(pkg,), vulnerabilities_scanned=True, vulnerabilities=vulns)
    policy = parse_policy(
        "ignore:\n  - id: CVE-2023-38470\n    reason: not reachable here\n    expires: 2099-01-31\n",
        "policy.yml",
    )
    vex = parse_vex(
        {
            "@context": "https://openvex.dev/ns/v0.2.0",
            "statements": [
                {
                    "vulnerability": {"name": "CVE-2023-38471"},
                    "products": [{"@id": "pkg:rpm/alma/avahi-libs"}],
                    "status": "not_affected",
                    "justification": "vulnerable_code_not_in_execute_path",
                }
            ],
        },
        "avahi.openvex.json",
    )
    decision = evaluate(result, policy, today=date(2026, 11, 26), vex=[vex])
    by_fingerprint = {v.fingerprint: v.id for v in vulns}
    assert sorted((by_fingerprint[s.fingerprint], s.kind) for s in decision.suppressed) == [
        ("CVE-2023-38470", "ignore"),
        ("CVE-2023-38471", "vex"),
    ]
    # The other three CVEs of the same ALSA are still reported.
    assert len(vulns) - len(decision.suppressed) == 3
