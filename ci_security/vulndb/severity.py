"""How bad an advisory is, worked out once when it is imported (so a scan needs no CVSS maths).

Order of evidence, per affected package (OSV allows per-package severities) then per record:
1. a CVSS vector, scored with the `cvss` library: v3.x first (what GitHub code scanning, NVD and most
   feeds rank by), then v4.0, then v2; the base score maps to a label with the CVSS qualitative scale
   (v2 has no CRITICAL);
2. an Ubuntu priority (`severity[].type == "Ubuntu"`);
3. a feed's own label in `database_specific` / `ecosystem_specific` (`severity`, GHSA's
   `MODERATE`; Debian's `urgency`, where `unimportant` is LOW);
4. otherwise UNKNOWN.
The source says which record and which of these gave the answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ci_security.models import Advisory, Affected, Severity

_CVSS_ORDER = ("CVSS_V3", "CVSS_V4", "CVSS_V2")


@dataclass(frozen=True, slots=True)
class SeverityInfo:
    """A severity label, the CVSS score and vector behind it (if any), and where it came from."""

    severity: Severity
    score: float | None
    vector: str | None
    source: str


def _label(score: float, v2: bool = False) -> Severity:
    if score >= 9.0 and not v2:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    return Severity.LOW


def cvss_score(kind: str, vector: str) -> float | None:
    """Base score of a CVSS vector, or None when the vector cannot be read."""
    from cvss import CVSS2, CVSS3, CVSS4  # only imports need CVSS maths
    from cvss.exceptions import CVSSError

    try:
        if kind == "CVSS_V3":
            return float(CVSS3(vector).scores()[0])
        if kind == "CVSS_V4":
            return float(CVSS4(vector).base_score)
        if kind == "CVSS_V2":
            return float(CVSS2(vector).scores()[0])
    except (CVSSError, ValueError, KeyError, IndexError, TypeError):
        return None
    return None


def _feed_label(text: str | None) -> Severity | None:
    if not text:
        return None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(doc, dict):
        return None
    for key in ("severity", "urgency"):
        value = doc.get(key)
        if isinstance(value, str) and value:
            if value.lower() in ("unimportant", "negligible"):
                return Severity.LOW
            label = Severity.parse(value)
            if label is not Severity.UNKNOWN:
                return label
    return None


def assess(advisory: Advisory, affected: Affected | None = None) -> SeverityInfo:
    """The severity of `advisory` for one of its affected packages (see the module docstring)."""
    for vectors, scope in ((affected.severity if affected else (), "package"), (advisory.severity, "record")):
        for kind in _CVSS_ORDER:
            for typ, vector in vectors:
                if typ != kind:
                    continue
                score = cvss_score(kind, vector)
                if score is not None:
                    return SeverityInfo(
                        _label(score, kind == "CVSS_V2"), score, vector, f"{advisory.id} {kind} ({scope})"
                    )
        for typ, value in vectors:
            if typ == "Ubuntu":
                label = Severity.LOW if value.lower() == "negligible" else Severity.parse(value)
                return SeverityInfo(label, None, None, f"{advisory.id} Ubuntu priority")
    for text, where in (
        (affected.database_specific if affected else None, "database_specific"),
        (affected.ecosystem_specific if affected else None, "ecosystem_specific"),
        (advisory.database_specific, "database_specific"),
    ):
        feed = _feed_label(text)
        if feed is not None:
            return SeverityInfo(feed, None, None, f"{advisory.id} {where}")
    return SeverityInfo(Severity.UNKNOWN, None, None, "none")
