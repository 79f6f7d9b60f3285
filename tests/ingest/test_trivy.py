"""The Trivy importer: Trivy JSON (a report written here in the layout of Trivy's debian golden file,
and a Trivy 0.76 run with hand-added findings, see tests/fixtures/ingest/LICENSE-NOTE.md), hand-built
edge cases, and malformed input.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from ci_security.errors import CiSecurityError
from ci_security.ingest.base import Importer, ReportImportError
from ci_security.ingest.trivy import TrivyImporter
from ci_security.models import (
    LayerRef,
    MatchDetail,
    Misconfiguration,
    OSInfo,
    Package,
    Severity,
    Vulnerability,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ingest"
GOLDEN_LAYOUT = FIXTURES / "trivy-debian-10-synthetic.json"
APP = FIXTURES / "trivy-0.76-debian-app.json"
GRYPE = FIXTURES / "grype-presenter-layout-synthetic.json"

GOLDEN_LAYER = LayerRef(
    index=0,
    digest="sha256:9915810cd08d47df6efd19c4b5609573af5486880f6b73d1bc13eb0a3f7728dd",
    diff_id="sha256:dbc1ea7ce31415b07fe78de06cf5d99c233db2863f675086b9ee0a95dc38fa28",
)
APP_DIFF_ID = "sha256:e447bcbf77a7081b7192653091abf65112fd646a9058fec20a9b2640968037e6"
APP_LAYER = LayerRef(index=0, digest="", diff_id=APP_DIFF_ID)


def load(path: Path):
    return TrivyImporter().load(path)


def write(tmp_path: Path, doc: object, name: str = "report.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def report(*results: dict, **envelope: object) -> dict:
    doc: dict = {"SchemaVersion": 2, "ArtifactName": "demo:1", "ArtifactType": "container_image"}
    doc.update(envelope)
    doc["Results"] = list(results)
    return doc


def vuln(**fields: object) -> dict:
    base: dict = {
        "VulnerabilityID": "CVE-2099-1",
        "PkgName": "pkg",
        "InstalledVersion": "1.0",
        "Severity": "MEDIUM",
    }
    base.update(fields)
    return base


def one(tmp_path: Path, rtype: str = "debian", **fields: object) -> Vulnerability:
    doc = report({"Target": "t", "Class": "os-pkgs", "Type": rtype, "Vulnerabilities": [vuln(**fields)]})
    (found,) = load(write(tmp_path, doc)).vulnerabilities
    return found


def test_importer_contract():
    importer: Importer = TrivyImporter()
    assert importer.name == "trivy"
    assert importer.produces == ("vulnerabilities", "misconfigurations")
    assert issubclass(ReportImportError, CiSecurityError)
    # An image report is a vulnerability scan; a config report (`trivy config`) is not.
    assert importer.load(APP).vulnerability_scan
    assert not importer.load(CONFIG, CORPUS).vulnerability_scan


# --- a report written here in the layout of Trivy's debian golden file (synthetic CVE-2099 advisories)


def test_golden_envelope():
    imported = load(GOLDEN_LAYOUT)
    assert imported.tool == "trivy"
    assert imported.tool_version is None  # the golden layout predates the `Trivy.Version` field
    assert imported.target == "fixtures/images/debian-10-synthetic.tar.gz"
    assert imported.os == OSInfo(family="debian", version="10.13")
    assert [v.id for v in imported.vulnerabilities] == ["CVE-2099-0010", "CVE-2099-0011"]
    # No Packages lists: the packages are those of the findings.
    assert [p.name for p in imported.packages] == ["tar", "libgnutls30"]


def test_golden_fixed_finding_maps_every_field():
    found = load(GOLDEN_LAYOUT).vulnerabilities[1]
    target = "fixtures/images/debian-10-synthetic.tar.gz (debian 10.13)"
    assert found == Vulnerability(
        id="CVE-2099-0011",
        aliases=("DSA-9999-1",),
        package=Package(
            name="libgnutls30",
            version="3.6.7-4+deb10u5",
            type="deb",
            purl="pkg:deb/debian/libgnutls30@3.6.7-4%2Bdeb10u5?arch=amd64&distro=debian-10.13",
            arch="amd64",
            path=target,
            layer=GOLDEN_LAYER,
            found_by="trivy",
        ),
        fixed_version="3.6.7-4+deb10u6",
        status="fixed",
        severity=Severity.CRITICAL,
        cvss_score=9.8,
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        severity_source="trivy:nvd",
        title="gnutls: SYNTHETIC TEST DATA, no such vulnerability",
        description=(
            "SYNTHETIC TEST DATA written for ci-security's importer tests. It describes no real "
            "vulnerability: a made-up overflow in a made-up handshake path, fixed in a made-up Debian "
            "security update."
        ),
        references=found.references,
        published="2099-01-11T17:15:00Z",
        match=MatchDetail(
            matcher="trivy",
            kind="direct",
            ecosystem="debian",
            name="libgnutls30",
            version="3.6.7-4+deb10u5",
            source="trivy",
        ),
    )
    assert len(found.references) == 5
    assert found.references[-1] == "https://www.debian.org/security/2099/dsa-9999"


def test_golden_unfixed_finding_takes_nvd_cvss_when_severity_source_has_none():
    found = load(GOLDEN_LAYOUT).vulnerabilities[0]
    assert found.status == "affected"
    assert found.fixed_version is None
    assert found.aliases == ()
    # Severity came from Debian, which gives no CVSS: nvd's V3 (not its higher V2 7.2, nor Red Hat's
    # V3 5.7) is used.
    assert (found.severity, found.severity_source) == (Severity.LOW, "trivy:debian")
    assert (found.cvss_score, found.cvss_vector) == (7.1, "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N")


# --- a real Trivy 0.76 report with --list-all-pkgs (vulnerabilities added by hand)


def test_listed_packages_are_imported_and_non_package_results_skipped():
    imported = load(APP)
    assert imported.tool_version == "0.76.0"
    assert imported.target == "/tmp/bench/debian-app.tar"
    assert imported.os == OSInfo(family="debian", version="12.15")
    by_type: dict[str, int] = {}
    for pkg in imported.packages:
        by_type[pkg.type] = by_type.get(pkg.type, 0) + 1
    # 5 dpkg + 5 npm (two `ms`) + 6 Python packages; the `license` result adds nothing.
    assert by_type == {"deb": 5, "npm": 5, "pypi": 6}
    assert len(imported.vulnerabilities) == 7


def test_os_package_versions_are_joined_as_dpkg_prints_them():
    packages = {p.name: p for p in load(APP).packages}
    assert packages["passwd"] == Package(
        name="passwd",
        version="1:4.13+dfsg1-1+deb12u2",
        type="deb",
        purl="pkg:deb/debian/passwd@4.13%2Bdfsg1-1%2Bdeb12u2?arch=amd64&distro=debian-12.15&epoch=1",
        source_name="shadow",
        source_version="1:4.13+dfsg1-1+deb12u2",
        arch="amd64",
        epoch=1,
        path="/tmp/bench/debian-app.tar (debian 12.15)",
        layer=APP_LAYER,
        found_by="trivy:dpkg",
        licenses=("BSD-3-Clause", "GPL-1.0-only", "GPL-2.0-or-later", "public-domain", "GPL-2.0-only"),
    )
    assert (packages["libc6"].version, packages["libc6"].source_name) == ("2.36-9+deb12u14", "glibc")
    assert packages["libc6"].epoch is None


def test_language_package_paths_are_absolute_image_paths():
    paths = sorted(p.path for p in load(APP).packages if p.name == "ms")
    assert paths == [
        "/app/node_modules/ms/package.json",
        "/app/node_modules/send/node_modules/ms/package.json",
    ]


def test_findings_use_the_listed_package():
    imported = load(APP)
    for found in imported.vulnerabilities:
        assert found.package in imported.packages
    ms = [v for v in imported.vulnerabilities if v.package.name == "ms"]
    assert [(v.package.version, v.package.path) for v in ms] == [
        ("2.0.0", "/app/node_modules/ms/package.json"),
        ("2.1.1", "/app/node_modules/send/node_modules/ms/package.json"),
    ]
    assert {v.package.licenses for v in ms} == {("MIT",)}


def test_status_fixed_version_and_cvss_choices():
    found = {(v.id, v.package.name): v for v in load(APP).vulnerabilities}
    glibc = found["CVE-2099-0101", "libc6"]
    # SeveritySource nvd has V4.0 and V3.1: V4.0 wins.
    assert (glibc.cvss_score, glibc.cvss_vector) == (
        8.5,
        "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    )
    assert glibc.fixed_version == "2.36-9+deb12u15"
    shadow = found["CVE-2099-0102", "passwd"]
    assert (shadow.status, shadow.fixed_version, shadow.severity) == ("will_not_fix", None, Severity.LOW)
    assert shadow.match == MatchDetail(
        matcher="trivy",
        kind="direct",
        ecosystem="debian",
        name="passwd",
        version="1:4.13+dfsg1-1+deb12u2",
        source="trivy",
    )
    zlib = found["CVE-2099-0103", "zlib1g"]
    assert (zlib.status, zlib.cvss_score, zlib.cvss_vector) == ("affected", None, None)
    ms = found["CVE-2099-0201", "ms"]
    # Severity from ghsa: ghsa's 5.9, not nvd's 7.5; of "2.0.1, 2.1.3" the smallest above the installed.
    expected_fix = "2.0.1" if ms.package.version.startswith("2.0") else "2.1.3"
    assert (ms.cvss_score, ms.severity_source, ms.fixed_version) == (5.9, "trivy:ghsa", expected_fix)
    assert ms.aliases == ("GHSA-9x9x-ms00-0201",)
    assert ms.match is not None and ms.match.ecosystem == "node-pkg"
    django = found["CVE-2099-0301", "Django"]
    # "4.2.99, 3.2.99": the fix for the installed 3.2 branch, not the first listed.
    assert (django.severity, django.cvss_score, django.fixed_version) == (Severity.CRITICAL, 9.3, "3.2.99")
    assert django.package.type == "pypi"
    assert django.package.purl == "pkg:pypi/django@3.2"


# --- edge cases on hand-built reports


@pytest.mark.parametrize(
    ("status", "fixed", "expected"),
    [
        ("", "1.1", "fixed"),
        ("", "", "affected"),
        ("Fixed", "1.1", "fixed"),
        ("end_of_life", "", "end_of_life"),
        ("fix_deferred", "", "fix_deferred"),
        (" Under_Investigation ", "", "under_investigation"),
    ],
)
def test_status(tmp_path, status, fixed, expected):
    assert one(tmp_path, Status=status, FixedVersion=fixed).status == expected


def test_a_status_outside_the_set_is_refused_naming_the_field(tmp_path):
    """Trivy's statuses are a closed set (`VulnStatus`); anything else is not a Trivy report we can read."""
    doc = report(
        {"Target": "t", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": [vuln(Status="maybe")]}
    )
    assert error(write(tmp_path, doc)) == (
        "not a valid Trivy report: Results[0].Vulnerabilities[0].Status: 'maybe' is not one of unknown, "
        "not_affected, affected, fixed, under_investigation, will_not_fix, fix_deferred, end_of_life"
    )


def test_fixed_version_is_the_first_listed(tmp_path):
    assert one(tmp_path, FixedVersion=" 1.2.3 , 2.0.1").fixed_version == "1.2.3"
    assert one(tmp_path, FixedVersion=", ").fixed_version is None


def test_aliases_are_sorted_unique_and_exclude_the_id(tmp_path):
    found = one(tmp_path, VendorIDs=["USN-2-1", "DSA-1-1", "CVE-2099-1", "USN-2-1", ""])
    assert found.aliases == ("DSA-1-1", "USN-2-1")


@pytest.mark.parametrize(
    ("rtype", "expected"),
    [
        ("ubuntu", "deb"),
        ("alpine", "apk"),
        ("wolfi", "apk"),
        ("redhat", "rpm"),
        ("rocky", "rpm"),
        ("amazon", "rpm"),
        ("cbl-mariner", "rpm"),
        ("python-pkg", "pypi"),
        ("poetry", "pypi"),
        ("node-pkg", "npm"),
        ("pnpm", "npm"),
        ("gobinary", "golang"),
        ("gomod", "golang"),
        ("jar", "maven"),
        ("gradle", "maven"),
        ("gemspec", "gem"),
        ("bundler", "gem"),
        ("rustbinary", "cargo"),
        ("dotnet-core", "nuget"),
        ("composer-vendor", "composer"),
        ("something-new", "generic"),
    ],
)
def test_type_without_purl_comes_from_the_result_type(tmp_path, rtype, expected):
    assert one(tmp_path, rtype=rtype).package.type == expected


def test_purl_type_wins_over_the_result_type(tmp_path):
    found = one(tmp_path, rtype="jar", PkgIdentifier={"PURL": "pkg:golang/example.com/mod@v1.0.0"})
    assert found.package.type == "golang"


def test_purl_is_built_when_missing(tmp_path):
    doc = report(
        {
            "Target": "img (debian 12.15)",
            "Class": "os-pkgs",
            "Type": "debian",
            "Vulnerabilities": [vuln(PkgName="bsdutils", InstalledVersion="1:2.38.1-5+deb12u3")],
        },
        {
            "Target": "Python",
            "Class": "lang-pkgs",
            "Type": "python-pkg",
            "Vulnerabilities": [
                vuln(PkgName="Foo_Bar", InstalledVersion="1.0", PkgPath="usr/lib/x/METADATA")
            ],
        },
        Metadata={"OS": {"Family": "debian", "Name": "12.15"}},
    )
    deb, py = (v.package for v in load(write(tmp_path, doc)).vulnerabilities)
    assert deb.epoch == 1
    assert deb.purl == "pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u3?distro=debian-12.15&epoch=1"
    assert deb.path == "img (debian 12.15)"
    assert py.purl == "pkg:pypi/foo-bar@1.0"
    assert py.path == "/usr/lib/x/METADATA"


def test_paths_stay_relative_for_filesystem_scans(tmp_path):
    doc = report(
        {
            "Target": "package-lock.json",
            "Class": "lang-pkgs",
            "Type": "npm",
            "Vulnerabilities": [vuln(PkgName="ms", PkgPath="sub/package-lock.json")],
        },
        {"Target": "poetry.lock", "Class": "lang-pkgs", "Type": "poetry", "Vulnerabilities": [vuln()]},
        ArtifactType="filesystem",
    )
    paths = [v.package.path for v in load(write(tmp_path, doc)).vulnerabilities]
    assert paths == ["sub/package-lock.json", "poetry.lock"]


def test_layer_index_and_blob_digest_from_metadata(tmp_path):
    metadata = {
        "DiffIDs": ["sha256:aaa", "sha256:bbb"],
        "Layers": [{"DiffID": "sha256:aaa", "Digest": "sha256:blob-a"}, {"DiffID": "sha256:bbb"}],
    }
    results = {
        "Target": "t",
        "Class": "os-pkgs",
        "Type": "alpine",
        "Vulnerabilities": [
            vuln(Layer={"DiffID": "sha256:aaa"}),
            vuln(Layer={"DiffID": "sha256:bbb", "Digest": "sha256:blob-b"}),
            vuln(Layer={"DiffID": "sha256:ccc"}),
            vuln(Layer={"DiffID": "sha256:bbb"}),
        ],
    }
    layers = [
        v.package.layer for v in load(write(tmp_path, report(results, Metadata=metadata))).vulnerabilities
    ]
    assert layers == [
        LayerRef(index=0, digest="sha256:blob-a", diff_id="sha256:aaa"),
        LayerRef(index=1, digest="sha256:blob-b", diff_id="sha256:bbb"),
        None,
        LayerRef(index=1, digest="", diff_id="sha256:bbb"),
    ]


def test_layer_index_from_image_config_when_diff_ids_are_missing(tmp_path):
    metadata = {"ImageConfig": {"rootfs": {"type": "layers", "diff_ids": ["sha256:x", "sha256:y"]}}}
    results = {
        "Target": "t",
        "Class": "os-pkgs",
        "Type": "debian",
        "Vulnerabilities": [vuln(Layer={"DiffID": "sha256:y"})],
    }
    (found,) = load(write(tmp_path, report(results, Metadata=metadata))).vulnerabilities
    assert found.package.layer == LayerRef(index=1, digest="", diff_id="sha256:y")


@pytest.mark.parametrize(
    ("source", "cvss", "expected"),
    [
        ("", {"redhat": {"V3Score": 5.0}, "nvd": {"V2Score": 4.0, "V2Vector": "AV:N"}}, (4.0, "AV:N")),
        ("ghsa", {"redhat": {"V3Score": 5.0, "V3Vector": "CVSS:3.1/x"}}, (5.0, "CVSS:3.1/x")),
        ("ghsa", {"ghsa": {"V3Vector": "CVSS:3.1/no-score"}, "nvd": {"V3Score": 6.1}}, (6.1, None)),
        ("nvd", {}, (None, None)),
    ],
)
def test_cvss_choice(tmp_path, source, cvss, expected):
    found = one(tmp_path, SeveritySource=source, CVSS=cvss)
    assert (found.cvss_score, found.cvss_vector) == expected
    assert found.severity_source == (f"trivy:{source}" if source else "trivy")


def test_unknown_severity_label(tmp_path):
    assert one(tmp_path, Severity="").severity is Severity.UNKNOWN
    assert one(tmp_path, Severity="weird").severity is Severity.UNKNOWN


def test_non_package_results_and_empty_reports(tmp_path):
    doc = report(
        {
            "Target": "Dockerfile",
            "Class": "config",
            "Type": "dockerfile",
            "Misconfigurations": [{"ID": "DS002"}],
        },
        {"Target": "/app/.env", "Class": "secret", "Secrets": [{"RuleID": "aws-access-key-id"}]},
    )
    imported = load(write(tmp_path, doc))
    assert (imported.packages, imported.vulnerabilities) == ((), ())
    bare = {"SchemaVersion": 2, "ArtifactName": "x"}  # Trivy leaves Results out when there are none
    assert load(write(tmp_path, bare, "bare.json")).vulnerabilities == ()


def test_a_findings_package_missing_from_the_list_is_added(tmp_path):
    listed = {"Name": "other", "Version": "2.0", "Identifier": {"PURL": "pkg:deb/debian/other@2.0"}}
    result = {
        "Target": "t",
        "Class": "os-pkgs",
        "Type": "debian",
        "Packages": [listed],
        "Vulnerabilities": [vuln()],
    }
    imported = load(write(tmp_path, report(result)))
    assert [p.name for p in imported.packages] == ["other", "pkg"]
    assert imported.vulnerabilities[0].package is imported.packages[1]


def test_utf8_bom_and_utf16_reports_load(tmp_path):
    text = GOLDEN_LAYOUT.read_text(encoding="utf-8")
    bom = tmp_path / "bom.json"
    bom.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    utf16 = tmp_path / "utf16.json"
    utf16.write_bytes(text.encode("utf-16"))  # what Windows PowerShell's `>` writes
    assert load(bom) == load(GOLDEN_LAYOUT) == load(utf16)


# --- malformed input


def error(path: Path) -> str:
    with pytest.raises(ReportImportError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message[len(f"{path}: ") :]


def test_missing_file(tmp_path):
    assert error(tmp_path / "nope.json") == "cannot read the report: No such file or directory"


def test_directory(tmp_path):
    assert error(tmp_path) == "cannot read the report: Is a directory"


def test_truncated_json_gives_line_and_column(tmp_path):
    text = GOLDEN_LAYOUT.read_text(encoding="utf-8")
    path = tmp_path / "truncated.json"
    path.write_text(text[:1000], encoding="utf-8")
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text[:1000])
    reason = error(path)
    assert reason.startswith(f"invalid JSON at line {expected.value.lineno} column {expected.value.colno}: ")
    assert expected.value.lineno > 1


def test_empty_and_binary_files(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("  \n", encoding="utf-8")
    assert error(empty) == "empty file, not a JSON report"
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\x1f\x8b\x08\x00\xff\xfe")
    assert error(binary).startswith("not UTF-8 text")


def test_grype_report_is_not_a_trivy_report():
    assert error(GRYPE) == "not a Trivy JSON report (it looks like a Grype report)"


@pytest.mark.parametrize(
    ("doc", "hint"),
    [
        ({"version": "2.1.0", "runs": []}, " (it looks like a SARIF log)"),
        ({"bomFormat": "CycloneDX", "specVersion": "1.6"}, " (it looks like a CycloneDX SBOM)"),
        (
            [{"Target": "x", "Vulnerabilities": None}],
            " (it looks like a legacy Trivy report (before SchemaVersion 2))",
        ),
        ({"hello": "world"}, ""),
        ("just a string", ""),
    ],
)
def test_other_documents_are_not_trivy_reports(tmp_path, doc, hint):
    assert error(write(tmp_path, doc)) == f"not a Trivy JSON report{hint}"


def test_other_schema_versions_are_refused(tmp_path):
    reason = error(write(tmp_path, {"SchemaVersion": 3, "Results": []}))
    assert reason == "unsupported Trivy report SchemaVersion 3 (only 2 can be imported)"


@pytest.mark.parametrize(
    ("results", "where"),
    [
        ("nope", "Results: expected an array, found a string"),
        (
            [{"Target": "t", "Vulnerabilities": {}}],
            "Results[0].Vulnerabilities: expected an array, found an object",
        ),
        (
            [{"Target": "t", "Vulnerabilities": [vuln(PkgName=3)]}],
            "Results[0].Vulnerabilities[0].PkgName: expected a string, found a number",
        ),
        (
            [{"Target": "t", "Vulnerabilities": [vuln(VulnerabilityID="")]}],
            "Results[0].Vulnerabilities[0].VulnerabilityID: missing or empty",
        ),
        (
            [{"Target": "t", "Vulnerabilities": [vuln(CVSS={"nvd": {"V3Score": "9.8"}})]}],
            "Results[0].Vulnerabilities[0].CVSS.nvd.V3Score: expected a number, found a string",
        ),
        ([{"Target": "t", "Packages": [{"Version": "1"}]}], "Results[0].Packages[0].Name: missing or empty"),
        (
            [{"Target": "t", "Vulnerabilities": [vuln(PkgIdentifier={"PURL": "pkg:deb/x?arch"})]}],
            "Results[0].Vulnerabilities[0].PkgIdentifier.PURL: not a package URL "
            "(pkg:type/namespace/name@version)",
        ),
        (
            [{"Target": "t", "Packages": [{"Name": "x", "Identifier": {"PURL": "x@1"}}]}],
            "Results[0].Packages[0].Identifier.PURL: not a package URL (pkg:type/namespace/name@version)",
        ),
    ],
)
def test_wrong_field_types_name_the_field(tmp_path, results, where):
    doc = {"SchemaVersion": 2, "Results": results}
    assert error(write(tmp_path, doc)) == f"not a valid Trivy report: {where}"


# --- misconfigurations: a real `trivy config` 0.76 report on tests/fixtures/ingest/config

CONFIG = FIXTURES / "trivy-0.76-config.json"
CORPUS = FIXTURES / "config"


def config_findings(base: Path | None = CORPUS):
    return TrivyImporter().load(CONFIG, base).misconfigurations


def misconf(**fields: object) -> dict:
    base: dict = {
        "ID": "KSV-0017",
        "Title": "Privileged container",
        "Message": "Container 'app' of Deployment 'web' should set 'securityContext.privileged' to false",
        "Severity": "HIGH",
        "Status": "FAIL",
        "CauseMetadata": {"StartLine": 20, "EndLine": 36},
    }
    base.update(fields)
    return base


def config_report(*misconfigurations: dict, target: str = "k8s/web.yaml", **envelope: object) -> dict:
    doc: dict = {"SchemaVersion": 2, "ArtifactName": ".", "ArtifactType": "filesystem"}
    doc.update(envelope)
    doc["Results"] = [
        {
            "Target": target,
            "Class": "config",
            "Type": "kubernetes",
            "Misconfigurations": list(misconfigurations),
        }
    ]
    return doc


def test_config_report_counts_and_envelope():
    imported = TrivyImporter().load(CONFIG, CORPUS)
    assert (imported.tool_version, imported.target, imported.packages, imported.vulnerabilities) == (
        "0.76.0",
        ".",
        (),
        (),
    )
    found = imported.misconfigurations
    # The results' MisconfSummary.Failures: 8, 36, 37 and 3; compose.yaml is not scanned by Trivy.
    assert len(found) == 84
    assert {
        path: sum(1 for m in found if m.path == path) for path in dict.fromkeys(m.path for m in found)
    } == {
        "api/Dockerfile": 8,
        "k8s/backup-cronjob.yaml": 36,
        "k8s/web.yaml": 37,
        "worker/Dockerfile": 3,
    }
    assert all(m.found_by == "trivy" and m.peer_id == m.rule_id and m.fingerprint == "" for m in found)
    assert all(m.inline_reason is None for m in found)


def test_config_ids_lines_and_severities_match_the_table_output():
    found = config_findings()
    # As `trivy config .` prints them (`api/Dockerfile:2`, `k8s/web.yaml:35-48`, no line for DS-0026).
    rows = {(m.rule_id, m.path, m.line, m.severity) for m in found}
    assert {
        ("DS-0001", "api/Dockerfile", 2, Severity.MEDIUM),
        ("DS-0002", "api/Dockerfile", 17, Severity.HIGH),
        ("DS-0004", "api/Dockerfile", 16, Severity.MEDIUM),
        ("DS-0031", "api/Dockerfile", 6, Severity.CRITICAL),
        ("DS-0026", "api/Dockerfile", None, Severity.LOW),
        ("DS-0001", "worker/Dockerfile", 10, Severity.MEDIUM),
        ("DS-0025", "worker/Dockerfile", 11, Severity.HIGH),
        ("KSV-0017", "k8s/web.yaml", 35, Severity.HIGH),
        ("KSV-0006", "k8s/web.yaml", 24, Severity.HIGH),
        ("KSV-0118", "k8s/web.yaml", 33, Severity.HIGH),
        ("KSV-0009", "k8s/backup-cronjob.yaml", 6, Severity.HIGH),
        ("KSV-0005", "k8s/backup-cronjob.yaml", 21, Severity.HIGH),
        ("KSV-0105", "k8s/backup-cronjob.yaml", None, Severity.LOW),
        ("KSV-0105", "k8s/backup-cronjob.yaml", 14, Severity.LOW),
    } <= rows
    assert sum(1 for m in found if m.line is None) == 3  # DS-0026 twice, KSV-0105 once


def test_config_finding_maps_every_field():
    (found,) = [m for m in config_findings() if m.rule_id == "DS-0002"]
    assert found == Misconfiguration(
        rule_id="DS-0002",
        title="Image user should not be 'root'",
        severity=Severity.HIGH,
        path="api/Dockerfile",
        line=17,
        message="Last USER command in Dockerfile should not be 'root'",
        remediation="Add 'USER <non root user name>' line to the Dockerfile",
        references=(
            "https://avd.aquasec.com/misconfig/ds-0002",
            "https://docs.docker.com/develop/develop-images/dockerfile_best-practices/",
        ),
        found_by="trivy",
        peer_id="DS-0002",
    )


def test_only_failures_are_imported(tmp_path):
    doc = config_report(
        misconf(),
        misconf(Status="PASS"),
        misconf(Status="EXCEPTION"),
        misconf(Status="fail", ID="KSV-0009"),
    )
    found = load(write(tmp_path, doc)).misconfigurations
    assert [m.rule_id for m in found] == ["KSV-0017", "KSV-0009"]


def test_older_ids_take_the_avd_id(tmp_path):
    doc = config_report(misconf(ID="KSV017", AVDID="AVD-KSV-0017"), misconf(ID="KSV-0017", AVDID=""))
    assert [(m.rule_id, m.peer_id) for m in load(write(tmp_path, doc)).misconfigurations] == [
        ("KSV-0017", "KSV-0017"),
        ("KSV-0017", "KSV-0017"),
    ]


def test_misconfiguration_details(tmp_path):
    doc = config_report(
        misconf(
            Message="",
            Resolution="Set privileged to false",
            PrimaryURL="https://avd.aquasec.com/misconfig/ksv-0017",
            References=["https://avd.aquasec.com/misconfig/ksv-0017", "https://kubernetes.io/x", ""],
            CauseMetadata={"Resource": "Deployment/web", "StartLine": 0, "EndLine": 0},
        ),
        misconf(CauseMetadata=None, Severity="weird", Title=""),
    )
    first, second = load(write(tmp_path, doc)).misconfigurations
    assert (first.message, first.line, first.resource, first.remediation) == (
        "Privileged container",
        None,
        "Deployment/web",
        "Set privileged to false",
    )
    assert first.references == ("https://avd.aquasec.com/misconfig/ksv-0017", "https://kubernetes.io/x")
    assert (second.line, second.severity, second.title) == (None, Severity.UNKNOWN, "KSV-0017")


@pytest.mark.parametrize(
    ("name", "kind", "target", "expected"),
    [
        (".", "filesystem", "k8s/web.yaml", "k8s/web.yaml"),
        ("./deploy/", "filesystem", "web.yaml", "deploy/web.yaml"),
        ("deploy/web.yaml", "filesystem", "web.yaml", "deploy/web.yaml"),  # one file scanned
        ("{repo}/deploy", "filesystem", "web.yaml", "deploy/web.yaml"),
        ("/ci/deploy", "filesystem", "web.yaml", "/ci/deploy/web.yaml"),
        ("https://github.com/acme/shop", "repository", "k8s/web.yaml", "k8s/web.yaml"),
        ("{repo}", "repository", "k8s/web.yaml", "k8s/web.yaml"),
        ("registry.example.com/shop/web:1", "container_image", "app/Dockerfile", "app/Dockerfile"),
    ],
)
def test_config_paths_are_repository_relative(tmp_path, name, kind, target, expected):
    repo = tmp_path / "repo"
    doc = config_report(misconf(), target=target, ArtifactName=name.format(repo=repo), ArtifactType=kind)
    (found,) = TrivyImporter().load(write(tmp_path, doc), repo).misconfigurations
    assert found.path == expected


def test_one_report_with_vulnerabilities_and_misconfigurations(tmp_path):
    doc = report(
        {"Target": "img (debian 12.15)", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": [vuln()]},
        {
            "Target": "app/Dockerfile",
            "Class": "config",
            "Type": "dockerfile",
            "Misconfigurations": [misconf()],
        },
    )
    imported = load(write(tmp_path, doc))
    assert [v.id for v in imported.vulnerabilities] == ["CVE-2099-1"]
    assert [(m.rule_id, m.path) for m in imported.misconfigurations] == [("KSV-0017", "app/Dockerfile")]


def test_hadolint_and_checkov_reports_are_named():
    assert error(FIXTURES / "hadolint-2.15.1-config.json") == (
        "not a Trivy JSON report (it looks like a Hadolint report)"
    )
    assert error(FIXTURES / "checkov-3.3.30-config.json") == (
        "not a Trivy JSON report (it looks like a Checkov report)"
    )


@pytest.mark.parametrize(
    ("misconfigurations", "where"),
    [
        ({}, "Results[0].Misconfigurations: expected an array, found an object"),
        (["x"], "Results[0].Misconfigurations[0]: expected an object, found a string"),
        ([misconf(ID="")], "Results[0].Misconfigurations[0].ID: missing or empty"),
        ([misconf(Status=1)], "Results[0].Misconfigurations[0].Status: expected a string, found a number"),
        (
            [misconf(CauseMetadata={"StartLine": "3"})],
            "Results[0].Misconfigurations[0].CauseMetadata.StartLine: expected a number, found a string",
        ),
        (
            [misconf(CauseMetadata=[])],
            "Results[0].Misconfigurations[0].CauseMetadata: expected an object, found an array",
        ),
        (
            [misconf(References=[3])],
            "Results[0].Misconfigurations[0].References[0]: expected a string, found a number",
        ),
    ],
)
def test_wrong_misconfiguration_fields_name_the_field(tmp_path, misconfigurations, where):
    doc = config_report()
    doc["Results"][0]["Misconfigurations"] = misconfigurations
    assert error(write(tmp_path, doc)) == f"not a valid Trivy report: {where}"
