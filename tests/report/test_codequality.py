"""The GitLab Code Quality report: every entry passes the schema GitLab validates entries with
(gitlabhq's codeclimate.json) and an explicit checker of the fields GitLab processes, which Trivy's
golden also passes; fingerprints are unique and stable, paths repository-relative."""

import json
import re

from testkit.codequality import check_code_quality
from testkit.shared import shared_path

from ci_security.match.runner import fingerprint
from ci_security.models import (
    Decision,
    ImageTarget,
    Location,
    Misconfiguration,
    OSInfo,
    Package,
    ScanResult,
    Severity,
    Suppression,
    Violation,
    Vulnerability,
)
from ci_security.report.base import RenderContext
from ci_security.report.codequality import CodeQualityReporter, repo_path

GOLDEN = ("data", "golden", "trivy_alpine-310.gitlab-codequality.golden.json")  # in ../shared


# ---- Fixtures

LIBSSL = Package(name="libssl3", version="3.0.11-1~deb12u2", type="deb", path="/var/lib/dpkg/status")
ZLIB = Package(name="zlib1g", version="1:1.2.13.dfsg-1", type="deb", path="/var/lib/dpkg/status")
REQUESTS = Package(name="requests", version="2.19.0", type="pypi", path="/app/requirements.txt")


def _vuln(vid, pkg, severity, location=None, **kwargs):
    return Vulnerability(
        id=vid,
        aliases=(),
        package=pkg,
        fixed_version=kwargs.pop("fixed_version", None),
        status="affected",
        severity=severity,
        cvss_score=None,
        severity_source="osv",
        location=location,
        fingerprint=fingerprint(vid, pkg),
        **kwargs,
    )


def _misconf(rule_id, severity, path, line, fp, message="m"):
    return Misconfiguration(
        rule_id=rule_id,
        title=f"title of {rule_id}",
        severity=severity,
        path=path,
        line=line,
        message=message,
        fingerprint=fp,
    )


OPENSSL = _vuln(
    "CVE-2024-0727",
    LIBSSL,
    Severity.MEDIUM,
    Location(path="./Dockerfile", line=1),
    fixed_version="3.0.13-1~deb12u1",
    title="openssl: denial of service",
)
REQUESTS_GHSA = _vuln("GHSA-x84v-xcm2-53pg", REQUESTS, Severity.HIGH, Location(path="/Dockerfile", line=7))
UNANCHORED = _vuln("CVE-2024-2", LIBSSL, Severity.CRITICAL)
SUPPRESSED = _vuln("CVE-2023-45853", ZLIB, Severity.CRITICAL, Location(path="Dockerfile", line=1))
LOW = _vuln("CVE-2024-3", ZLIB, Severity.LOW, Location(path="Dockerfile", line=1))
UNKNOWN = _vuln("CVE-2024-4", LIBSSL, Severity.UNKNOWN, Location(path="Dockerfile", line=0))
ROOT_USER = _misconf("DS002", Severity.HIGH, "Dockerfile", 9, "m-ds002", "Last USER is root")
K8S = _misconf("KSV001", Severity.CRITICAL, "deploy/app.yaml", None, "m-ksv001")
K8S_IGNORED = _misconf("KSV012", Severity.MEDIUM, "deploy/app.yaml", 14, "m-ksv012")
RESULT = ScanResult(
    target=ImageTarget(
        reference="registry.example.com/app:1",
        transport="registry",
        digest="sha256:m",
        image_id="sha256:c",
        platform=None,
        layers=(),
        os=OSInfo(family="debian", version="12.5"),
    ),
    packages=(LIBSSL, ZLIB, REQUESTS),
    vulnerabilities_scanned=True,
    vulnerabilities=(OPENSSL, REQUESTS_GHSA, UNANCHORED, SUPPRESSED, LOW, UNKNOWN),
    misconfigurations=(ROOT_USER, K8S, K8S_IGNORED),
    dockerfile="Dockerfile",
)
DECISION = Decision(
    passed=False,
    violations=(
        Violation(rule="fail_on", message="x", severity=Severity.HIGH, fingerprint=REQUESTS_GHSA.fingerprint),
        Violation(
            rule="fail_on",
            message="x",
            severity=Severity.CRITICAL,
            fingerprint="m-ksv001",
            kind="misconfiguration",
        ),
    ),
    suppressed=(
        Suppression(fingerprint=SUPPRESSED.fingerprint, kind="ignore", reason="not shipped", source="p:1"),
        Suppression(fingerprint="m-ksv012", kind="inline", reason="by design", source="deploy/app.yaml:13"),
    ),
)


def _render(result=RESULT, decision=DECISION):
    text = CodeQualityReporter().render(result, decision, RenderContext())
    return text, json.loads(text)


def _by_check(doc):
    return {e["check_name"]: e for e in doc}


# ---- Tests


def test_checker_accepts_trivys_golden_shape():
    doc = json.loads(shared_path(*GOLDEN).read_text())
    # Trivy's paths are "<image> (<os>)" on line 0: valid Code Quality, but no repository file.
    assert check_code_quality(doc, repository_paths=False) == []
    assert check_code_quality(doc) != []


def test_checker_rejects_what_gitlab_rejects():
    _, doc = _render()
    bad = json.loads(json.dumps(doc))
    del bad[0]["fingerprint"]
    bad[1]["severity"] = "high"
    bad[2]["location"] = {"path": "./Dockerfile"}
    bad[3]["fingerprint"] = bad[4]["fingerprint"]
    errors = check_code_quality(bad)
    for needle in (
        "[0]: schema: 'fingerprint' is a required property",
        "[1].severity",
        "[2].location.path: not repository-relative",
        "[2].location: want lines.begin",
        "fingerprints are not unique",
    ):
        assert any(needle in e for e in errors), (needle, errors)


def test_report_passes_the_checker():
    text, doc = _render()
    assert check_code_quality(doc) == []
    assert not text.startswith("\ufeff") and text.endswith("\n")
    assert text.encode("utf-8").decode("utf-8-sig") == text


def test_shape_matches_trivys_golden():
    _, ours = _render()
    theirs = json.loads(shared_path(*GOLDEN).read_text())
    # Trivy also writes `content` as a plain string (CodeClimate wants an object; GitLab ignores it).
    assert set(ours[0]) == set(theirs[0]) - {"content"}
    assert list(ours[0]["location"]) == list(theirs[0]["location"])
    assert list(ours[0]["location"]["lines"]) == list(theirs[0]["location"]["lines"])


def test_entries_and_decisions():
    _, doc = _render()
    found = _by_check(doc)
    # Unanchored and suppressed findings are left out; misconfigurations are in.
    assert set(found) == {
        "CVE-2024-0727",
        "GHSA-x84v-xcm2-53pg",
        "CVE-2024-3",
        "CVE-2024-4",
        "DS002",
        "KSV001",
    }
    openssl = found["CVE-2024-0727"]
    assert openssl == {
        "type": "issue",
        "check_name": "CVE-2024-0727",
        "categories": ["Security"],
        "description": "CVE-2024-0727 in libssl3 3.0.11-1~deb12u2: openssl: denial of service "
        "(fixed in 3.0.13-1~deb12u1)",
        "fingerprint": openssl["fingerprint"],
        "severity": "minor",
        "location": {"path": "Dockerfile", "lines": {"begin": 1}},
    }
    assert re.fullmatch(r"[0-9a-f]{32}", openssl["fingerprint"])
    assert found["GHSA-x84v-xcm2-53pg"]["location"] == {"path": "Dockerfile", "lines": {"begin": 7}}
    assert found["DS002"]["description"] == "DS002: Last USER is root"
    assert found["DS002"]["location"] == {"path": "Dockerfile", "lines": {"begin": 9}}
    assert found["KSV001"]["location"] == {"path": "deploy/app.yaml", "lines": {"begin": 1}}
    assert found["CVE-2024-4"]["location"]["lines"]["begin"] == 1


def test_severities_follow_trivy_and_violations_are_blockers():
    _, doc = _render()
    severity = {e["check_name"]: e["severity"] for e in doc}
    assert severity == {
        "CVE-2024-0727": "minor",
        "GHSA-x84v-xcm2-53pg": "blocker",  # HIGH, but it fails the build
        "CVE-2024-3": "info",
        "CVE-2024-4": "info",
        "DS002": "major",
        "KSV001": "blocker",
    }
    _, passing = _render(decision=Decision(passed=True))
    assert {e["check_name"]: e["severity"] for e in passing if e["check_name"] in severity} == {
        **severity,
        "GHSA-x84v-xcm2-53pg": "major",
        "KSV001": "critical",
    }
    critical = _vuln("CVE-2024-9", ZLIB, Severity.CRITICAL, Location(path="Dockerfile", line=2))
    _, doc = _render(
        ScanResult(target=None, packages=(), vulnerabilities_scanned=True, vulnerabilities=(critical,)),
        Decision(passed=True),
    )
    assert doc[0]["severity"] == "critical"


def test_fingerprints_unique_and_stable():
    text, doc = _render()
    prints = [e["fingerprint"] for e in doc]
    assert len(prints) == len(set(prints))
    again, _ = _render()
    assert again == text
    # The fingerprint follows the finding, not its line or wording: moving it keeps it.
    moved = _vuln(
        "CVE-2024-0727", LIBSSL, Severity.HIGH, Location(path="Dockerfile", line=3), title="reworded"
    )
    _, doc2 = _render(
        ScanResult(target=None, packages=(), vulnerabilities_scanned=True, vulnerabilities=(moved,)),
        Decision(passed=True),
    )
    assert doc2[0]["fingerprint"] == _by_check(doc)["CVE-2024-0727"]["fingerprint"]


def test_same_fingerprint_twice_still_gives_unique_entries():
    twin = _misconf("DS001", Severity.LOW, "Dockerfile", 2, "same")
    _, doc = _render(
        ScanResult(target=None, packages=(), misconfigurations=(twin, twin)), Decision(passed=True)
    )
    assert len(doc) == 2 and check_code_quality(doc) == []


def test_order_is_by_path_line_check_whatever_the_input_order():
    text, doc = _render()
    keys = [(e["location"]["path"], e["location"]["lines"]["begin"], e["check_name"]) for e in doc]
    assert keys == sorted(keys)
    shuffled = ScanResult(
        target=RESULT.target,
        packages=RESULT.packages,
        vulnerabilities_scanned=True,
        vulnerabilities=tuple(reversed(RESULT.vulnerabilities)),
        misconfigurations=tuple(reversed(RESULT.misconfigurations)),
        dockerfile="Dockerfile",
    )
    assert _render(shuffled)[0] == text


def test_empty_report_is_an_empty_array():
    text, doc = _render(ScanResult(target=None, packages=()), Decision(passed=True))
    assert doc == [] and text == "[]\n"


def test_repo_path():
    assert repo_path("./Dockerfile") == "Dockerfile"
    assert repo_path("/deploy/app.yaml") == "deploy/app.yaml"
    assert repo_path("././a/b") == "a/b"
    assert repo_path(".\\win\\Dockerfile") == "win/Dockerfile"
    assert repo_path(".hidden/Dockerfile") == ".hidden/Dockerfile"
