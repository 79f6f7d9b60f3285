"""Every report after a dynamic scan: the run, the runtime findings with their evidence, and the
packages in use, said the same way in JSON, SARIF, Markdown, the table, Code Quality and the event
log; and nothing of it without a dynamic scan."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from testkit.findings import deb_vuln
from testkit.sarif import validate

from ci_security.models import (
    IsolationStep,
    Location,
    RuntimeEvent,
    RuntimeFinding,
    SandboxRun,
    ScanResult,
    Severity,
)
from ci_security.policy.evaluate import evaluate
from ci_security.policy.load import parse_policy
from ci_security.report.base import RenderContext
from ci_security.report.registry import REPORTERS

CONNECT = RuntimeEvent(
    time=0.25,
    pid=5,
    ppid=2,
    kind="connect",
    syscall="connect",
    program="/bin/busybox",
    argv=("telnet", "192.0.2.1", "4444"),
    address="192.0.2.1",
    port=4444,
    family="inet",
    result="ENETUNREACH",
)
RUN = SandboxRun(
    command=("/bin/sh", "/app/run.sh"),
    pid=2,
    user="0:0 (root)",
    workdir="/app",
    env_names=("HOME", "PATH"),
    duration_limit=30.0,
    elapsed=0.4,
    end="exited",
    exit_code=0,
    processes=3,
    events=(CONNECT,),
    events_total=1,
    isolation=(IsolationStep(name="network namespace", status="ok", detail="net:[1]"),),
    tracer="strace 6.1 (seccomp-bpf), bubblewrap 0.8.0",
)
FINDING = RuntimeFinding(
    rule_id="RT001",
    title="Outbound connection attempt",
    severity=Severity.HIGH,
    message="telnet (pid 5) tried to connect to 192.0.2.1:4444",
    subject="192.0.2.1:4444",
    evidence=(CONNECT,),
    count=1,
    remediation="Allow it with `runtime.allowed_destinations`.",
    location=Location(path="Dockerfile", line=9),
    fingerprint="f" * 32,
)


def result(dynamic: bool = True) -> ScanResult:
    loaded = deb_vuln("CVE-2026-0001", "libloaded", Severity.HIGH)
    unused = deb_vuln("CVE-2026-0002", "libunused", Severity.LOW)
    loaded = replace(
        loaded, package=replace(loaded.package, in_use=True), location=Location(path="Dockerfile", line=1)
    )
    unused = replace(unused, package=replace(unused.package, in_use=False))
    return ScanResult(
        target=None,
        packages=(loaded.package, unused.package),
        vulnerabilities_scanned=True,
        vulnerabilities=(loaded, unused),
        dockerfile="Dockerfile",
        sandbox=RUN if dynamic else None,
        runtime=(FINDING,) if dynamic else (),
    )


def render(name: str, scan: ScanResult) -> str:
    decision = evaluate(scan, parse_policy("", "p.yml"), today=date(2026, 1, 1))
    return REPORTERS[name].render(scan, decision, RenderContext())


def test_json():
    report = json.loads(render("json", result()))
    assert report["sandbox"]["command"] == ["/bin/sh", "/app/run.sh"]
    assert report["sandbox"]["isolation"] == [
        {"step": "network namespace", "status": "ok", "detail": "net:[1]"}
    ]
    runtime = report["runtime"][0]
    assert (runtime["rule_id"], runtime["location"], runtime["count"]) == (
        "RT001",
        {"path": "Dockerfile", "line": 9},
        1,
    )
    assert runtime["evidence"][0]["address"] == "192.0.2.1" and runtime["evidence"][0]["argv"][0] == "telnet"
    assert [p["in_use"] for p in report["packages"]] == [True, False]
    assert [v["in_use"] for v in report["vulnerabilities"]] == [True, False]
    assert report["in_use_summary"].startswith("1 of 2 vulnerable packages were loaded at start-up")
    assert report["policy"]["violations"][1]["kind"] == "runtime"
    plain = json.loads(render("json", result(dynamic=False)))
    assert not {"sandbox", "runtime", "in_use_summary"} & set(plain)
    assert "in_use" not in plain["packages"][0] and "in_use" not in plain["vulnerabilities"][0]


def test_sarif():
    doc = validate(render("sarif", result()))
    runs = {run["automationDetails"]["id"]: run for run in doc["runs"]}
    runtime = runs["ci-security/runtime/imported/"]
    assert runtime["tool"]["driver"]["rules"][0]["id"] == "RT001"
    located = runtime["results"][0]["locations"][0]["physicalLocation"]
    assert located == {"artifactLocation": {"uri": "Dockerfile"}, "region": {"startLine": 9}}
    assert runtime["results"][0]["properties"]["evidence"][0]["port"] == 4444
    image = runs["ci-security/image/imported/"]
    assert [r["properties"]["inUse"] for r in image["results"]] == [True, False]
    plain = validate(render("sarif", result(dynamic=False)))
    assert all(not run["automationDetails"]["id"].startswith("ci-security/runtime/") for run in plain["runs"])
    assert all("inUse" not in r["properties"] for run in plain["runs"] for r in run["results"])


def test_markdown_table_codequality_and_events():
    markdown = render("markdown", result())
    assert "### Dynamic scan" in markdown
    assert "**1 of 2 vulnerable packages were loaded at start-up" in markdown
    assert (
        "| HIGH | RT001 | telnet (pid 5) tried to connect to 192.0.2.1:4444 | Dockerfile:9 | open |"
        in markdown
    )
    assert "| In use |" in markdown
    assert "Dynamic scan" not in render("markdown", result(dynamic=False))
    quiet = render("markdown", replace(result(), runtime=()))
    assert "No runtime rule fired." in quiet
    table = render("table", result())
    assert "Dynamic scan" in table and "In use" in table and "RT001" in table
    codequality = json.loads(render("codequality", result()))
    assert any(e["check_name"] == "RT001" and e["location"]["lines"]["begin"] == 9 for e in codequality)
    events = render("events", result()).splitlines()
    assert [json.loads(line)["kind"] for line in events] == ["connect"]
    assert render("events", result(dynamic=False)) == ""
