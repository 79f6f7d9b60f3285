"""The GitLab container-scanning report against the 15.x requirements: GitLab's own schema (15.2.4, the
nearest published copy, read from ../shared), an explicit field-by-field checker written from the 15.0.x
requirements, which also accepts Trivy's golden reports (../shared), and the shape of those goldens."""

import base64
import json
import uuid

import jsonschema
import pytest
from testkit.gitlab_report import check_container_scanning_15, gitlab_schema
from testkit.shared import shared_path

from ci_security.match.runner import fingerprint
from ci_security.models import (
    Decision,
    ExpiredIgnore,
    ImageTarget,
    Location,
    MatchDetail,
    Misconfiguration,
    OSInfo,
    Package,
    Platform,
    ScanResult,
    ScanWarning,
    Severity,
    Suppression,
    Violation,
    Vulnerability,
)
from ci_security.report.base import RenderContext
from ci_security.report.gitlab import SCHEMA_URL, GitLabReporter, scan_time

GOLDENS = ["trivy_alpine-310.gitlab.golden.json", "trivy_npm.gitlab.golden.json"]


def trivy_golden(name: str) -> dict:
    """One of Trivy's GitLab golden reports (`shared/data/golden/`, Apache-2.0, Aqua Security)."""
    return json.loads(shared_path("data", "golden", name).read_text())


# ---- Fixtures


def _deb(name, version, source):
    return Package(
        name=name,
        version=version,
        type="deb",
        arch="amd64",
        source_name=source,
        source_version=version,
        path="/var/lib/dpkg/status",
    )


LIBSSL = _deb("libssl3", "3.0.11-1~deb12u2", "openssl")
ZLIB = _deb("zlib1g", "1:1.2.13.dfsg-1", "zlib")
REQUESTS = Package(
    name="requests",
    version="2.19.0",
    type="pypi",
    path="/usr/lib/python3/dist-packages/requests-2.19.0.dist-info/METADATA",
)


def _vuln(vid, pkg, severity, **kwargs):
    return Vulnerability(
        id=vid,
        package=pkg,
        severity=severity,
        cvss_score=kwargs.pop("cvss_score", None),
        severity_source="osv",
        fingerprint=fingerprint(vid, pkg),
        aliases=kwargs.pop("aliases", ()),
        fixed_version=kwargs.pop("fixed_version", None),
        status=kwargs.pop("status", "affected"),
        **kwargs,
    )


OPENSSL_CVE = _vuln(
    "CVE-2024-0727",
    LIBSSL,
    Severity.MEDIUM,
    aliases=("DEBIAN-CVE-2024-0727",),
    fixed_version="3.0.13-1~deb12u1",
    status="fixed",
    title="openssl: denial of service via null dereference",
    description="Processing a maliciously formatted PKCS12 file may lead OpenSSL to crash.",
    references=(
        "https://www.openssl.org/news/secadv/20240125.txt",
        "not a url",
        "https://www.openssl.org/news/secadv/20240125.txt",
        "https://security-tracker.debian.org/tracker/CVE-2024-0727",
    ),
    match=MatchDetail(
        matcher="dpkg", kind="indirect", ecosystem="Debian:12", name="openssl", version="3.0.11-1~deb12u2"
    ),
    location=Location(path="Dockerfile", line=1),
)
REQUESTS_GHSA = _vuln(
    "GHSA-x84v-xcm2-53pg",
    REQUESTS,
    Severity.HIGH,
    aliases=("PYSEC-2018-28", "CVE-2018-18074"),
    fixed_version="2.20.0",
    status="fixed",
    title="Insufficiently Protected Credentials in Requests",
    references=("https://github.com/advisories/GHSA-x84v-xcm2-53pg",),
)
MANY_ALIASES = _vuln(
    "PYSEC-2099-1",
    REQUESTS,
    Severity.UNKNOWN,
    aliases=tuple(f"OSV-2099-{n:02d}" for n in range(30)),
    match=MatchDetail(matcher="python", kind="direct", ecosystem="PyPI", name="requests", version="2.19.0"),
)
ZLIB_CVE = _vuln(
    "CVE-2023-45853",
    ZLIB,
    Severity.CRITICAL,
    title="zlib: integer overflow in MiniZip",
    description="x" * 2_000_000,
    location=Location(path="./Dockerfile", line=1),
)
TARGET = ImageTarget(
    reference="registry.example.com/team/app:1.4.2",
    transport="registry",
    digest="sha256:m",
    image_id="sha256:c",
    platform=Platform(os="linux", architecture="amd64"),
    layers=(),
    os=OSInfo(family="debian", version="12.5"),
    created="2024-03-01T10:11:12.123456789Z",
)
RESULT = ScanResult(
    target=TARGET,
    packages=(LIBSSL, ZLIB, REQUESTS),
    vulnerabilities_scanned=True,
    vulnerabilities=(REQUESTS_GHSA, OPENSSL_CVE, MANY_ALIASES, ZLIB_CVE),
    misconfigurations=(
        Misconfiguration(
            rule_id="DS002",
            title="Image user should not be root",
            severity=Severity.HIGH,
            path="Dockerfile",
            line=9,
            message="Last USER is root",
            fingerprint="m1",
        ),
    ),
    warnings=(ScanWarning(source="catalog/rpm", message="unreadable database", path="/var/lib/rpm"),),
)
DECISION = Decision(
    passed=False,
    violations=(
        Violation(
            rule="fail_on", message="HIGH", severity=Severity.HIGH, fingerprint=REQUESTS_GHSA.fingerprint
        ),
    ),
    suppressed=(
        Suppression(
            fingerprint=ZLIB_CVE.fingerprint,
            kind="ignore",
            reason="MiniZip is not shipped",
            source=".ci-security.yml:7",
            expires="2099-01-01",
        ),
    ),
    expired=(
        ExpiredIgnore(id="CVE-2020-1", expires="2020-01-01", reason="old", source=".ci-security.yml:3"),
    ),
)


def _render(result=RESULT, decision=DECISION):
    text = GitLabReporter().render(result, decision, RenderContext())
    return text, json.loads(text)


def _by_name(doc):
    return {v["name"]: v for v in doc["vulnerabilities"]}


# ---- The checker itself


@pytest.mark.parametrize("golden", GOLDENS)
def test_checker_accepts_trivys_goldens(golden):
    doc = trivy_golden(golden)
    assert check_container_scanning_15(doc) == []
    jsonschema.Draft7Validator(gitlab_schema()).validate(doc)


def test_checker_rejects_what_gitlab_rejects():
    _, doc = _render()
    bad = json.loads(json.dumps(doc))
    bad["scan"]["start_time"] = "2024-03-01T10:11:12Z"
    bad["vulnerabilities"][0]["severity"] = "CRITICAL"
    bad["vulnerabilities"][0]["identifiers"] = []
    bad["vulnerabilities"][1]["cvss_vectors"] = [{"vendor": "x", "vector": "CVSS:3.1/AV:N"}]
    bad["vulnerabilities"][2]["location"].pop("image")
    bad["vulnerabilities"][3]["id"] = bad["vulnerabilities"][0]["id"]
    bad["remediations"] = [{"fixes": [{"id": "nope"}], "summary": "s"}]
    errors = check_container_scanning_15(bad, strict=True)
    for needle in (
        "scan.start_time: does not match",
        "vulnerabilities[0].severity",
        "vulnerabilities[0].identifiers: want 1 to 20",
        "key not in 15.0.x: cvss_vectors",
        "vulnerabilities[2].location: missing image",
        "ids are not unique",
        "remediations[0]: missing diff",
    ):
        assert any(needle in e for e in errors), (needle, errors)


# ---- Our report


def test_report_passes_the_15x_checker_and_gitlabs_schema():
    _, doc = _render()
    assert check_container_scanning_15(doc, strict=True) == []
    jsonschema.Draft7Validator(gitlab_schema()).validate(doc)


def test_empty_and_targetless_reports_are_valid():
    targetless = ScanResult(
        target=None, packages=(REQUESTS,), vulnerabilities_scanned=True, vulnerabilities=(REQUESTS_GHSA,)
    )
    for result in (
        ScanResult(target=None, packages=()),
        ScanResult(target=TARGET, packages=(), vulnerabilities_scanned=True),
        targetless,
    ):
        _, doc = _render(result, Decision(passed=True))
        assert check_container_scanning_15(doc, strict=True) == []
        jsonschema.Draft7Validator(gitlab_schema()).validate(doc)
    _, doc = _render(targetless, Decision(passed=True))
    location = doc["vulnerabilities"][0]["location"]
    assert (location["operating_system"], location["image"]) == ("Unknown", "Unknown")
    assert doc["scan"]["start_time"] == doc["scan"]["end_time"] == "1970-01-01T00:00:00"


def test_shape_matches_trivys_golden():
    _, ours = _render()
    for golden in GOLDENS:
        theirs = trivy_golden(golden)
        # Trivy writes an empty `remediations`; we leave it out (see the module docstring), add `schema`.
        assert set(ours) - {"schema"} == set(theirs) - {"remediations"}
        assert set(ours["scan"]) - {"messages"} == set(theirs["scan"])
        assert set(ours["scan"]["analyzer"]) == set(theirs["scan"]["analyzer"])
        assert set(ours["scan"]["scanner"]) - {"url"} == set(theirs["scan"]["scanner"]) - {"url"}
        their_vuln = theirs["vulnerabilities"][0]
        openssl = _by_name(ours)["CVE-2024-0727 in libssl3"]
        assert list(openssl) == list(their_vuln)
        assert openssl["location"].keys() == their_vuln["location"].keys()
        assert openssl["location"]["dependency"].keys() == their_vuln["location"]["dependency"].keys()
        assert openssl["identifiers"][0].keys() == their_vuln["identifiers"][0].keys()


def test_top_level_and_scan_fields():
    _, doc = _render()
    assert list(doc) == ["version", "schema", "scan", "vulnerabilities"]
    assert doc["version"] == "15.0.7"
    assert doc["schema"] == SCHEMA_URL
    assert SCHEMA_URL.endswith("/-/raw/v15.0.7/dist/container-scanning-report-format.json")
    scan = doc["scan"]
    assert scan["type"] == "container_scanning" and scan["status"] == "success"
    assert scan["start_time"] == scan["end_time"] == "2024-03-01T10:11:12"
    assert scan["analyzer"]["id"] == "ci-security" and scan["analyzer"]["vendor"] == {"name": "ci-security"}
    values = [m["value"] for m in scan["messages"]]
    assert all(m["level"] == "warn" for m in scan["messages"])
    assert any("CVE-2020-1" in v and "expired on 2020-01-01" in v for v in values)
    assert "catalog/rpm: /var/lib/rpm: unreadable database" in values


def test_inventory_only_scan_says_not_checked():
    _, doc = _render(ScanResult(target=TARGET, packages=(LIBSSL,)), Decision(passed=True))
    assert doc["vulnerabilities"] == []
    assert "inventory-only" in doc["scan"]["messages"][0]["value"]


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        ("2021-08-25T14:20:30+02:00", "2021-08-25T12:20:30"),
        ("2023-11-21T05:21:25.128983079Z", "2023-11-21T05:21:25"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00"),
        ("not a time", "1970-01-01T00:00:00"),
        (None, "1970-01-01T00:00:00"),
    ],
)
def test_scan_time(created, expected):
    assert scan_time(created) == expected


def test_vulnerability_fields():
    _, doc = _render()
    openssl = _by_name(doc)["CVE-2024-0727 in libssl3"]
    assert uuid.UUID(openssl["id"]).version == 5
    assert openssl["severity"] == "Medium"
    assert openssl["solution"] == "Upgrade libssl3 to 3.0.13-1\\~deb12u1"  # Markdown: GitLab renders it
    assert openssl["description"].startswith("openssl: denial of service via null dereference\n\nProcessing")
    assert openssl["location"] == {
        "dependency": {"package": {"name": "libssl3"}, "version": "3.0.11-1~deb12u2"},
        "operating_system": "debian 12.5",
        "image": "registry.example.com/team/app:1.4.2",
    }
    assert openssl["identifiers"] == [
        {
            "type": "cve",
            "name": "CVE-2024-0727",
            "value": "CVE-2024-0727",
            "url": "https://nvd.nist.gov/vuln/detail/CVE-2024-0727",
        },
        {
            "type": "debian",
            "name": "DEBIAN-CVE-2024-0727",
            "value": "DEBIAN-CVE-2024-0727",
            "url": "https://osv.dev/vulnerability/DEBIAN-CVE-2024-0727",
        },
    ]
    # Only URLs, each once, in the advisory's order.
    assert openssl["links"] == [
        {"url": "https://www.openssl.org/news/secadv/20240125.txt"},
        {"url": "https://security-tracker.debian.org/tracker/CVE-2024-0727"},
    ]
    assert "flags" not in openssl


def test_identifiers_primary_first_then_cve_ghsa_others_capped_at_20():
    _, doc = _render()
    ghsa = _by_name(doc)["GHSA-x84v-xcm2-53pg in requests"]
    assert [(i["type"], i["value"]) for i in ghsa["identifiers"]] == [
        ("ghsa", "GHSA-x84v-xcm2-53pg"),
        ("cve", "CVE-2018-18074"),
        ("pysec", "PYSEC-2018-28"),
    ]
    assert ghsa["identifiers"][0]["url"] == "https://github.com/advisories/GHSA-x84v-xcm2-53pg"
    many = _by_name(doc)["PYSEC-2099-1 in requests"]
    assert len(many["identifiers"]) == 20
    assert many["identifiers"][0]["value"] == "PYSEC-2099-1"
    assert many["severity"] == "Unknown"
    assert "solution" not in many and "description" not in many and "links" not in many


def test_limits_are_enforced():
    _, doc = _render()
    zlib = _by_name(doc)["CVE-2023-45853 in zlib1g"]
    assert len(zlib["description"]) == 1_048_576
    long_name = _vuln("CVE-2024-1", Package(name="p" * 400, version="1", type="npm"), Severity.LOW)
    _, doc = _render(
        ScanResult(target=TARGET, packages=(), vulnerabilities_scanned=True, vulnerabilities=(long_name,)),
        Decision(passed=True),
    )
    assert len(doc["vulnerabilities"][0]["name"]) == 255
    assert check_container_scanning_15(doc) == []


def test_suppressed_finding_stays_flagged_with_the_policy_reason():
    _, doc = _render()
    zlib = _by_name(doc)["CVE-2023-45853 in zlib1g"]
    assert zlib["flags"] == [
        {
            "type": "flagged-as-likely-false-positive",
            "origin": "ci-security",
            "description": "Accepted by policy (ignore, .ci-security.yml:7): MiniZip is not shipped "
            "(until 2099-01-01)",
        }
    ]


def test_misconfigurations_are_not_in_the_container_scanning_report():
    text, _ = _render()
    assert "DS002" not in text


def test_sorted_deterministic_and_ids_stable():
    text, doc = _render()
    assert [v["severity"] for v in doc["vulnerabilities"]] == ["Critical", "High", "Medium", "Unknown"]
    shuffled = ScanResult(
        target=TARGET,
        packages=RESULT.packages,
        vulnerabilities_scanned=True,
        vulnerabilities=tuple(reversed(RESULT.vulnerabilities)),
        misconfigurations=RESULT.misconfigurations,
        warnings=RESULT.warnings,
    )
    again, _ = _render(shuffled)
    assert again == text
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "https://ci-security.invalid/gitlab/container-scanning")
    expected = {str(uuid.uuid5(namespace, v.fingerprint)) for v in RESULT.vulnerabilities}
    assert {v["id"] for v in doc["vulnerabilities"]} == expected
    assert text.endswith("\n") and not text.startswith("\ufeff")


def test_duplicate_fingerprints_still_get_unique_ids():
    twin = _vuln("CVE-2024-0727", LIBSSL, Severity.MEDIUM)
    result = ScanResult(
        target=TARGET, packages=(), vulnerabilities_scanned=True, vulnerabilities=(twin, twin)
    )
    _, doc = _render(result, Decision(passed=True))
    assert check_container_scanning_15(doc, strict=True) == []


def test_gitlab_schema_is_a_valid_draft7_schema():
    jsonschema.Draft7Validator.check_schema(gitlab_schema())
    assert gitlab_schema()["self"]["version"] == "15.2.4"


def test_a_remediation_needs_a_diff_which_is_why_we_write_none():
    _, doc = _render()
    finding = doc["vulnerabilities"][0]["id"]
    doc["remediations"] = [{"fixes": [{"id": finding}], "summary": "Upgrade zlib1g"}]
    with pytest.raises(jsonschema.ValidationError, match="'diff' is a required property"):
        jsonschema.Draft7Validator(gitlab_schema()).validate(doc)
    doc["remediations"][0]["diff"] = base64.b64encode(b"diff --git a/Dockerfile b/Dockerfile\n").decode()
    jsonschema.Draft7Validator(gitlab_schema()).validate(doc)
    assert check_container_scanning_15(doc, strict=True) == []
