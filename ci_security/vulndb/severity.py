"""How bad an advisory is: every rating its record carries, and the one a finding takes.

`ratings` lists what a record says, per affected package (OSV allows per-package severities), then per
CVE (an Ubuntu notice rates each of its CVEs in `database_specific.cves_map`), then per record, in
this order of evidence:
1. a CVSS vector, scored with the `cvss` library: v3.x first (what GitHub code scanning, NVD and most
   feeds rank by), then v4.0, then v2; the base score maps to a label with the CVSS qualitative scale
   (v2 has no CRITICAL);
2. an Ubuntu priority written as a severity (`severity[].type == "Ubuntu"`);
3. the publisher's own labels (*vendor* ratings), in the places feeds put them:
   - `severity` and `urgency` in `database_specific` / `ecosystem_specific` (GHSA's `MODERATE`,
     Debian's urgency, where `unimportant` is LOW and `not yet assigned` says nothing);
   - Ubuntu's `ecosystem_specific.ubuntu_priority` (`negligible` is LOW);
   - the `Low:` / `Moderate:` / `Important:` / `Critical:` prefix AlmaLinux, Rocky Linux and Photon OS
     summaries carry (Red Hat's scale: Moderate is MEDIUM, Important is HIGH).
`assess` takes the first rating that says something (not UNKNOWN); that is the order the tool has
always used, with the newer vendor fields appended after the older ones. Which source should win
over which (a vendor's LOW against an NVD 9.8, say) is deliberately not decided here: every rating is
kept next to the chosen one (`Vulnerability.severity_sources`), and the vendor's own rating is
reported as such.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ci_security.models import Advisory, Affected, Severity, SeverityRating

_CVSS_ORDER = ("CVSS_V3", "CVSS_V4", "CVSS_V2")
_SUMMARY_PREFIX = re.compile(r"^\s*(Low|Moderate|Important|Critical)\s*:", re.IGNORECASE)
# Words that rate nothing: Debian's placeholder urgencies.
_UNRATED = frozenset({"not yet assigned", "end-of-life", "unknown", "untriaged"})


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


@lru_cache(maxsize=8192)
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


def vendor_label(text: str) -> Severity:
    """A publisher's word for a severity: Debian urgencies (`unimportant`, `low*`), Ubuntu priorities
    (`negligible`), GHSA's `MODERATE`, Red Hat's `Important`; UNKNOWN when it rates nothing.
    """
    value = text.strip().rstrip("*").strip().lower()
    if value in ("unimportant", "negligible"):
        return Severity.LOW
    if value in _UNRATED:
        return Severity.UNKNOWN
    return Severity.parse(value)


def _object(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _cvss(
    vectors: tuple[tuple[str, str], ...], source: str, known: Mapping[str, float] | None = None
) -> list[SeverityRating]:
    """The vector the order picks (v3, then v4, then v2; the first readable one of a kind)."""
    for kind in _CVSS_ORDER:
        for typ, vector in vectors:
            if typ != kind:
                continue
            score = known.get(vector) if known else None
            if score is None:
                score = cvss_score(kind, vector)
            if score is not None:
                return [
                    SeverityRating(
                        kind="cvss",
                        severity=_label(score, kind == "CVSS_V2"),
                        source=f"{source} {kind}",
                        score=score,
                        vector=vector,
                    )
                ]
    return []


def _ubuntu(vectors: tuple[tuple[str, str], ...], source: str) -> list[SeverityRating]:
    return [
        SeverityRating(kind="vendor", severity=vendor_label(value), source=source, label=value)
        for typ, value in vectors
        if typ == "Ubuntu" and isinstance(value, str) and value
    ][:1]


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        (str(item["type"]), str(item["score"]))
        for item in value
        if isinstance(item, dict) and "type" in item and "score" in item
    )


def cves_map(affected: Affected | None) -> dict[str, tuple[tuple[str, str], ...]]:
    """The per-CVE severities of an Ubuntu notice's entry (`database_specific.cves_map.cves`)."""
    if affected is None:
        return {}
    mapping = _object(affected.database_specific).get("cves_map")
    cves = mapping.get("cves") if isinstance(mapping, dict) else None
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    for item in cves if isinstance(cves, list) else ():
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            out[item["id"]] = _pairs(item.get("severity"))
    return out


def _labels(doc: dict[str, Any], keys: tuple[str, ...], source: str) -> list[SeverityRating]:
    out = []
    for key in keys:
        value = doc.get(key)
        if isinstance(value, str) and value.strip():
            where = source if key in ("severity", "urgency") else f"{source}.{key}"
            out.append(SeverityRating(kind="vendor", severity=vendor_label(value), source=where, label=value))
    return out


def ratings(
    advisory: Advisory,
    affected: Affected | None = None,
    cve: str | None = None,
    known: Mapping[str, float] | None = None,
) -> list[SeverityRating]:
    """Every rating the record carries for one affected package (and one of its CVEs, for records
    that rate CVEs one by one), in the order of evidence of the module docstring. `known` holds
    scores already worked out (vector to base score, as stored at import), so a scan need not load
    the CVSS library to say again what the database says.
    """
    out: list[SeverityRating] = []
    ident = advisory.id
    if affected is not None:
        out += [_scoped(r, "package") for r in _cvss(affected.severity, ident, known)]
        out += _ubuntu(affected.severity, f"{ident} Ubuntu priority")
    per_cve = cves_map(affected)
    if cve is None and len(per_cve) == 1:
        cve = next(iter(per_cve))
    if cve is not None and cve in per_cve:
        out += [_scoped(r, f"cves_map {cve}") for r in _cvss(per_cve[cve], ident, known)]
        out += _ubuntu(per_cve[cve], f"{ident} Ubuntu priority (cves_map {cve})")
    out += [_scoped(r, "record") for r in _cvss(advisory.severity, ident, known)]
    out += _ubuntu(advisory.severity, f"{ident} Ubuntu priority")
    if affected is not None:
        out += _labels(
            _object(affected.database_specific), ("severity", "urgency"), f"{ident} database_specific"
        )
        out += _labels(
            _object(affected.ecosystem_specific),
            ("severity", "urgency", "ubuntu_priority"),
            f"{ident} ecosystem_specific",
        )
    out += _labels(_object(advisory.database_specific), ("severity", "urgency"), f"{ident} database_specific")
    prefix = _SUMMARY_PREFIX.match(advisory.summary)
    if prefix:
        word = prefix.group(1)
        out.append(
            SeverityRating(kind="vendor", severity=vendor_label(word), source=f"{ident} summary", label=word)
        )
    return out


def _scoped(rating: SeverityRating, scope: str) -> SeverityRating:
    return SeverityRating(
        kind=rating.kind,
        severity=rating.severity,
        source=f"{rating.source} ({scope})",
        label=rating.label,
        score=rating.score,
        vector=rating.vector,
    )


def pick(found: list[SeverityRating]) -> SeverityInfo:
    """The first rating that says something, as a `SeverityInfo` (UNKNOWN from "none" otherwise)."""
    for rating in found:
        if rating.severity is not Severity.UNKNOWN:
            return SeverityInfo(rating.severity, rating.score, rating.vector, rating.source)
    return SeverityInfo(Severity.UNKNOWN, None, None, "none")


def assess(advisory: Advisory, affected: Affected | None = None, cve: str | None = None) -> SeverityInfo:
    """The severity of `advisory` for one of its affected packages (see the module docstring)."""
    return pick(ratings(advisory, affected, cve))
