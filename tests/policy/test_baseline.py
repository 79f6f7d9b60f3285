"""Baselines: fingerprints from a previous JSON report, and one-line errors for anything else."""

import json
from pathlib import Path

import pytest

from ci_security.errors import CiSecurityError
from ci_security.models import Decision, Package, ScanResult, Severity, Vulnerability
from ci_security.policy.baseline import load_baseline, parse_baseline
from ci_security.policy.model import PolicyError
from ci_security.report.base import RenderContext
from ci_security.report.json import JsonReporter


def vuln(vuln_id, fingerprint):
    return Vulnerability(
        id=vuln_id,
        aliases=(),
        package=Package(name="urllib3", version="1.24.1", type="pypi", purl="pkg:pypi/urllib3@1.24.1"),
        fixed_version="1.26.17",
        status="fixed",
        severity=Severity.HIGH,
        cvss_score=None,
        severity_source="osv",
        fingerprint=fingerprint,
    )


def test_reads_the_fingerprints_of_our_json_report(tmp_path):
    result = ScanResult(
        target=None,
        packages=(),
        vulnerabilities_scanned=True,
        vulnerabilities=(vuln("CVE-1", "f1"), vuln("CVE-2", "f2")),
    )
    path = tmp_path / "report.json"
    path.write_text(JsonReporter().render(result, Decision(passed=True), RenderContext()))
    assert load_baseline(path) == frozenset({"f1", "f2"})


def test_misconfigurations_count_and_missing_sections_are_empty(tmp_path):
    report = {
        "schema_version": "1",
        "tool": {"name": "ci-security", "version": "0.1.0"},
        "packages": [],
        "misconfigurations": [
            {"rule_id": "DS002", "fingerprint": "m1"},
            {"rule_id": "DS001", "fingerprint": ""},
        ],
    }
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    assert load_baseline(path) == frozenset({"m1"})
    report.pop("misconfigurations")
    assert parse_baseline(report, path) == frozenset()  # an inventory-only scan: nothing to compare


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{",
            "b.json:1:2: invalid JSON: Expecting property name enclosed in double quotes",
        ),
        ("[]", "b.json: not a ci-security JSON report (expected a JSON object)"),
        (
            '{"SchemaVersion": 2, "Results": []}',
            "b.json: not a ci-security JSON report (tool.name is not ci-security)",
        ),
        (
            '{"schema_version": "9", "tool": {"name": "ci-security"}}',
            "b.json: JSON report schema_version '9' is not supported (expected 1)",
        ),
        (
            '{"schema_version": ["1"], "tool": {"name": "ci-security"}}',
            "b.json: JSON report schema_version ['1'] is not supported (expected 1)",
        ),
        (
            '{"schema_version": "1", "tool": "ci-security"}',
            "b.json: not a ci-security JSON report (tool.name is not ci-security)",
        ),
        (
            '{"schema_version": "1", "tool": {"name": "ci-security"}, "vulnerabilities": {}}',
            "b.json: not a ci-security JSON report: vulnerabilities is not a list",
        ),
        (
            '{"schema_version": "1", "tool": {"name": "ci-security"}, "vulnerabilities": [{"id": "CVE-1"}]}',
            "b.json: not a ci-security JSON report: vulnerabilities[0] has no fingerprint",
        ),
    ],
)
def test_malformed_baselines(tmp_path, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.json").write_text(text)
    with pytest.raises(PolicyError) as raised:
        load_baseline(Path("b.json"))
    assert str(raised.value) == message


def test_a_deeply_nested_baseline_names_the_limit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CiSecurityError, match=r"^b.json: exceeds the nesting-depth limit \(200\)"):
        load_baseline(Path("b.json"))


def test_unreadable_baseline(tmp_path):
    with pytest.raises(PolicyError, match=r"missing.json: cannot read the baseline report: No such file"):
        load_baseline(tmp_path / "missing.json")
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_baseline(binary)
