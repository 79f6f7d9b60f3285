"""How bad a vulnerability is: every rating known for it, and the one a finding takes.

Ratings come from two places, each tagged with who gave it (`SeverityRating.kind`):

- the matched advisory (`ratings`), per affected package (OSV allows per-package severities), then
  per CVE (an Ubuntu notice rates each of its CVEs in `database_specific.cves_map`; Oracle's OVAL
  import does the same), then per record:
  1. CVSS vectors, scored with the `cvss` library: v3.x first (what GitHub code scanning, NVD and most
     feeds rank by), then v4.0, then v2; the base score maps to a label with the CVSS qualitative
     scale (v2 has no CRITICAL). A CVSS vector in an advisory is the advisory's own rating
     ("advisory"), even in a distribution's record (Alpine and Wolfi copy NVD's there);
  2. an Ubuntu priority written as a severity (`severity[].type == "Ubuntu"`): the vendor's;
  3. the publisher's own labels, in the places feeds put them: `severity` and `urgency` in
     `database_specific` / `ecosystem_specific` (Debian's urgency, where `unimportant` is LOW and
     `not yet assigned` says nothing; Amazon's and Oracle's severity; GHSA's `MODERATE`), Ubuntu's
     `ecosystem_specific.ubuntu_priority` (`negligible` is LOW), the `Low:` / `Moderate:` /
     `Important:` / `Critical:` prefix AlmaLinux, Rocky Linux and Photon OS summaries carry, and
     the `classification/#important` reference of Red Hat's records (Red Hat's scale: Moderate is
     MEDIUM, Important is HIGH). In a distribution's ecosystem these are the **vendor** rating;
     in a language ecosystem (GHSA's label) they are the advisory's own;
- the CVE's own data in the database (`cve_ratings`): NVD's analysis ("nvd"), the CNA's CVSS
  ("cna") and CISA's ADP CVSS ("adp"), from NVD's CVE records and, where NVD has none, from CVE JSON
  5 records.

`choose` picks the finding's severity by an order the policy can change (`severity_source`):

- `vendor` (the default, as Trivy does): the distribution's rating when it gives one, else NVD's,
  else the CNA's, else the ADP's, else the advisory's own, else UNKNOWN;
- `nvd`: NVD's, the CNA's or the ADP's CVSS when there is one, else the vendor's, else the
  advisory's;
- `max`: the most severe rating of all.

The first rating of a kind that says something (not UNKNOWN) stands for that kind. Every rating is
kept next to the chosen one (`Vulnerability.severity_sources`), so an `unimportant` Debian urgency
is shown beside NVD's 9.8 whichever wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from ci_security.models import Advisory, Affected, Severity, SeverityRating
from ci_security.models.vulnerability import RatingKind
from ci_security.vulndb.osv import severity_pairs

_CVSS_ORDER = ("CVSS_V3", "CVSS_V4", "CVSS_V2")
_SUMMARY_PREFIX = re.compile(r"^\s*(Low|Moderate|Important|Critical)\s*:", re.IGNORECASE)
_RED_HAT_CLASSIFICATION = re.compile(
    r"^https://access\.redhat\.com/security/updates/classification/#(low|moderate|important|critical)$",
    re.IGNORECASE,
)
# Words that rate nothing: Debian's placeholder urgencies.
_UNRATED = frozenset({"not yet assigned", "end-of-life", "unknown", "untriaged", "none"})
# Ecosystems ordered by these schemes are distributions' (Debian, Ubuntu, Alpine, Wolfi, RPM families).
_DISTRIBUTION_SCHEMES = frozenset({"dpkg", "apk", "rpm"})

SeveritySource = Literal["vendor", "nvd", "max"]
SEVERITY_SOURCES: tuple[SeveritySource, ...] = ("vendor", "nvd", "max")
_ORDERS: dict[str, tuple[str, ...]] = {
    "vendor": ("vendor", "nvd", "cna", "adp", "advisory"),
    "nvd": ("nvd", "cna", "adp", "vendor", "advisory"),
}
_RANKS = {name: {kind: i for i, kind in enumerate(kinds)} for name, kinds in _ORDERS.items()}
_CVE_KINDS: tuple[RatingKind, ...] = ("nvd", "cna", "adp")


@dataclass(frozen=True, slots=True)
class SeverityInfo:
    """A severity label, the CVSS score and vector behind it (if any), and where it came from."""

    severity: Severity
    score: float | None
    vector: str | None
    source: str


@lru_cache(maxsize=1024)
def is_distribution(ecosystem: str) -> bool:
    """Whether `ecosystem` is a distribution's (ordered by dpkg, apk or rpm)."""
    from ci_security.vulndb.versions.registry import scheme_for

    scheme = scheme_for(ecosystem)
    return scheme is not None and scheme.name in _DISTRIBUTION_SCHEMES


def label(score: float, v2: bool = False) -> Severity:
    """The CVSS qualitative rating of a base score (v2 has no CRITICAL)."""
    if score >= 9.0 and not v2:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.UNKNOWN  # 0.0 is CVSS's "None": no rating


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
    from ci_security.vulndb.osv import json_object

    return json_object(text)


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
                        kind="advisory",
                        severity=label(score, kind == "CVSS_V2"),
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


def cves_map(affected: Affected | None) -> dict[str, tuple[tuple[str, str], ...]]:
    """The per-CVE severities of an entry (`database_specific.cves_map.cves`: Ubuntu notices, and the
    OVAL import of Oracle's advisories).
    """
    if affected is None:
        return {}
    mapping = _object(affected.database_specific).get("cves_map")
    cves = mapping.get("cves") if isinstance(mapping, dict) else None
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    for item in cves if isinstance(cves, list) else ():
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            out[item["id"]] = severity_pairs(item.get("severity"))
    return out


def _labels(
    doc: dict[str, Any], keys: tuple[str, ...], source: str, kind: RatingKind
) -> list[SeverityRating]:
    out = []
    for key in keys:
        value = doc.get(key)
        if isinstance(value, str) and value.strip():
            where = source if key in ("severity", "urgency") else f"{source}.{key}"
            out.append(SeverityRating(kind=kind, severity=vendor_label(value), source=where, label=value))
    return out


def ratings(
    advisory: Advisory,
    affected: Affected | None = None,
    cve: str | None = None,
    known: Mapping[str, float] | None = None,
    distribution: bool | None = None,
) -> list[SeverityRating]:
    """Every rating the record carries for one affected package (and one of its CVEs, for records
    that rate CVEs one by one), in the order of evidence of the module docstring. `known` holds
    scores already worked out (vector to base score, as stored at import), so a scan need not load
    the CVSS library to say again what the database says. `distribution` says whether the record's
    labels are a distribution's own (worked out from the entry's ecosystem when None).
    """
    if distribution is None:
        distribution = affected is not None and is_distribution(affected.ecosystem)
    labelled: RatingKind = "vendor" if distribution else "advisory"
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
            _object(affected.database_specific),
            ("severity", "urgency"),
            f"{ident} database_specific",
            labelled,
        )
        out += _labels(
            _object(affected.ecosystem_specific),
            ("severity", "urgency", "ubuntu_priority"),
            f"{ident} ecosystem_specific",
            labelled,
        )
    out += _labels(
        _object(advisory.database_specific), ("severity", "urgency"), f"{ident} database_specific", labelled
    )
    prefix = _SUMMARY_PREFIX.match(advisory.summary)
    if prefix:
        word = prefix.group(1)
        out.append(
            SeverityRating(kind="vendor", severity=vendor_label(word), source=f"{ident} summary", label=word)
        )
    for url in advisory.references:
        found = _RED_HAT_CLASSIFICATION.match(url)
        if found:
            word = found.group(1).title()
            out.append(
                SeverityRating(
                    kind="vendor", severity=vendor_label(word), source=f"{ident} classification", label=word
                )
            )
            break
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


def _info(rating: SeverityRating) -> SeverityInfo:
    return SeverityInfo(rating.severity, rating.score, rating.vector, rating.source)


_NONE = SeverityInfo(Severity.UNKNOWN, None, None, "none")


def first_by_kind(found: Iterable[SeverityRating]) -> dict[str, SeverityRating]:
    """The first rating of each kind that says something (not UNKNOWN)."""
    out: dict[str, SeverityRating] = {}
    for rating in found:
        if rating.severity is not Severity.UNKNOWN and rating.kind not in out:
            out[rating.kind] = rating
    return out


def choose(found: Sequence[SeverityRating], order: str = "vendor") -> SeverityInfo:
    """The severity `order` picks from `found` (see the module docstring)."""
    best = first_by_kind(found)
    if order == "max":
        rated = [r for r in found if r.severity is not Severity.UNKNOWN]
        if not rated:
            return _NONE
        # The most severe; on a tie the one the default order would have taken first.
        rank = {kind: i for i, kind in enumerate(_ORDERS["vendor"])}
        top = max(rated, key=lambda r: (r.severity.rank, -rank.get(r.kind, 99), r.score or -1.0))
        return _info(top)
    for kind in _ORDERS.get(order, _ORDERS["vendor"]):
        if kind in best:
            return _info(best[kind])
    return _NONE


def ordered(found: Sequence[SeverityRating], order: str = "vendor") -> tuple[SeverityRating, ...]:
    """`found` de-duplicated and sorted by kind in the order's sequence (stable within a kind), the
    way reports list a finding's ratings.
    """
    rank = _RANKS.get(order, _RANKS["vendor"])
    return tuple(sorted(dict.fromkeys(found), key=lambda r: rank.get(r.kind, 9)))


def pick(found: list[SeverityRating]) -> SeverityInfo:
    """The severity of an advisory's own ratings in the default order (what import stores)."""
    return choose(found, "vendor")


def assess(advisory: Advisory, affected: Affected | None = None, cve: str | None = None) -> SeverityInfo:
    """The severity of `advisory` for one of its affected packages, from the record alone."""
    return pick(ratings(advisory, affected, cve))


# --- CVE data: NVD's, the CNA's and ADPs' CVSS ---------------------------------------------------

_VERSION_KIND = {"4.0": "CVSS_V4", "3.1": "CVSS_V3", "3.0": "CVSS_V3", "2.0": "CVSS_V2"}
# Within one source: v3.1, then v3.0, then v4.0, then v2 (the order advisories are read in).
_VERSION_RANK = {"3.1": 0, "3.0": 1, "4.0": 2, "2.0": 3}


def cve_ratings(rows: Sequence[Sequence[Any]], cve: str) -> list[SeverityRating]:
    """Ratings from the database's CVE rows `[kind, who, version, vector, score]` (as `nvd` and
    `cve5` store them), best version first within each kind, NVD's feed before CVE 5 records.
    """
    out: list[SeverityRating] = []
    for kind in _CVE_KINDS:
        mine = [r for r in rows if r[0] == kind]
        mine.sort(key=lambda r: _VERSION_RANK.get(str(r[2]), 9))
        for _, who, version, vector, score in mine:
            cvss_kind = _VERSION_KIND.get(str(version), "CVSS")
            out.append(
                SeverityRating(
                    kind=kind,
                    severity=label(float(score), cvss_kind == "CVSS_V2"),
                    source=f"{_WHO[kind]} {cvss_kind} {cve} ({who})",
                    score=float(score),
                    vector=str(vector),
                )
            )
    return out


_WHO = {"nvd": "NVD", "cna": "CNA", "adp": "ADP"}
