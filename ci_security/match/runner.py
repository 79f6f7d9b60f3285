"""Run the matchers over an inventory and turn hits into findings.

For each package its matcher's searches are looked up in the database and every candidate entry is
evaluated (`ranges.evaluate`). Hits on the same package are merged when their advisories share an id,
alias or upstream id (a `PYSEC`, its `GHSA` and its `CVE` are one vulnerability): one finding per
vulnerability per package, named by its CVE when it has one (what policies and people search for),
else its GHSA, else the advisory's own id; all other ids become aliases. The finding's fixed version
is the smallest fix above the installed version, its severity the most severe of the merged
advisories (preferring a CVSS-scored one on ties), and its match detail says how it was found.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ci_security.match.base import Matcher, Query
from ci_security.match.ranges import Verdict, evaluate
from ci_security.models import MatchDetail, OSInfo, Package, ScanWarning, Severity, Vulnerability
from ci_security.vulndb.store import Candidate, VulnDB
from ci_security.vulndb.versions.base import InvalidVersion
from ci_security.vulndb.versions.registry import SCHEMES, scheme_for

_MAX_REFERENCES = 20


@dataclass(frozen=True, slots=True)
class Hit:
    """One advisory entry that affects one package."""

    query: Query
    candidate: Candidate
    verdict: Verdict


def fingerprint(vuln_id: str, pkg: Package) -> str:
    """Stable across rebuilds and version bumps that do not fix it: id, package identity, evidence.

    The version is cut out of the evidence path because some ecosystems put it there
    (`requests-2.19.0.dist-info/METADATA`, `lib/foo-1.2.jar`); otherwise a bump that leaves the
    vulnerability in place would look like a new finding to `new_only` and reopen the alert.
    """
    path = pkg.path.replace(pkg.version, "") if pkg.version else pkg.path
    text = "|".join((vuln_id, pkg.type, pkg.name, path))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _primary(ids: Iterable[str]) -> str:
    ordered = sorted(set(ids))
    for prefix in ("CVE-", "GHSA-"):
        for value in ordered:
            if value.startswith(prefix):
                return value
    return ordered[0]


def _smallest_fix(hits: Sequence[Hit]) -> str | None:
    fixes = [(h.candidate.ecosystem, h.verdict.fixed) for h in hits if h.verdict.fixed]
    if not fixes:
        return None
    best: tuple[Any, str] | None = None
    for ecosystem, fixed in fixes:
        scheme = scheme_for(ecosystem)
        assert fixed is not None
        try:
            key = scheme.key(fixed) if scheme is not None else fixed
        except InvalidVersion:
            continue
        try:
            if best is None or key < best[0]:
                best = (key, fixed)
        except TypeError:
            continue
    return best[1] if best else fixes[0][1]


class _Clusters:
    """Union-find over advisory ids and their aliases."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


class MatchRun:
    """Matching of one inventory against one database."""

    def __init__(self, db: VulnDB, matchers: dict[str, Matcher]) -> None:
        self.db = db
        self.matchers = matchers
        self.semver = SCHEMES["semver"]
        self._records: dict[str, dict[str, Any]] = {}

    def _record(self, advisory_id: str) -> dict[str, Any]:
        doc = self._records.get(advisory_id)
        if doc is None:
            doc = self._records[advisory_id] = self.db.record(advisory_id)
        return doc

    def hits(self, pkg: Package, os_info: OSInfo | None) -> list[Hit]:
        matcher = self.matchers.get(pkg.type)
        if matcher is None:
            return []
        found = []
        for query in matcher.queries(pkg, os_info):
            for candidate in self.db.candidates(query.ecosystem, query.name):
                verdict = evaluate(
                    query.version,
                    candidate.ranges,
                    candidate.versions,
                    scheme_for(candidate.ecosystem),
                    self.semver,
                )
                if verdict is not None:
                    found.append(Hit(query, candidate, verdict))
        return found

    def findings(self, pkg: Package, hits: Sequence[Hit], matcher_name: str) -> list[Vulnerability]:
        clusters = _Clusters()
        for hit in hits:
            record = self._record(hit.candidate.advisory_id)
            clusters.find(hit.candidate.advisory_id)
            for alias in list(record.get("aliases") or ()) + list(record.get("upstream") or ()):
                if isinstance(alias, str):
                    clusters.union(hit.candidate.advisory_id, alias)
        groups: dict[str, list[Hit]] = {}
        for hit in hits:
            groups.setdefault(clusters.find(hit.candidate.advisory_id), []).append(hit)
        out = []
        for group in groups.values():
            ids: set[str] = set()
            for hit in group:
                record = self._record(hit.candidate.advisory_id)
                ids.add(hit.candidate.advisory_id)
                ids.update(
                    a
                    for a in list(record.get("aliases") or ()) + list(record.get("upstream") or ())
                    if isinstance(a, str)
                )
            primary = _primary(ids)
            best = max(
                group,
                key=lambda h: (h.candidate.severity.rank, h.candidate.score or -1.0, h.candidate.advisory_id),
            )
            record = self._record(best.candidate.advisory_id)
            references: list[str] = []
            for hit in group:
                for ref in self._record(hit.candidate.advisory_id).get("references") or ():
                    url = ref.get("url") if isinstance(ref, dict) else None
                    if isinstance(url, str) and url not in references:
                        references.append(url)
            published = [
                p
                for p in (self._record(h.candidate.advisory_id).get("published") for h in group)
                if isinstance(p, str)
            ]
            fixed = _smallest_fix(group)
            summary = str(record.get("summary") or "").strip()
            details = str(record.get("details") or "").strip()
            title = summary or (details.splitlines()[0][:160] if details else primary)
            out.append(
                Vulnerability(
                    id=primary,
                    aliases=tuple(sorted(ids - {primary})),
                    package=pkg,
                    fixed_version=fixed,
                    status="fixed" if fixed else "affected",
                    severity=best.candidate.severity,
                    cvss_score=best.candidate.score,
                    cvss_vector=best.candidate.vector,
                    severity_source=best.candidate.severity_source,
                    title=title,
                    description=details,
                    references=tuple(references[:_MAX_REFERENCES]),
                    published=min(published) if published else None,
                    match=MatchDetail(
                        matcher=matcher_name,
                        kind=best.query.kind,
                        ecosystem=best.query.ecosystem,
                        name=best.query.name,
                        version=best.query.version,
                        source=f"osv:{best.candidate.advisory_id}",
                    ),
                    fingerprint=fingerprint(primary, pkg),
                )
            )
        return out


def match_inventory(
    packages: Sequence[Package], os_info: OSInfo | None, db: VulnDB, matchers: dict[str, Matcher]
) -> tuple[tuple[Vulnerability, ...], tuple[ScanWarning, ...]]:
    """All findings for an inventory, sorted most severe first, plus warnings for package sets
    that could not be checked at all.
    """
    run = MatchRun(db, matchers)
    findings: list[Vulnerability] = []
    warnings: dict[str, ScanWarning] = {}
    wanted: dict[str, set[str]] = {}
    checked: list[Package] = []
    for pkg in packages:
        matcher = matchers.get(pkg.type)
        if matcher is None:
            continue
        reason = matcher.unsupported(os_info)
        if reason is not None:
            warnings.setdefault(matcher.name, ScanWarning(source=f"match/{matcher.name}", message=reason))
            continue
        checked.append(pkg)
        for query in matcher.queries(pkg, os_info):
            wanted.setdefault(query.ecosystem, set()).add(query.name)
    for ecosystem, names in wanted.items():
        db.prefetch(ecosystem, names)
    for pkg in checked:
        matcher = matchers[pkg.type]
        hits = run.hits(pkg, os_info)
        if hits:
            findings.extend(run.findings(pkg, hits, matcher.name))
    findings.sort(key=lambda v: v.sort_key())
    return tuple(findings), tuple(warnings.values())


__all__ = ["Hit", "MatchRun", "Severity", "fingerprint", "match_inventory"]
