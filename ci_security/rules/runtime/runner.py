"""Run the runtime rules over one sandbox run and turn their hits into `RuntimeFinding`s.

Each finding gets the rule's title, remediation and references, the hit's severity (or the rule's),
at most `EVIDENCE_KEPT` events as evidence with the number that matched, the repository location
runtime findings point at (the Dockerfile's ENTRYPOINT or CMD line, `anchor.entrypoint_location`),
and a fingerprint of the rule and the subject: the same behaviour of the same image is the same
finding in the next run, whatever the pids and times.

This is the plugin boundary: a rule that raises is reported as a partial-scan warning naming it, and
the other rules' findings stand. Rules off by default (`RuleMeta.default_enabled`) run only when the
policy's `runtime.enable` names them; `runtime.disable` is the policy's business (the findings are
made and reported suppressed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from ci_security.models import Location, RuntimeFinding, ScanWarning
from ci_security.rules.runtime.base import RuntimeContext, RuntimeRule
from ci_security.rules.runtime.registry import RULES


def fingerprint(rule_id: str, subject: str) -> str:
    return hashlib.sha256(f"runtime|{rule_id}|{subject}".encode("utf-8", "surrogateescape")).hexdigest()[:32]


def check_run(
    context: RuntimeContext,
    *,
    location: Location | None = None,
    enable: Sequence[str] = (),
    rules: Sequence[RuntimeRule] = RULES,
) -> tuple[tuple[RuntimeFinding, ...], tuple[ScanWarning, ...]]:
    """The findings of every enabled rule on `context.run`, sorted; and a warning per rule that failed."""
    wanted = {rule_id.upper() for rule_id in enable}
    findings: list[RuntimeFinding] = []
    warnings: list[ScanWarning] = []
    for rule in rules:
        meta = rule.meta
        if not meta.default_enabled and meta.id not in wanted:
            continue
        try:
            hits = list(rule.check(context))
        except Exception as exc:
            warnings.append(
                ScanWarning(
                    source=f"runtime rule {meta.id}",
                    message=f"internal error: {exc.__class__.__name__}: {exc}; its findings are missing",
                )
            )
            continue
        for found in hits:
            findings.append(
                RuntimeFinding(
                    rule_id=meta.id,
                    title=meta.title,
                    severity=found.severity or meta.severity,
                    message=found.message,
                    subject=found.subject,
                    evidence=found.events,
                    count=found.count,
                    remediation=meta.remediation,
                    references=meta.references,
                    location=location,
                    fingerprint=fingerprint(meta.id, found.subject),
                )
            )
    return tuple(sorted(findings, key=RuntimeFinding.sort_key)), tuple(warnings)
