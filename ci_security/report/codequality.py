"""`--output codequality`: a GitLab Code Quality report, the CodeClimate subset GitLab reads.

GitLab validates every entry on its own (description, fingerprint, severity and location are required)
and keys entries by `fingerprint`, which is how it tells new findings from resolved ones, so
fingerprints are unique and stable: a hash of the finding's own fingerprint (vulnerability id, package
and evidence path; or rule and place), not of its text or line. It shows entries in the merge-request
widget on every tier and annotates the diff when `location.path` is a repository file.

Decisions:
- **Severities** follow Trivy: CRITICAL critical, HIGH major, MEDIUM minor, LOW and UNKNOWN info; a
  finding that fails the build (a policy violation) is `blocker` whatever its severity, so the widget
  lists first what blocks the merge.
- **Only findings with a repository location are reported.** Misconfigurations always have one (the
  manifest line); a vulnerability has one when it was anchored to a Dockerfile line, a runtime
  finding (the dynamic scan) when the Dockerfile's ENTRYPOINT or CMD line was found. Vulnerabilities
  without one are left out: a made-up path (Trivy writes "<image> (<os>)") annotates nothing and would
  change with the tag. They are all in the container-scanning report (`--output gitlab`).
- **Suppressed findings are left out.** Code Quality has no way to mark an entry accepted, and an
  accepted finding listed like any other would read as something to fix; the SARIF, JSON and GitLab
  security reports keep them, with the policy's reason.
- Paths are repository-relative (no leading `./` or `/`); a finding without a line is on line 1.
  Entries are sorted by path, line, check and fingerprint; the output has no BOM.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from ci_security.models import Decision, Misconfiguration, RuntimeFinding, ScanResult, Severity, Vulnerability
from ci_security.report.base import RenderContext
from ci_security.sanitize import json_dumps

SEVERITY = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "major",
    Severity.MEDIUM: "minor",
    Severity.LOW: "info",
    Severity.UNKNOWN: "info",
}
BLOCKER = "blocker"


def repo_path(path: str) -> str:
    out = path.strip().replace("\\", "/")
    while out.startswith("./"):
        out = out[2:]
    return out.lstrip("/")


def fingerprint(kind: str, key: str) -> str:
    """A 32-hex-digit fingerprint, the form CodeClimate engines use (an MD5)."""
    return hashlib.md5(f"ci-security:{kind}:{key}".encode(), usedforsecurity=False).hexdigest()


def _entry(
    check_name: str, description: str, severity: str, key: str, path: str, line: int | None
) -> dict[str, Any]:
    return {
        "type": "issue",
        "check_name": check_name,
        "categories": ["Security"],
        "description": description,
        "fingerprint": key,
        "severity": severity,
        "location": {"path": path, "lines": {"begin": line if line and line > 0 else 1}},
    }


def _vulnerability(vuln: Vulnerability, blocking: frozenset[str]) -> dict[str, Any] | None:
    if vuln.location is None:
        return None
    path = repo_path(vuln.location.path)
    if not path:
        return None
    pkg = vuln.package
    text = f"{vuln.id} in {pkg.name} {pkg.version}"
    if vuln.title.strip():
        text += f": {vuln.title.strip()}"
    text += f" (fixed in {vuln.fixed_version})" if vuln.fixed_version else " (no fix available yet)"
    key = vuln.fingerprint or "|".join((vuln.id, pkg.type, pkg.name, pkg.path))
    severity = BLOCKER if vuln.fingerprint and vuln.fingerprint in blocking else SEVERITY[vuln.severity]
    return _entry(vuln.id, text, severity, fingerprint("vulnerability", key), path, vuln.location.line)


def _misconfiguration(item: Misconfiguration, blocking: frozenset[str]) -> dict[str, Any] | None:
    path = repo_path(item.path)
    if not path:
        return None
    text = f"{item.rule_id}: {item.message.strip() or item.title.strip()}"
    key = item.fingerprint or "|".join((item.rule_id, item.path, str(item.line or 0), item.resource))
    severity = BLOCKER if item.fingerprint and item.fingerprint in blocking else SEVERITY[item.severity]
    return _entry(item.rule_id, text, severity, fingerprint("misconfiguration", key), path, item.line)


def _runtime(item: RuntimeFinding, blocking: frozenset[str]) -> dict[str, Any] | None:
    path = repo_path(item.location.path) if item.location else ""
    if not path or item.location is None:
        return None
    text = f"{item.rule_id}: {item.message.strip() or item.title} (when the image ran)"
    severity = BLOCKER if item.fingerprint in blocking else SEVERITY[item.severity]
    return _entry(
        item.rule_id, text, severity, fingerprint("runtime", item.fingerprint), path, item.location.line
    )


def _order(entry: dict[str, Any]) -> tuple[str, int, str, str]:
    location = entry["location"]
    return (location["path"], location["lines"]["begin"], entry["check_name"], entry["fingerprint"])


def report_list(result: ScanResult, decision: Decision) -> list[dict[str, Any]]:
    blocking = frozenset(v.fingerprint for v in decision.violations if v.fingerprint)
    suppressed = frozenset(s.fingerprint for s in decision.suppressed)
    entries = [
        entry
        for vuln in result.vulnerabilities
        if not (vuln.fingerprint and vuln.fingerprint in suppressed)
        and (entry := _vulnerability(vuln, blocking)) is not None
    ]
    entries += [
        entry
        for item in result.misconfigurations
        if not (item.fingerprint and item.fingerprint in suppressed)
        and (entry := _misconfiguration(item, blocking)) is not None
    ]
    entries += [
        entry
        for item in result.runtime
        if item.fingerprint not in suppressed and (entry := _runtime(item, blocking)) is not None
    ]
    entries.sort(key=_order)
    # GitLab keeps one entry per fingerprint; two findings sharing one would silently merge.
    seen: set[str] = set()
    for entry in entries:
        base, n = entry["fingerprint"], 0
        while entry["fingerprint"] in seen:
            n += 1
            entry["fingerprint"] = fingerprint("duplicate", f"{base}#{n}")
        seen.add(entry["fingerprint"])
    return entries


class CodeQualityReporter:
    """See the module docstring."""

    name: ClassVar[str] = "codequality"

    def render(self, result: ScanResult, decision: Decision, context: RenderContext) -> str:
        return json_dumps(report_list(result, decision)) + "\n"
