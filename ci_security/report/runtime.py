"""What every report says about the dynamic scan, worded once: an event and a run as JSON data, the
"packages in use" line, and how a run ended.

Not a reporter: the JSON, SARIF, Markdown, table and events reporters all use it, so the same run
reads the same everywhere.
"""

from __future__ import annotations

from typing import Any

from ci_security.models import RuntimeEvent, RuntimeFinding, SandboxRun, ScanResult


def event_dict(event: RuntimeEvent) -> dict[str, Any]:
    """One event as JSON data (keys in a fixed order; absent values are null)."""
    return {
        "time": round(event.time, 6),
        "pid": event.pid,
        "ppid": event.ppid,
        "kind": event.kind,
        "syscall": event.syscall or None,
        "program": event.program or None,
        "argv": list(event.argv),
        "path": event.path,
        "address": event.address,
        "port": event.port,
        "family": event.family,
        "name": event.name,
        "mode": f"{event.mode:04o}" if event.mode is not None else None,
        "interpreter": event.interpreter,
        "detail": event.detail or None,
        "result": event.result,
    }


def ending(run: SandboxRun) -> str:
    """How the run ended, in words: `exited with code 0 after 0.2 s`, `stopped after 30 s`."""
    if run.end == "duration":
        return f"still running after {run.duration_limit:g} s, stopped"
    if run.end == "trace_limit":
        return f"stopped after {run.elapsed:g} s: the trace reached its size limit"
    how = f"killed by {run.signal}" if run.signal else f"exited with code {run.exit_code}"
    return f"{how} after {run.elapsed:g} s"


def isolation_text(run: SandboxRun) -> str:
    """The isolation in force, in one line: `new user, mount, … namespaces; …`."""
    kinds = [
        s.name.removesuffix(" namespace")
        for s in run.isolation
        if s.name.endswith(" namespace") and s.status == "ok"
    ]
    others = {
        s.name: s.detail for s in run.isolation if not s.name.endswith(" namespace") and s.status == "ok"
    }
    parts = [f"new {', '.join(kinds)} namespaces"] if kinds else []
    if "network" in others:
        parts.append("no network (loopback only)")
    if "filesystem" in others:
        parts.append("the image read-only, no host path")
    if "limits" in others:
        parts.append(f"limits: {others['limits']}")
    if run.tracer:
        parts.append(f"traced by {run.tracer}")
    return "; ".join(parts)


def run_dict(run: SandboxRun) -> dict[str, Any]:
    """The run's summary for the JSON report (the events themselves go to `-o events`)."""
    return {
        "command": list(run.command),
        "user": run.user,
        "workdir": run.workdir,
        "environment": list(run.env_names),
        "duration_limit": run.duration_limit,
        "elapsed": run.elapsed,
        "end": run.end,
        "exit_code": run.exit_code,
        "signal": run.signal,
        "processes": run.processes,
        "alive_at_end": run.alive_at_end,
        "events": run.events_total,
        "events_kept": len(run.events),
        "files_read": len(run.files_read),
        "isolation": [{"step": s.name, "status": s.status, "detail": s.detail} for s in run.isolation],
        "limits": dict(run.limits),
        "tracer": run.tracer,
        "stdout": run.stdout,
        "stderr": run.stderr,
    }


def finding_evidence(finding: RuntimeFinding) -> list[dict[str, Any]]:
    return [event_dict(event) for event in finding.evidence]


def in_use_counts(result: ScanResult) -> tuple[int, int, int] | None:
    """(vulnerable packages, loaded, unknown) after a dynamic run with a vulnerability scan, else None."""
    if result.sandbox is None or not result.vulnerabilities_scanned:
        return None
    packages = {v.package.sort_key(): v.package for v in result.vulnerabilities}
    loaded = sum(1 for p in packages.values() if p.in_use)
    unknown = sum(1 for p in packages.values() if p.in_use is None)
    return len(packages), loaded, unknown


def in_use_line(result: ScanResult) -> str | None:
    """`12 of 40 vulnerable packages were loaded at start-up` (and how many could not be told)."""
    counts = in_use_counts(result)
    if counts is None or result.sandbox is None:
        return None
    total, loaded, unknown = counts
    noun = "package was" if total == 1 else "packages were"
    text = f"{loaded} of {total} vulnerable {noun} loaded at start-up"
    if unknown:
        text += f" ({unknown} could not be told: their files are not known)"
    return text + f"; the evidence of one run of {result.sandbox.elapsed:g} s, not proof"


def in_use_label(value: bool | None) -> str:
    return "yes" if value else ("no" if value is False else "unknown")
