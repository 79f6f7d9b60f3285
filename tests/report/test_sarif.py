"""SARIF: valid against both schemas GitHub's tooling uses, stable fingerprints and categories, nothing
filtered (suppressions and baseline states instead), GitHub's size limits respected."""

from dataclasses import replace

import pytest
from testkit.findings import deb_vuln
from testkit.sarif import validate

from ci_security.models import (
    Decision,
    ImageTarget,
    Location,
    Misconfiguration,
    Platform,
    ScanResult,
    Severity,
    Suppression,
    Vulnerability,
)
from ci_security.report import sarif as sarif_module
from ci_security.report.base import RenderContext
from ci_security.report.sarif import SarifReporter


def _target(tag: str = "1.0") -> ImageTarget:
    return ImageTarget(
        reference=f"ghcr.io/acme/app:{tag}",
        transport="docker",
        digest="sha256:" + "a" * 64,
        image_id="sha256:" + "b" * 64,
        platform=Platform(os="linux", architecture="amd64"),
        layers=(),
        repo_tags=(f"ghcr.io/acme/app:{tag}",),
    )


def _vuln(
    vid: str, name: str, severity: Severity, score=None, fixed="2.0", location=None, fp=None
) -> Vulnerability:
    vuln = deb_vuln(vid, name, severity, score, fixed, location, fp)
    return replace(vuln, status="fixed")  # these tests pin the status whether or not a fix exists


def test_valid_and_anchored():
    vulns = (
        _vuln("CVE-2024-1", "openssl", Severity.CRITICAL, 9.8, location=Location(path="Dockerfile", line=1)),
        _vuln("CVE-2024-1", "libssl3", Severity.CRITICAL, 9.8, location=Location(path="Dockerfile", line=1)),
        _vuln("CVE-2024-2", "curl", Severity.LOW, location=Location(path="Dockerfile", line=4)),
        _vuln("CVE-2024-3", "zlib", Severity.UNKNOWN, fixed=None),
    )
    misconfig = Misconfiguration(
        rule_id="DF001",
        title="Image runs as root",
        severity=Severity.HIGH,
        path="Dockerfile",
        line=9,
        message="No USER instruction",
        fingerprint="m1",
    )
    result = ScanResult(
        target=_target(),
        packages=(),
        vulnerabilities=vulns,
        vulnerabilities_scanned=True,
        misconfigurations=(misconfig,),
        dockerfile="Dockerfile",
    )
    doc = validate(SarifReporter().render(result, Decision(passed=True), RenderContext()))
    image_run, manifest_run = doc["runs"]
    assert image_run["automationDetails"]["id"] == "ci-security/image/ghcr.io/acme/app/linux-amd64/"
    assert manifest_run["automationDetails"]["id"] == "ci-security/manifests/"
    rules = {r["id"]: r for r in image_run["tool"]["driver"]["rules"]}
    assert list(rules) == ["CVE-2024-1", "CVE-2024-2", "CVE-2024-3"]  # one rule per vulnerability id
    assert rules["CVE-2024-1"]["properties"]["security-severity"] == "9.8"
    assert rules["CVE-2024-2"]["properties"]["security-severity"] == "2.0"  # LOW's midpoint without CVSS
    assert rules["CVE-2024-3"]["properties"]["security-severity"] == "0.0"
    assert "| openssl | 1.0 | 2.0 |" in rules["CVE-2024-1"]["help"]["markdown"]
    assert "| libssl3 | 1.0 | 2.0 |" in rules["CVE-2024-1"]["help"]["markdown"]
    results = image_run["results"]
    assert [r["level"] for r in results] == ["error", "error", "note", "note"]
    loc = results[0]["locations"][0]["physicalLocation"]
    assert loc == {"artifactLocation": {"uri": "Dockerfile"}, "region": {"startLine": 1}}
    unanchored = results[3]["locations"][0]["physicalLocation"]
    assert unanchored == {"artifactLocation": {"uri": "ghcr.io/acme/app"}}  # image name, no region
    assert all(r["partialFingerprints"]["primaryLocationLineHash"].endswith(":1") for r in results)
    assert manifest_run["results"][0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 9}


def test_categories_and_fingerprints_do_not_depend_on_the_tag():
    a = ScanResult(
        target=_target("1.0"),
        packages=(),
        vulnerabilities=(_vuln("CVE-1", "x", Severity.HIGH),),
        vulnerabilities_scanned=True,
    )
    b = ScanResult(
        target=_target("2.0-rc1"),
        packages=(),
        vulnerabilities=(_vuln("CVE-1", "x", Severity.HIGH),),
        vulnerabilities_scanned=True,
    )
    da = validate(SarifReporter().render(a, Decision(passed=True), RenderContext()))
    db = validate(SarifReporter().render(b, Decision(passed=True), RenderContext()))
    assert da["runs"][0]["automationDetails"] == db["runs"][0]["automationDetails"]
    assert (
        da["runs"][0]["results"][0]["partialFingerprints"]
        == db["runs"][0]["results"][0]["partialFingerprints"]
    )


def test_suppressed_findings_stay_with_a_reason_and_baseline_states():
    vulns = (_vuln("CVE-1", "x", Severity.HIGH, fp="f1"), _vuln("CVE-2", "y", Severity.HIGH, fp="f2"))
    decision = Decision(
        passed=True,
        suppressed=(
            Suppression(
                fingerprint="f1",
                kind="ignore",
                reason="not reachable",
                source=".ci-security.yml:7",
                expires="2027-01-31",
            ),
        ),
        new=frozenset({"f2"}),
    )
    result = ScanResult(target=_target(), packages=(), vulnerabilities=vulns, vulnerabilities_scanned=True)
    doc = validate(SarifReporter().render(result, decision, RenderContext()))
    first, second = doc["runs"][0]["results"]
    assert first["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "not reachable (until 2027-01-31) [.ci-security.yml:7]",
        }
    ]
    assert "suppressions" not in second
    assert (first["baselineState"], second["baselineState"]) == ("unchanged", "new")


def test_results_are_capped_most_severe_first(monkeypatch):
    monkeypatch.setattr(sarif_module, "MAX_RESULTS", 10)
    vulns = tuple(
        _vuln(f"CVE-{i:04d}", f"p{i}", Severity.HIGH if i % 3 == 0 else Severity.LOW, fp=f"f{i}")
        for i in range(30)
    )
    result = ScanResult(target=_target(), packages=(), vulnerabilities=vulns, vulnerabilities_scanned=True)
    doc = validate(SarifReporter().render(result, Decision(passed=True), RenderContext()))
    run = doc["runs"][0]
    assert len(run["results"]) == 10 and all(r["level"] == "error" for r in run["results"])
    assert run["properties"]["truncated"]["droppedResults"] == 20


def test_over_the_limit_one_vulnerability_at_one_line_becomes_one_result(monkeypatch):
    monkeypatch.setattr(sarif_module, "MAX_RESULTS", 4)
    at = Location(path="Dockerfile", line=6)
    # one CVE in three packages of one source, all installed by the RUN at line 6
    ssl = ("libssl3", "openssl", "ssl-dev")
    vulns = (
        *(_vuln("CVE-2024-1", n, Severity.CRITICAL, 9.8, location=at) for n in ssl),
        *(_vuln(f"CVE-2024-{i}", f"p{i}", Severity.LOW, location=Location(path="Dockerfile", line=i))
          for i in range(2, 7)),
    )  # fmt: skip
    result = ScanResult(target=_target(), packages=(), vulnerabilities=vulns, vulnerabilities_scanned=True)
    run = validate(SarifReporter().render(result, Decision(passed=True), RenderContext()))["runs"][0]
    merged = [r for r in run["results"] if r["ruleId"] == "CVE-2024-1"]
    (one,) = merged
    assert one["partialFingerprints"]["primaryLocationLineHash"] == "CVE-2024-1-libssl3:1"
    assert "Also affected here: openssl 1.0, ssl-dev 1.0." in one["message"]["text"]
    assert one["properties"]["alsoAffected"] == ["pkg:deb/debian/openssl@1.0", "pkg:deb/debian/ssl-dev@1.0"]
    assert len(run["results"]) == 4
    assert run["properties"]["truncated"]["mergedResults"] == 2
    assert run["properties"]["truncated"]["droppedResults"] == 2  # 6 after merging, 4 kept


def test_under_the_limit_nothing_is_merged():
    at = Location(path="Dockerfile", line=6)
    vulns = tuple(_vuln("CVE-2024-1", n, Severity.CRITICAL, location=at) for n in ("libssl3", "openssl"))
    result = ScanResult(target=_target(), packages=(), vulnerabilities=vulns, vulnerabilities_scanned=True)
    run = validate(SarifReporter().render(result, Decision(passed=True), RenderContext()))["runs"][0]
    assert len(run["results"]) == 2 and "truncated" not in run["properties"]


def test_inventory_only_scan_is_an_empty_valid_run():
    result = ScanResult(target=_target(), packages=())
    doc = validate(SarifReporter().render(result, Decision(passed=True), RenderContext()))
    assert doc["runs"][0]["results"] == []


@pytest.mark.parametrize("reference", ["docker-archive:/tmp/app.tar", "oci:/tmp/layout:v1", "alpine:3.19"])
def test_image_repository_names(reference):
    target = ImageTarget(
        reference=reference, transport="x", digest="sha256:1", image_id="sha256:1", platform=None, layers=()
    )
    assert ":" not in sarif_module.image_repository(ScanResult(target=target, packages=())).split("/")[-1]
