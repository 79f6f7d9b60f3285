"""Enterprise distributions and CVE data end to end: each source's real samples (../shared/data/feeds and
osv-real, read at test time) imported into a database, and an image of that distribution built here
(os-release, an rpm database, Red Hat's content manifests) scanned against it, with the findings,
severities and sources the data says.

- Red Hat: an image's content sets, through Red Hat's repository-to-CPE mapping, scope the search to
  its product streams; an EUS advisory reaches an EUS image and not a standard UBI one; an image with
  no content manifest falls back to BaseOS and AppStream and says so.
- SUSE: SLES's product ecosystems (and Package Hub's) by its release, binaries found through the
  source package's entry.
- Amazon Linux 1, 2 (core and an extras topic) and 2023 (core and kernel live patches) from
  updateinfo.xml; Oracle Linux from OVAL, per architecture, Ksplice and module streams.
- Debian with NVD, CVE 5, KEV and EPSS: the distribution's rating beside NVD's, and the policy's
  severity_source deciding which wins.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from testkit.images import build_oci_layout, directory, file, rpm_header, rpmdb_sqlite
from testkit.shared import shared_path

from ci_security.models import Severity
from ci_security.scan import ScanOptions, run
from ci_security.vulndb.dbimport import import_paths

DISTRO = Path(__file__).parents[1] / "fixtures" / "osv" / "distro"


def feed(*parts: str) -> Path:
    return shared_path("data", "feeds", *parts)


def os_release(ident: str, version: str, pretty: str) -> str:
    return f'NAME="{pretty}"\nID="{ident}"\nVERSION_ID="{version}"\nPRETTY_NAME="{pretty}"\n'


def rpm_image(tmp_path: Path, release: str, *headers: bytes, extra: list | None = None) -> str:
    base = [
        directory("etc"),
        file("etc/os-release", release),
        directory("var"),
        directory("var/lib"),
        directory("var/lib/rpm"),
        file("var/lib/rpm/rpmdb.sqlite", rpmdb_sqlite(*headers)),
    ]
    layers = [base] + ([extra] if extra else [])
    build_oci_layout(tmp_path / "image", layers, tag="test")
    return f"oci:{tmp_path / 'image'}:test"


def scan(db: Path, image: str, severity_source: str = "vendor"):
    return run(ScanOptions(image=image, db_path=db, use_cache=False), severity_source=severity_source)


def manifest(*content_sets: str) -> list:
    doc = {
        "metadata": {"icm_version": 1, "icm_spec": "content_manifest.json", "image_layer_index": 1},
        "content_sets": list(content_sets),
        "image_contents": [],
    }
    return [
        directory("root"),
        directory("root/buildinfo"),
        directory("root/buildinfo/content_manifests"),
        file("root/buildinfo/content_manifests/app-1.0-1.json", json.dumps(doc)),
    ]


# --- Red Hat ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redhat_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("redhat") / "db.sqlite"
    osv = feed("redhat", "osv")
    import_paths(
        path,
        [
            osv / "RHSA-2024_8709.json",
            osv / "RHBA-2024_6202.json",
            osv / "RHEA-2024_1870.json",
            feed("redhat", "repository-to-cpe.excerpt.json"),
        ],
    )
    return path


RHEL92 = os_release("rhel", "9.2", "Red Hat Enterprise Linux 9.2 (Plow)")
PODMAN = rpm_header("podman", "4.4.1", "20.el9_2", epoch=2, source="podman-4.4.1-20.el9_2.src.rpm")


def test_red_hat_eus_image_is_scoped_by_its_content_sets(redhat_db, tmp_path):
    sets = manifest("rhel-9-for-x86_64-baseos-eus-rpms", "rhel-9-for-x86_64-appstream-eus-rpms")
    result = scan(redhat_db, rpm_image(tmp_path, RHEL92, PODMAN, extra=sets))
    assert result.target.os.content_sets == (
        "rhel-9-for-x86_64-appstream-eus-rpms",
        "rhel-9-for-x86_64-baseos-eus-rpms",
    )
    (vuln,) = result.vulnerabilities
    assert (vuln.id, vuln.aliases, vuln.fixed_version) == (
        "CVE-2024-9675",
        ("RHSA-2024:8709",),
        "2:4.4.1-21.el9_2",
    )
    assert vuln.match.ecosystem == "Red Hat:rhel_eus:9.2::appstream"
    # Red Hat's own rating (the record's classification link) decides; its CVSS stays beside it.
    assert (vuln.severity, vuln.severity_source) == (Severity.HIGH, "RHSA-2024:8709 classification")
    assert (vuln.vendor_severity.label, vuln.rating("advisory").score) == ("Important", 4.4)
    assert result.warnings == ()


def test_an_eus_advisory_does_not_reach_a_standard_ubi_image(redhat_db, tmp_path):
    real = feed("redhat", "content_manifests", "ubi8-minimal-container-8.5-218.json").read_bytes()
    content = [
        directory("root"),
        directory("root/buildinfo"),
        directory("root/buildinfo/content_manifests"),
        file("root/buildinfo/content_manifests/ubi8-minimal-container-8.5-218.json", real),
    ]
    firmware = rpm_header(
        "iwl100-firmware", "39.31.5.1", "117.el8", source="linux-firmware-20230404-117.el8.src.rpm"
    )
    ubi8 = os_release("rhel", "8.5", "Red Hat Enterprise Linux 8.5 (Ootpa)")
    result = scan(redhat_db, rpm_image(tmp_path, ubi8, firmware, extra=content))
    assert result.target.os.content_sets == (
        "rhel-8-for-x86_64-appstream-rpms",
        "rhel-8-for-x86_64-baseos-rpms",
    )
    assert result.vulnerabilities == ()  # RHBA-2024:6202 is for rhel_eus:8.8::baseos only
    eus = manifest("rhel-8-for-x86_64-baseos-eus-rpms")
    (tmp_path / "eus").mkdir()
    result = scan(redhat_db, rpm_image(tmp_path / "eus", ubi8, firmware, extra=eus))
    (vuln,) = result.vulnerabilities
    assert (vuln.id, vuln.aliases, vuln.fixed_version) == (
        "CVE-2023-31315",
        ("RHBA-2024:6202",),
        "0:39.31.5.1-118.2.el8_8.1",
    )


def test_red_hat_image_without_content_sets_searches_baseos_and_appstream_and_says_so(redhat_db, tmp_path):
    result = scan(redhat_db, rpm_image(tmp_path, RHEL92, PODMAN))
    assert result.vulnerabilities == ()  # podman's fix is in the EUS stream, not searched
    missing, warning = result.warnings  # sorted by message
    assert warning.source == "match/rpm" and warning.partial is False
    # This database holds no BaseOS/AppStream records at all, which is a partial scan of its own.
    assert missing.partial and missing.message.startswith(
        "no advisories for Red Hat:enterprise_linux:9::baseos or Red Hat:enterprise_linux:9::appstream"
    )
    assert warning.message == (
        "the image records no content sets (/root/buildinfo/content_manifests/*.json), so its rpm packages "
        "were searched in Red Hat's Red Hat:enterprise_linux:9::baseos and "
        "Red Hat:enterprise_linux:9::appstream streams only"
    )


# --- SUSE ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def suse_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("suse") / "db.sqlite"
    import_paths(
        path, [feed("suse", "osv", "SUSE-SU-403.json"), feed("suse", "osv", "openSUSE-SU-2016_1623-1.json")]
    )
    return path


def test_sles_binary_is_found_through_its_source_packages_entry(suse_db, tmp_path):
    sles = os_release("sles", "12.1", "SUSE Linux Enterprise Server 12 SP1")
    qt = rpm_header("libqt4-x11", "4.8.6", "6.1", source="libqt4-4.8.6-6.1.src.rpm")
    result = scan(suse_db, rpm_image(tmp_path, sles, qt))
    assert len(result.vulnerabilities) == 54  # SUSE-SU-403 names 54 CVEs
    vuln = next(v for v in result.vulnerabilities if v.id == "CVE-2014-3566")
    assert (vuln.aliases, vuln.fixed_version) == (("SUSE-SU-403",), "4.8.6-7.1")
    assert (vuln.match.name, vuln.match.kind) == ("libqt4-x11", "direct")
    assert vuln.match.ecosystem.startswith("SUSE:Linux Enterprise ") and vuln.match.ecosystem.endswith(
        " 12 SP1"
    )
    fixed = rpm_header("libqt4-x11", "4.8.6", "7.1", source="libqt4-4.8.6-7.1.src.rpm")
    (tmp_path / "fixed").mkdir()
    assert scan(suse_db, rpm_image(tmp_path / "fixed", sles, fixed)).vulnerabilities == ()


def test_sles_package_hub(suse_db, tmp_path):
    sles12 = os_release("sles", "12", "SUSE Linux Enterprise Server 12")
    chromium = rpm_header("chromium", "51.0.2704.103", "80.1")
    (vuln,) = scan(suse_db, rpm_image(tmp_path, sles12, chromium)).vulnerabilities
    assert (vuln.id, vuln.aliases, vuln.match.ecosystem) == (
        "CVE-2016-1704",
        ("openSUSE-SU-2016:1623-1",),
        "SUSE:Package Hub 12",
    )


# --- Amazon Linux ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def amazon_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("amazon") / "db.sqlite"
    import_paths(path, sorted(feed("amazon").glob("*.xml.gz")))
    return path


def test_amazon_linux_2023_core_and_kernel_live_patch(amazon_db, tmp_path):
    al2023 = os_release("amzn", "2023", "Amazon Linux 2023")
    rsyslog = rpm_header("rsyslog", "8.2204.0", "3.amzn2023.0.1")
    livepatch = rpm_header("kernel-livepatch-6.1.12-19.43", "1.0", "0.amzn2023")
    result = scan(amazon_db, rpm_image(tmp_path, al2023, rsyslog, livepatch))
    found = {(v.id, v.package.name): v for v in result.vulnerabilities}
    assert sorted(found) == [
        ("CVE-2014-3634", "rsyslog"),
        ("CVE-2022-24903", "rsyslog"),
        ("CVE-2023-26545", "kernel-livepatch-6.1.12-19.43"),
    ]
    vuln = found["CVE-2022-24903", "rsyslog"]
    assert (vuln.aliases, vuln.fixed_version, vuln.match.ecosystem) == (
        ("ALAS2023-2023-001",),
        "8.2204.0-3.amzn2023.0.2",
        "Amazon Linux:2023",
    )
    assert (vuln.severity, vuln.vendor_severity.label) == (Severity.HIGH, "Important")


def test_amazon_linux_2_extras_fix_reaches_its_stream_only(amazon_db, tmp_path):
    al2 = os_release("amzn", "2", "Amazon Linux 2")
    core = rpm_header("kernel", "4.14.200", "155.322.amzn2")
    extras = rpm_header("kernel", "5.15.30", "1.amzn2")
    result = scan(amazon_db, rpm_image(tmp_path, al2, core, extras))
    assert {v.package.version for v in result.vulnerabilities} == {"5.15.30-1.amzn2"}
    assert {v.aliases for v in result.vulnerabilities} == {("ALAS2KERNEL-5.15-2022-001",)}
    assert all(v.fixed_version == "5.15.43-20.123.amzn2" for v in result.vulnerabilities)


def test_amazon_linux_1(amazon_db, tmp_path):
    ami = os_release("amzn", "2018.03", "Amazon Linux AMI 2018.03")
    (vuln,) = scan(
        amazon_db, rpm_image(tmp_path, ami, rpm_header("httpd-devel", "2.2.20", "1.amzn1"))
    ).vulnerabilities
    assert (vuln.id, vuln.aliases, vuln.severity) == ("CVE-2011-3192", ("ALAS-2011-1",), Severity.MEDIUM)


# --- Oracle Linux ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def oracle_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("oracle") / "db.sqlite"
    oracle = feed("oracle")
    import_paths(
        path,
        [
            oracle / "vunnel_mock_ksplice_data.xml",
            oracle / "vunnel_mock_per_arch_data.xml",
            oracle / "vuls_com.oracle.elsa-all.xml.bz2",
        ],
    )
    return path


def test_oracle_ksplice_fixes_reach_ksplice_builds_only(oracle_db, tmp_path):
    ol8 = os_release("ol", "8.4", "Oracle Linux Server 8.4")
    ksplice = rpm_header("openssl", "1.1.1g", "14.ksplice1.el8_3", epoch=2)
    plain = rpm_header("openssl-libs", "1.1.1g", "12.el8_3", epoch=1)
    result = scan(oracle_db, rpm_image(tmp_path, ol8, ksplice, plain))
    assert sorted((v.id, v.package.name) for v in result.vulnerabilities) == [
        ("CVE-2021-3449", "openssl"),
        ("CVE-2021-3450", "openssl"),
    ]
    vuln = result.vulnerabilities[0]
    assert (vuln.match.ecosystem, vuln.fixed_version, vuln.aliases) == (
        "Oracle Linux:8:ksplice",
        "2:1.1.1g-15.ksplice1.el8_3",
        ("ELSA-2021-9151",),
    )
    assert (vuln.severity, vuln.vendor_severity.label) == (Severity.HIGH, "IMPORTANT")


@pytest.mark.parametrize(("arch", "affected"), [("aarch64", True), ("x86_64", False)])
def test_oracle_per_architecture_fix(oracle_db, tmp_path, arch, affected):
    ol7 = os_release("ol", "7.9", "Oracle Linux Server 7.9")
    rsyslog = rpm_header("rsyslog", "8.24.0", "57.0.1.el7_9.3", arch=arch)
    vulns = scan(oracle_db, rpm_image(tmp_path, ol7, rsyslog)).vulnerabilities
    if not affected:
        assert vulns == ()  # x86_64's fix is this build
        return
    (vuln,) = vulns
    assert (vuln.id, vuln.match.ecosystem, vuln.fixed_version) == (
        "CVE-2022-24903",
        "Oracle Linux:7:aarch64",
        "8.24.0-57.0.4.el7_9.3",
    )
    # Oracle's CVSS for the CVE (from the OVAL's <cve cvss3=...>) is kept beside its rating.
    assert vuln.rating("advisory").score == 8.1


def test_oracle_module_stream_fix(oracle_db, tmp_path):
    ol8 = os_release("ol", "8.7", "Oracle Linux Server 8.7")
    hivex = rpm_header("hivex", "1.3.18", "20.module+el8.6.0+20663+1b2ad1cf")
    result = scan(oracle_db, rpm_image(tmp_path, ol8, hivex))
    assert sorted(v.id for v in result.vulnerabilities) == ["CVE-2022-4144", "CVE-2023-0664"]


# --- Debian with NVD, CVE 5, KEV and EPSS ------------------------------------------------------------

BOOKWORM = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
)


def status(*debs: tuple[str, str, str]) -> str:
    return "".join(
        f"Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nSource: {source}\n"
        f"Version: {version}\nDescription: {name}\n\n"
        for name, version, source in debs
    )


def debian_image(tmp_path: Path, *debs: tuple[str, str, str]) -> str:
    layers = [
        [
            directory("etc"),
            file("etc/os-release", BOOKWORM),
            file("etc/debian_version", "12.7\n"),
            directory("var"),
            directory("var/lib"),
            directory("var/lib/dpkg"),
            file("var/lib/dpkg/status", status(*debs)),
        ]
    ]
    build_oci_layout(tmp_path / "image", layers, tag="test")
    return f"oci:{tmp_path / 'image'}:test"


@pytest.fixture(scope="module")
def debian_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("debian") / "db.sqlite"
    import_paths(
        path,
        [
            DISTRO / "DEBIAN-CVE-2023-45853.json",
            DISTRO / "DEBIAN-CVE-2023-4863.json",
            DISTRO / "DEBIAN-CVE-2024-0727.json",
            feed("nvd", "records", "CVE-2023-45853.json"),
            feed("nvd", "records", "CVE-2024-0727.json"),
            feed("nvd", "pages", "osvdev_CVE-2023-4863.json"),
            feed("cve5", "vulnrichment", "CVE-2023-45853.json"),
            feed("kev", "known_exploited_vulnerabilities.excerpt-50.json"),
        ],
    )
    return path


PACKAGES = (
    ("zlib1g", "1:1.2.13.dfsg-1", "zlib"),
    ("libwebp7", "1.2.4-0.2", "libwebp"),
    ("libssl3", "3.0.11-1~deb12u2", "openssl"),
)


def _by_id(result):
    return {v.id: v for v in result.vulnerabilities}


def test_debian_rating_beside_nvd_and_the_adp_and_kev(debian_db, tmp_path):
    found = _by_id(scan(debian_db, debian_image(tmp_path, *PACKAGES)))
    zlib = found["CVE-2023-45853"]
    # Debian's "unimportant" decides by default, as Trivy does; NVD's 9.8 and CISA ADP's 8.8 are kept.
    assert (zlib.severity, zlib.severity_source) == (Severity.LOW, "DEBIAN-CVE-2023-45853 database_specific")
    assert [(r.kind, r.label, r.score, r.severity) for r in zlib.severity_sources] == [
        ("vendor", "unimportant", None, Severity.LOW),
        ("nvd", "", 9.8, Severity.CRITICAL),
        ("adp", "", 8.8, Severity.HIGH),
    ]
    assert zlib.cvss_score == 9.8 and zlib.kev is None
    # libwebp: Debian has not rated it ("not yet assigned"), so NVD's rating decides; CISA lists it.
    webp = found["CVE-2023-4863"]
    assert (webp.severity, webp.cvss_score, webp.severity_source) == (
        Severity.HIGH,
        8.8,
        "NVD CVSS_V3 CVE-2023-4863 (nvd@nist.gov)",
    )
    assert (webp.kev.date_added, webp.kev.due_date) == ("2023-09-13", "2023-10-04")
    # openssl: NVD's record of the time has no score and Debian rates nothing: the CVSS the
    # advisory carries decides, last in the order.
    openssl = found["CVE-2024-0727"]
    assert (openssl.severity, openssl.severity_source) == (
        Severity.MEDIUM,
        "DEBIAN-CVE-2024-0727 CVSS_V3 (record)",
    )
    assert [r.kind for r in openssl.severity_sources] == ["advisory"]


@pytest.mark.parametrize(("order", "severity"), [("nvd", Severity.CRITICAL), ("max", Severity.CRITICAL)])
def test_severity_source_lets_nvd_win(debian_db, tmp_path, order, severity):
    zlib = _by_id(scan(debian_db, debian_image(tmp_path, *PACKAGES), severity_source=order))["CVE-2023-45853"]
    assert (zlib.severity, zlib.severity_source) == (severity, "NVD CVSS_V3 CVE-2023-45853 (nvd@nist.gov)")
    assert zlib.vendor_severity.label == "unimportant"  # still shown beside it


def test_cve5_adp_score_where_nvd_has_none(tmp_path):
    db = tmp_path / "db.sqlite"
    import_paths(
        db, [DISTRO / "DEBIAN-CVE-2023-45853.json", feed("cve5", "vulnrichment", "CVE-2023-45853.json")]
    )
    (tmp_path / "img").mkdir()
    (zlib,) = scan(
        db, debian_image(tmp_path / "img", ("zlib1g", "1:1.2.13.dfsg-1", "zlib")), "nvd"
    ).vulnerabilities
    assert (zlib.severity, zlib.cvss_score, zlib.severity_source) == (
        Severity.HIGH,
        8.8,
        "ADP CVSS_V3 CVE-2023-45853 (CISA-ADP)",
    )


def test_epss_scores_join_findings_by_cve(tmp_path):
    # A record written for this test: only its CVE id matters, to meet the real EPSS file's rows.
    record = {
        "id": "DEBIAN-CVE-2020-5902",
        "modified": "2024-01-01T00:00:00Z",
        "upstream": ["CVE-2020-5902"],
        "affected": [
            {
                "package": {"ecosystem": "Debian:12", "name": "tmui"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "15.1.0.4-1"}]}],
            }
        ],
    }
    (tmp_path / "DEBIAN-CVE-2020-5902.json").write_text(json.dumps(record))
    db = tmp_path / "db.sqlite"
    import_paths(
        db, [tmp_path / "DEBIAN-CVE-2020-5902.json", feed("epss", "vuls_epss_scores-2023-03-07.csv.gz")]
    )
    (vuln,) = scan(db, debian_image(tmp_path, ("tmui", "15.1.0-1", "tmui"))).vulnerabilities
    assert (vuln.epss.score, vuln.epss.percentile, vuln.epss.date) == (0.97567, 0.99995, "2023-03-07")
