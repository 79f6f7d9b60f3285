"""Markdown summary: verdict, counts and the mermaid chart, blocking findings, the baseline split,
suppressions with reasons and expiry, expired ignores, escaping, and the row cap."""

from dataclasses import replace
from datetime import date

from testkit.findings import deb_vuln

from ci_security.models import (
    ImageTarget,
    Location,
    Misconfiguration,
    OSInfo,
    Platform,
    ScanResult,
    ScanWarning,
    Severity,
    Vulnerability,
)
from ci_security.policy.evaluate import evaluate
from ci_security.policy.load import parse_policy
from ci_security.report import markdown as markdown_module
from ci_security.report.base import RenderContext
from ci_security.report.markdown import MarkdownReporter

TODAY = date(2026, 11, 26)
TARGET = ImageTarget(
    reference="ghcr.io/acme/app:1.0",
    transport="docker",
    digest="sha256:" + "a" * 64,
    image_id="sha256:" + "b" * 64,
    platform=Platform(os="linux", architecture="amd64"),
    layers=(),
    os=OSInfo(family="debian", version="12.5"),
)


def link(vid: str) -> str:
    """How the summary shows the id of a finding from `vuln` (its advisory's reference)."""
    return f"[{vid}](https://example.org/{vid})"


C1, C2, C3 = link("CVE-2024-1"), link("CVE-2024-2"), link("CVE-2024-3")


def vuln(vid: str, name: str, severity: Severity, fixed: str | None = "2.0") -> Vulnerability:
    return deb_vuln(
        vid, name, severity, fixed=fixed, location=Location(path="Dockerfile", line=3), fp=f"fp-{vid}-{name}"
    )


FINDINGS = (
    vuln("CVE-2024-1", "openssl", Severity.CRITICAL),
    vuln("CVE-2024-2", "curl", Severity.HIGH),
    vuln("CVE-2024-3", "zlib", Severity.LOW, fixed=None),
)


def render(result: ScanResult, policy_text: str = "", baseline: frozenset[str] | None = None) -> str:
    policy = parse_policy(policy_text, ".ci-security.yml")
    decision = evaluate(result, policy, today=TODAY, baseline=baseline)
    return MarkdownReporter().render(result, decision, RenderContext())


def result_with(*vulns: Vulnerability, warnings: tuple[ScanWarning, ...] = ()) -> ScanResult:
    return ScanResult(
        target=TARGET,
        packages=tuple(v.package for v in vulns),
        vulnerabilities_scanned=True,
        vulnerabilities=vulns,
        dockerfile="Dockerfile",
        warnings=warnings,
    )


def test_a_failing_scan_leads_with_the_verdict_and_the_blocking_findings():
    text = render(result_with(*FINDINGS))
    assert text.startswith("## ❌ ci-security: failed\n")
    assert "`ghcr.io/acme/app:1.0` · debian 12.5 · 3 packages · findings anchored to `Dockerfile`" in text
    assert "| 1 | 1 | 0 | 1 | 0 | 0 |" in text  # critical, high, medium, low, unknown, suppressed
    chart = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert chart.splitlines() == [
        "pie showData title Findings by severity",
        '    "Critical" : 1',
        '    "High" : 1',
        '    "Low" : 1',
    ]
    blocking = text.split("### Blocking findings", 1)[1].split("<details>", 1)[0]
    assert f"| CRITICAL | {C1} | openssl (deb) | 1.0 | 2.0 | - | - | - | Dockerfile:3 |" in blocking
    assert f"| HIGH | {C2} | curl (deb) | 1.0 | 2.0 | - | - | - | Dockerfile:3 |" in blocking
    assert "CVE-2024-3" not in blocking  # LOW is below the default threshold, but listed below
    assert "<details><summary>All 3 findings</summary>" in text
    assert f"| LOW | {C3} | zlib (deb) | 1.0 | - | - | - | - | Dockerfile:3 | affected |" in text


def test_a_clean_scan_passes_without_chart_or_blocking_table():
    text = render(result_with())
    assert text.startswith("## ✅ ci-security: passed\n")
    assert "mermaid" not in text and "Blocking" not in text and "<details>" not in text


def test_inventory_only_says_vulnerabilities_were_not_checked():
    result = ScanResult(target=TARGET, packages=(), vulnerabilities_scanned=False)
    assert "Vulnerabilities were not checked" in render(result)


def test_suppressions_and_expired_ignores_show_reason_source_and_date():
    policy = """ignore:
  - id: CVE-2024-1
    reason: openssl is only used by the health check
    expires: 2026-12-31
  - id: CVE-2024-2
    reason: curl is removed in the next sprint
    expires: 2026-11-01
"""
    text = render(result_with(*FINDINGS), policy)
    assert "<details><summary>1 suppressed by policy</summary>" in text
    row = "| CVE-2024-1 | openssl is only used by the health check | 2026-12-31 | .ci-security.yml:2 |"
    assert row in text
    expired = text.split("### Expired ignores (no longer suppressing)", 1)[1]
    line = "- `CVE-2024-2` expired on 2026-11-01: curl is removed in the next sprint (.ci-security.yml:5)"
    assert line in expired
    assert f"| HIGH | {C2} |" in text.split("### Blocking findings", 1)[1]
    assert f"| CRITICAL | {C1} | openssl (deb) | 1.0 | 2.0 | - | - | - | Dockerfile:3 | suppressed |" in text


def test_a_baseline_adds_the_new_existing_split_to_every_table():
    text = render(result_with(*FINDINGS), baseline=frozenset({"fp-CVE-2024-1-openssl"}))
    assert "| Critical | High | Medium | Low | Unknown | Suppressed | New |" in text
    assert "| 1 | 1 | 0 | 1 | 0 | 0 | 2 |" in text
    blocking = text.split("### Blocking findings", 1)[1].split("<details>", 1)[0]
    assert (
        "| Severity | Finding | Package / file | Installed | Fixed | Vendor / NVD | KEV | EPSS | Where "
        "| Baseline |" in blocking
    )
    assert (
        f"| CRITICAL | {C1} | openssl (deb) | 1.0 | 2.0 | - | - | - | Dockerfile:3 | existing |" in blocking
    )
    assert f"| HIGH | {C2} | curl (deb) | 1.0 | 2.0 | - | - | - | Dockerfile:3 | new |" in blocking
    assert f"| LOW | {C3} | zlib (deb) | 1.0 | - | - | - | - | Dockerfile:3 | affected | new |" in text


def test_text_from_advisories_and_policies_cannot_break_the_markup():
    hostile = vuln("CVE-2024-9", "a|b", Severity.LOW)
    policy = """ignore:
  - id: CVE-2024-9
    reason: "</details><script>alert(1)</script> | pipes"
    expires: 2026-12-31
"""
    text = render(result_with(hostile, warnings=(ScanWarning(source="s", message="<b>bold</b>"),)), policy)
    assert "<script>" not in text and "</details><script>" not in text
    assert "&lt;/details&gt;&lt;script&gt;alert(1)&lt;/script&gt; \\| pipes" in text
    assert "a\\|b (deb)" in text
    assert "&lt;b&gt;bold&lt;/b&gt;" in text and "<b>" not in text


def test_tables_stop_at_the_row_cap(monkeypatch):
    monkeypatch.setattr(markdown_module, "MAX_ROWS", 5)
    many = tuple(vuln(f"CVE-2024-{i:03d}", f"pkg{i:03d}", Severity.CRITICAL) for i in range(8))
    text = render(result_with(*many))
    blocking = text.split("### Blocking findings", 1)[1].split("<details>", 1)[0]
    assert blocking.count("| CRITICAL |") == 5
    assert "…and 3 more (see the JSON report)." in blocking
    assert text.count("…and 3 more (see the JSON report).") == 2


def test_rendering_is_deterministic():
    result = result_with(*FINDINGS)
    assert render(result) == render(result)


def test_ids_link_to_their_advisory_or_rule():
    real = (
        replace(vuln("CVE-2024-0727", "openssl", Severity.HIGH), references=()),
        replace(vuln("GHSA-c2c2-f3f3-g4g4", "lodash", Severity.HIGH), references=()),
        replace(
            vuln("DSA-5600-1", "curl", Severity.HIGH),
            references=("javascript:alert(1)", "https://security-tracker.debian.org/tracker/DSA-5600-1"),
        ),
        replace(vuln("PYSEC-2024-1", "requests", Severity.HIGH), references=()),
    )
    ours = Misconfiguration(
        rule_id="K8S001",
        title="Privileged",
        severity=Severity.CRITICAL,
        path="k8s/pod.yaml",
        line=11,
        message="container app is privileged",
        fingerprint="m1",
    )
    theirs = replace(
        ours,
        rule_id="DL3008",
        found_by="hadolint",
        references=("https://github.com/hadolint/hadolint/wiki/DL3008",),
        fingerprint="m2",
    )
    result = replace(result_with(*real), misconfigurations=(ours, theirs))
    decision = evaluate(result, parse_policy("", ".ci-security.yml"), today=TODAY)
    context = RenderContext(docs_url="https://docs.example/ci-security/docs")
    text = MarkdownReporter().render(result, decision, context)
    assert "[CVE-2024-0727](https://nvd.nist.gov/vuln/detail/CVE-2024-0727)" in text
    assert "[GHSA-c2c2-f3f3-g4g4](https://github.com/advisories/GHSA-c2c2-f3f3-g4g4)" in text
    assert "[DSA-5600-1](https://security-tracker.debian.org/tracker/DSA-5600-1)" in text
    assert "[PYSEC-2024-1](https://osv.dev/vulnerability/PYSEC-2024-1)" in text
    assert "[K8S001](https://docs.example/ci-security/docs/rules.md#k8s001)" in text
    assert "[DL3008](https://github.com/hadolint/hadolint/wiki/DL3008)" in text
    assert "javascript:" not in text
    plain = MarkdownReporter().render(result, decision, RenderContext())
    assert "| K8S001 |" in plain  # no documentation URL: the id, unlinked


def test_blocking_findings_most_severe_first_with_file_and_line():
    low_first = (vuln("CVE-2024-1", "zlib", Severity.HIGH),)
    pod = Misconfiguration(
        rule_id="K8S001",
        title="Privileged",
        severity=Severity.CRITICAL,
        path="k8s/pod.yaml",
        line=11,
        message="container app is privileged",
        fingerprint="m1",
    )
    result = replace(result_with(*low_first), misconfigurations=(pod,))
    text = render(result)
    blocking = text.split("### Blocking findings", 1)[1].split("<details>", 1)[0]
    rows = [
        line for line in blocking.splitlines() if line.startswith("| CRITICAL") or line.startswith("| HIGH")
    ]
    assert rows[0].startswith(
        "| CRITICAL | K8S001 | container app is privileged | - | - | - | - | - | k8s/pod.yaml:11 |"
    )
    assert rows[1].startswith("| HIGH |")
    everything = text.split("<summary>All 2 findings</summary>", 1)[1]
    assert "| k8s/pod.yaml:11 | open |" in everything
