"""The policy's `runtime:` section and `fail_on.in_use`: what it means, how a mistake in it is
located (`file:line:col`), and how runtime findings and packages in use are decided."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from ci_security.models import (
    Package,
    RuntimeEvent,
    RuntimeFinding,
    SandboxRun,
    ScanResult,
    Severity,
    Vulnerability,
)
from ci_security.policy.baseline import parse_baseline
from ci_security.policy.evaluate import evaluate
from ci_security.policy.load import check_text, parse_policy
from ci_security.policy.model import PolicyError, parse_duration

TODAY = date(2026, 1, 15)
RUN = SandboxRun(
    command=("/app",),
    pid=2,
    user="0:0",
    workdir="/",
    env_names=(),
    duration_limit=30,
    elapsed=1,
    end="exited",
    exit_code=0,
)


def runtime_finding(rule_id="RT001", severity=Severity.HIGH, path=None):
    event = RuntimeEvent(
        time=0.1, pid=2, ppid=1, kind="file_write", syscall="openat", program="/app", path=path
    )
    return RuntimeFinding(
        rule_id=rule_id,
        title="t",
        severity=severity,
        message=f"{rule_id} happened",
        subject=path or "192.0.2.1:4444",
        evidence=(event,),
        count=1,
        fingerprint=f"fp:{rule_id}:{path}",
    )


def vuln(name: str, in_use: bool | None, severity=Severity.MEDIUM) -> Vulnerability:
    package = Package(name=name, version="1", type="deb", path="/var/lib/dpkg/status", in_use=in_use)
    return Vulnerability(
        id=f"CVE-2026-{name}",
        aliases=(),
        package=package,
        fixed_version="2",
        status="fixed",
        severity=severity,
        cvss_score=None,
        severity_source="osv",
        fingerprint=f"fp:{name}",
    )


def decide(text: str, *, vulns=(), runtime=(), dynamic=True, baseline=None):
    result = ScanResult(
        target=None,
        packages=(),
        vulnerabilities_scanned=True,
        vulnerabilities=tuple(vulns),
        sandbox=RUN if dynamic else None,
        runtime=tuple(runtime),
    )
    return evaluate(result, parse_policy(text, "p.yml"), today=TODAY, baseline=baseline)


def test_the_runtime_section_loads():
    policy = parse_policy(
        "runtime:\n"
        "  duration: 2m\n"
        "  expect: exit\n"
        "  exit_codes: [0, 3]\n"
        "  allowed_destinations: ['10.0.0.0/8:5432', '*.example.com']\n"
        "  enable: [rt011]\n"
        "  disable: [RT002]\n"
        "  severity: {rt004: high}\n",
        "p.yml",
    )
    runtime = policy.runtime
    assert (runtime.duration, runtime.expect, runtime.exit_codes) == (120.0, "exit", (0, 3))
    assert runtime.allowed_destinations == ("10.0.0.0/8:5432", "*.example.com")
    assert runtime.is_disabled("rt002") and runtime.disabled_at("RT002") == "p.yml:7"
    assert runtime.override("RT004") == Severity.HIGH and runtime.enable == ("RT011",)
    assert parse_policy("", "p.yml").runtime.duration == 30.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("runtime:\n  duration: 5x\n", "p.yml:2:13: runtime.duration: '5x': not a duration"),
        ("runtime:\n  duration: 2h\n", "p.yml:2:13: runtime.duration: '2h': must be from 1 second to 1 hour"),
        ("runtime:\n  expect: batch\n", "p.yml:2:11: runtime.expect: unknown value 'batch'"),
        (
            "runtime:\n  expect: exit\n  exit_codes: [0, 300]\n",
            "p.yml:3:19: runtime.exit_codes[1]: 300 is not an exit code",
        ),
        (
            "runtime:\n  allowed_destinations:\n    - 10.0.0.1/8\n",
            "p.yml:3:7: runtime.allowed_destinations[0]: '10.0.0.1/8': 10.0.0.1/8 has host bits set",
        ),
        (
            "runtime:\n  disable: [DF001]\n",
            "p.yml:2:13: runtime.disable[0]: 'DF001' is not a runtime rule id",
        ),
        (
            "runtime:\n  severity: {RTX: high}\n",
            "p.yml:2:14: runtime.severity.RTX: 'RTX' is not a runtime rule id",
        ),
        ("runtime:\n  timeout: 30\n", "p.yml:2:3: runtime: unknown key 'timeout'"),
        ("fail_on:\n  in_use: yes\n", "p.yml:2:11: fail_on.in_use: expected a boolean"),
    ],
)
def test_mistakes_are_located(text, expected):
    problems = [str(p) for p in check_text(text, "p.yml")]
    assert any(p.startswith(expected) for p in problems), problems
    with pytest.raises(PolicyError):
        parse_policy(text, "p.yml")


def test_warnings_that_do_not_stop_a_scan():
    text = "runtime:\n  exit_codes: [1]\n  disable: [RT099]\n"
    problems = check_text(text, "p.yml", known_rules=frozenset({"RT001", "RT009"}))
    shown = [str(p) for p in problems]
    assert "p.yml:2:15: warning: runtime.exit_codes has no effect unless runtime.expect is exit" in shown
    assert any(
        p.startswith("p.yml:3:13: warning: runtime.disable[0]: no runtime rule 'RT099'") for p in shown
    )
    assert not any(p.is_error for p in problems)
    parse_policy(text, "p.yml")


def test_parse_duration():
    assert [parse_duration(v) for v in ("45", 45, "30s", "2m", "1h", "0.5m")] == [45, 45, 30, 120, 3600, 30]
    for bad in ("0", "61m", "-1", "soon"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_runtime_findings_are_decided_like_misconfigurations():
    high, medium = runtime_finding("RT001"), runtime_finding("RT002", Severity.MEDIUM)
    decision = decide("", runtime=[high, medium])
    assert [(v.fingerprint, v.kind) for v in decision.violations] == [(high.fingerprint, "runtime")]
    assert decision.summary.startswith("fail: 1 finding at or above HIGH")
    assert "with a fix" not in decision.summary
    raised = decide("runtime:\n  severity: {RT002: critical}\n", runtime=[medium])
    assert (
        raised.violations[0].severity == Severity.CRITICAL
        and "set by runtime.severity" in raised.violations[0].message
    )
    disabled = decide("runtime:\n  disable: [RT001]\n", runtime=[high])
    assert disabled.passed and disabled.suppressed[0].reason == "disabled by runtime.disable in p.yml"
    assert disabled.suppressed[0].source == "p.yml:2"


def test_ignore_entries_accept_runtime_findings_scoped_by_path():
    write = runtime_finding("RT007", Severity.HIGH, path="/etc/nginx/conf.d/default.conf")
    other = runtime_finding("RT007", Severity.HIGH, path="/etc/passwd")
    text = (
        "ignore:\n  - id: RT007\n    reason: nginx renders its config at start (SEC-12)\n"
        "    expires: 2026-06-30\n    paths: ['etc/nginx/*']\n"
    )
    decision = decide(text, runtime=[write, other])
    assert [s.fingerprint for s in decision.suppressed] == [write.fingerprint]
    assert [v.fingerprint for v in decision.violations] == [other.fingerprint]


def test_in_use_gates_vulnerabilities_after_a_dynamic_run():
    loaded, unused, unknown = vuln("loaded", True), vuln("unused", False), vuln("unknown", None)
    vulns = [replace(v, severity=Severity.HIGH) for v in (loaded, unused, unknown)]
    assert len(decide("", vulns=vulns).violations) == 3
    only_loaded = decide("fail_on:\n  in_use: true\n", vulns=vulns)
    assert sorted(v.fingerprint for v in only_loaded.violations) == ["fp:loaded", "fp:unknown"]
    lower = decide("fail_on:\n  in_use_severity: medium\n", vulns=[loaded, unused])
    assert [v.fingerprint for v in lower.violations] == ["fp:loaded"]  # MEDIUM fails only when loaded
    without_run = decide("fail_on:\n  in_use: true\n  in_use_severity: low\n", vulns=vulns, dynamic=False)
    assert len(without_run.violations) == 3
    assert "fail_on.in_use and in_use_severity ignored" in without_run.summary


def test_baselines_know_runtime_findings():
    report = {"tool": {"name": "ci-security"}, "schema_version": "1", "runtime": [{"fingerprint": "fp:rt"}]}
    baseline = parse_baseline(report, "old.json")  # type: ignore[arg-type]
    assert baseline == frozenset({"fp:rt"})
    finding = runtime_finding()
    decision = decide(
        "fail_on:\n  new_only: true\n", runtime=[finding], baseline=frozenset({finding.fingerprint})
    )
    assert decision.passed
