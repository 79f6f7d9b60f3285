"""Run the matchers over an inventory and turn hits into findings.

For each package its matcher's searches are looked up in the database and every candidate entry is
evaluated (`ranges.evaluate`). Hits on the same package are merged into one finding per
vulnerability per package:

- an advisory stands for the CVE ids it names: in `aliases`, in `upstream`, in ids that embed one
  (`UBUNTU-CVE-2021-3782`, `DEBIAN-CVE-2024-0727`), in an Ubuntu notice's `cves_map`, and in
  `related` when a distribution's advisory names its CVEs nowhere else (AlmaLinux, Rocky Linux,
  Photon OS, Ubuntu notices and old Debian advisories list them only there). Language feeds use
  `related` for other, distinct vulnerabilities (a Go advisory relates the CVEs of neighbouring
  flaws), so there it names nothing;
- an advisory that fixes several CVEs (`ALSA-2024:2433` fixes five) becomes one vulnerability per
  CVE, so each CVE can be ignored or VEX-ed on its own, and the advisory id is an alias of each;
- advisories that share an id, alias, upstream id or CVE (a `PYSEC`, its `GHSA` and its `CVE`; a
  `DSA` and the `DEBIAN-CVE` of the same CVE) are one vulnerability.

A finding is named by its CVE when it has one (what policies and people search for), else its GHSA,
else the advisory's own id; all other ids become aliases. Its fixed version is the smallest fix
above the installed version; its match detail says how it was found. Its severity comes from every
rating known for it (`vulndb.severity`): the merged advisories' own (worked out per CVE where a
record rates CVEs one by one; the most severe advisory's first), and for a CVE the database's NVD,
CNA and ADP CVSS, chosen by the severity order (`severity_source`: the distribution's rating first by
default); all of them are kept in `severity_sources`. A CVE in CISA's KEV catalogue carries its
entry (`kev`), and its EPSS score (`epss`), looked up for all findings at once.

Red Hat, SUSE and openSUSE Leap images are first scoped to their product streams (`distros.scope`:
the image's content sets through Red Hat's repository-to-CPE mapping, SUSE's product ecosystems the
database holds); a Red Hat image searched in its release's default streams instead says so in a
warning.

Nothing that could not be checked passes silently. Each of these is counted and reported in a
partial-scan warning (so `--strict` fails on it) naming the ecosystem and the records:
- packages whose release maps to no ecosystem present in the database (an end-of-life release OSV
  no longer exports, an ecosystem the database was built without);
- packages whose installed version the ecosystem's ordering cannot read, where advisories exist;
- advisory entries for a searched package that cannot be interpreted (no usable range and no
  versions, an `introduced` the ordering cannot read, no ordering for the ecosystem).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ci_security.match import distros
from ci_security.match.base import Matcher, Query
from ci_security.match.ranges import Problem, Verdict, evaluate
from ci_security.models import (
    Advisory,
    Affected,
    MatchDetail,
    OSInfo,
    Package,
    ScanWarning,
    Severity,
    SeverityRating,
    Vulnerability,
)
from ci_security.vulndb.osv import normalize_name, parse_record
from ci_security.vulndb.severity import SeverityInfo, choose, cve_ratings, cves_map, ordered, pick, ratings
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


_CVE = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")
_EMBEDDED_CVE = re.compile(r"(?:^|-)(CVE-[0-9]{4}-[0-9]{4,})$")
_EXAMPLES = 5
# Ecosystems ordered by these schemes are distributions' (Debian, Ubuntu, Alpine, Wolfi, RPM families).
_DISTRIBUTION_SCHEMES = frozenset({"dpkg", "apk", "rpm"})


def embedded_cve(ident: str) -> str | None:
    """The CVE an id names: itself (`CVE-2024-0727`), or the one it ends with (`UBUNTU-CVE-2021-3782`,
    `DEBIAN-CVE-2024-0727`, `ALPINE-CVE-2023-46850`).
    """
    found = _EMBEDDED_CVE.search(ident)
    return found.group(1) if found else None


@dataclass(frozen=True, slots=True)
class Unit:
    """One vulnerability one hit stands for: the advisory whole, or one of the CVEs it fixes.
    `keys` identify the vulnerability (shared keys merge units), `extra` are ids shown as aliases
    only, `cve` is the CVE a split advisory's unit stands for.
    """

    hit: Hit
    keys: frozenset[str]
    extra: frozenset[str]
    cve: str | None
    severity: SeverityInfo
    ratings: tuple[SeverityRating, ...]


def identities(
    advisory: Advisory, entry: Affected | None, distribution: bool = True
) -> list[tuple[frozenset[str], frozenset[str], str | None]]:
    """(keys, extra ids, cve) per vulnerability an advisory stands for (see the module docstring);
    `distribution` says the hit is in a distribution's ecosystem, whose advisories use `related`
    for the CVEs they fix.

    Ids in `aliases` name the same vulnerability, so CVEs found only there never split a record (a
    GHSA that lists two CVE ids for one flaw stays one finding); CVEs from `upstream`, `related` and
    `cves_map` are the several flaws a distribution advisory fixes.
    """
    own = {advisory.id, *advisory.aliases, *advisory.upstream}
    same = {c for c in (embedded_cve(i) for i in (advisory.id, *advisory.aliases)) if c}
    named: dict[str, set[str]] = {}  # CVE -> ids that embed it
    for ident in own:
        cve = embedded_cve(ident)
        if cve:
            named.setdefault(cve, set()).add(ident)
    if distribution and not named:
        for ident in advisory.related:
            cve = embedded_cve(ident)
            if cve:
                named.setdefault(cve, set()).add(ident)
    for cve in cves_map(entry):
        if _CVE.match(cve):
            named.setdefault(cve, set()).add(cve)
    covered = set(named)
    if len(covered) <= 1 or covered <= same:
        # Every id here names the one vulnerability (or none names a CVE at all).
        keys = frozenset(own | covered | {i for ids in named.values() for i in ids})
        return [(keys, frozenset(), next(iter(covered)) if len(covered) == 1 else None)]
    # A CVE-bearing id names that CVE only; ids that name none (the advisory's own, a GHSA) are aliases
    # of every part.
    plain = frozenset(i for i in own if embedded_cve(i) is None)
    return [(frozenset({cve, *ids}), plain, cve) for cve, ids in sorted(named.items())]


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


@dataclass(slots=True)
class _Report:
    """What could not be checked, gathered over one inventory (see the module docstring)."""

    missing: dict[tuple[str, tuple[str, ...]], set[str]] = field(default_factory=dict)
    versions: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    entries: dict[tuple[str, str], dict[tuple[str, str], str]] = field(default_factory=dict)

    def problems(self, matcher: str, query: Query, candidate: Candidate, found: Sequence[Problem]) -> None:
        for problem in found:
            if problem.kind == "version":
                self.versions.setdefault((matcher, query.ecosystem), {})[f"{query.name} {query.version}"] = (
                    problem.detail
                )
            else:
                self._entry(matcher, query.ecosystem, candidate.advisory_id, query.name, problem.detail)

    def _entry(self, matcher: str, ecosystem: str, advisory_id: str, name: str, detail: str) -> None:
        self.entries.setdefault((matcher, ecosystem), {}).setdefault((advisory_id, name), detail)

    def warnings(self) -> list[ScanWarning]:
        out = []
        for (matcher, ecosystems), packages in self.missing.items():
            wanted = " or ".join(ecosystems)
            base = ecosystems[0].split(":", 1)[0]
            hint = f"a database built without {base} has none (`ci-security db update --ecosystem {base}`)"
            if ":" in ecosystems[0]:  # a release-scoped distribution ecosystem
                hint = f"OSV stops publishing end-of-life releases, and {hint}"
            out.append(
                ScanWarning(
                    source=f"match/{matcher}",
                    message=(
                        f"no advisories for {wanted} in the database, so {len(packages)} package(s) were "
                        f"not checked ({_examples(sorted(packages))}); {hint}"
                    ),
                )
            )
        for (matcher, ecosystem), unreadable in self.versions.items():
            listed = [f"{what} ({why})" for what, why in sorted(unreadable.items())]
            out.append(
                ScanWarning(
                    source=f"match/{matcher}",
                    message=(
                        f"{len(unreadable)} package version(s) cannot be ordered, so the ranges of their "
                        f"{ecosystem} advisories were not evaluated: {_examples(listed)}"
                    ),
                )
            )
        for (matcher, ecosystem), entries in self.entries.items():
            listed = [f"{adv} ({name}: {why})" for (adv, name), why in sorted(entries.items())]
            out.append(
                ScanWarning(
                    source=f"match/{matcher}",
                    message=(
                        f"{len(entries)} {ecosystem} advisory entr{'y' if len(entries) == 1 else 'ies'} for "
                        f"packages in the image cannot be interpreted, so those packages were not checked "
                        f"against them: {_examples(listed)}"
                    ),
                )
            )
        return out


def _examples(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_EXAMPLES])
    return f"{shown} and {len(items) - _EXAMPLES} more" if len(items) > _EXAMPLES else shown


class MatchRun:
    """Matching of one inventory against one database."""

    def __init__(self, db: VulnDB, matchers: dict[str, Matcher]) -> None:
        self.db = db
        self.matchers = matchers
        self.semver = SCHEMES["semver"]
        self.report = _Report()
        self._records: dict[str, dict[str, Any]] = {}
        self._advisories: dict[str, Advisory] = {}
        self._parts: dict[
            tuple[str, str, str],
            list[tuple[frozenset[str], frozenset[str], str | None, SeverityInfo, tuple[SeverityRating, ...]]],
        ] = {}

    def _record(self, advisory_id: str) -> dict[str, Any]:
        doc = self._records.get(advisory_id)
        if doc is None:
            doc = self._records[advisory_id] = self.db.record(advisory_id)
        return doc

    def _advisory(self, advisory_id: str) -> Advisory:
        advisory = self._advisories.get(advisory_id)
        if advisory is None:
            advisory = self._advisories[advisory_id] = parse_record(self._record(advisory_id), advisory_id)
        return advisory

    def hits(self, pkg: Package, os_info: OSInfo | None) -> list[Hit]:
        matcher = self.matchers.get(pkg.type)
        if matcher is None:
            return []
        found = []
        for query in matcher.queries(pkg, os_info):
            for candidate in self.db.candidates(query.ecosystem, query.name):
                problems: list[Problem] = []
                verdict = evaluate(
                    query.version,
                    candidate.ranges,
                    candidate.versions,
                    scheme_for(candidate.ecosystem),
                    self.semver,
                    problems,
                )
                if verdict is not None:
                    found.append(Hit(query, candidate, verdict))
                    continue
                if candidate.problem:
                    problems.append(Problem("entry", candidate.problem))
                if problems:
                    self.report.problems(matcher.name, query, candidate, problems)
        return found

    def _entry(self, advisory: Advisory, hit: Hit) -> Affected | None:
        from ci_security.vulndb.store import indexed_names

        name = normalize_name(hit.candidate.ecosystem, hit.query.name)
        same = [a for a in advisory.affected if a.ecosystem == hit.candidate.ecosystem]
        found = next((a for a in same if normalize_name(a.ecosystem, a.name) == name), None)
        if found is None:  # a SUSE binary, indexed under the entry of the source it is built from
            found = next((a for a in same if name in indexed_names(a)), None)
        return found

    def units(self, hits: Sequence[Hit]) -> list[Unit]:
        out: list[Unit] = []
        for hit in hits:
            # What an advisory entry stands for depends on the entry, not on the installed version:
            # worked out once per entry, however many packages (and versions) hit it.
            key = (hit.candidate.advisory_id, hit.candidate.ecosystem, hit.query.name)
            parts = self._parts.get(key)
            if parts is None:
                advisory = self._advisory(hit.candidate.advisory_id)
                entry = self._entry(advisory, hit)
                scheme = scheme_for(hit.candidate.ecosystem)
                distribution = scheme is not None and scheme.name in _DISTRIBUTION_SCHEMES
                parts = []
                for keys, extra, cve in identities(advisory, entry, distribution):
                    candidate = hit.candidate
                    known = (
                        {candidate.vector: candidate.score} if candidate.vector and candidate.score else None
                    )
                    found = ratings(advisory, entry, cve, known, distribution)
                    parts.append((keys, extra, cve, pick(found), tuple(found)))
                self._parts[key] = parts
            out.extend(Unit(hit, *part) for part in parts)
        return out

    def findings(self, pkg: Package, hits: Sequence[Hit], matcher_name: str) -> list[Vulnerability]:
        units = self.units(hits)
        clusters = _Clusters()
        for unit in units:
            first, *rest = sorted(unit.keys)
            clusters.find(first)
            for key in rest:
                clusters.union(first, key)
        groups: dict[str, list[Unit]] = {}
        for unit in units:
            groups.setdefault(clusters.find(min(unit.keys)), []).append(unit)
        out = []
        for group in groups.values():
            ids: set[str] = set()
            for unit in group:
                ids.update(unit.keys, unit.extra)
            primary = _primary(ids)
            best = max(
                group,
                key=lambda u: (
                    u.severity.severity.rank,
                    u.severity.score or -1.0,
                    u.hit.candidate.advisory_id,
                ),
            )
            advisory_ids = sorted({u.hit.candidate.advisory_id for u in group})
            record = self._record(best.hit.candidate.advisory_id)
            references: list[str] = []
            for advisory_id in [best.hit.candidate.advisory_id, *advisory_ids]:
                for ref in self._record(advisory_id).get("references") or ():
                    url = ref.get("url") if isinstance(ref, dict) else None
                    if isinstance(url, str) and url not in references:
                        references.append(url)
            published = [
                p for p in (self._record(a).get("published") for a in advisory_ids) if isinstance(p, str)
            ]
            fixed = _smallest_fix([u.hit for u in group])
            summary = str(record.get("summary") or "").strip()
            details = str(record.get("details") or "").strip()
            title = summary or (details.splitlines()[0][:160] if details else primary)
            sources: dict[SeverityRating, None] = {}  # de-duplicated, the best unit's first
            for unit in sorted(group, key=lambda u: u is not best):
                sources.update(dict.fromkeys(unit.ratings))
            # Provisional: `enrich` joins the CVE's own ratings and chooses by the order, once.
            chosen = best.severity
            out.append(
                Vulnerability(
                    id=primary,
                    aliases=tuple(sorted(ids - {primary})),
                    package=pkg,
                    fixed_version=fixed,
                    status="fixed" if fixed else "affected",
                    severity=chosen.severity,
                    cvss_score=chosen.score,
                    cvss_vector=chosen.vector,
                    severity_source=chosen.source,
                    severity_sources=tuple(sources),
                    title=title,
                    description=details,
                    references=tuple(references[:_MAX_REFERENCES]),
                    published=min(published) if published else None,
                    match=MatchDetail(
                        matcher=matcher_name,
                        kind=best.hit.query.kind,
                        ecosystem=best.hit.query.ecosystem,
                        name=best.hit.query.name,
                        version=best.hit.query.version,
                        source=f"osv:{best.hit.candidate.advisory_id}",
                    ),
                    fingerprint=fingerprint(primary, pkg),
                )
            )
        return out


def enrich(vulns: Sequence[Vulnerability], db: VulnDB, order: str = "vendor") -> list[Vulnerability]:
    """Findings with their CVE's NVD, CNA and ADP ratings joined in, the severity chosen again by
    `order` from everything known, and the CVE's KEV entry and EPSS score (one batched lookup).
    """
    cves = {v.id for v in vulns if _CVE.match(v.id)}
    known = db.cve_data(cves) if cves else {}
    out = []
    for vuln in vulns:
        data = known.get(vuln.id)
        extra = cve_ratings(data.ratings, vuln.id) if data is not None else []
        found = ordered((*vuln.severity_sources, *extra), order)
        chosen = choose(found, order)
        score, vector = chosen.score, chosen.vector
        if score is None:  # a label won: show the CVSS the order would have taken next
            scored = next((r for r in ordered(found, "nvd") if r.score is not None), None)
            score, vector = (scored.score, scored.vector) if scored else (None, None)
        out.append(
            replace(
                vuln,
                severity=chosen.severity,
                cvss_score=score,
                cvss_vector=vector,
                severity_source=chosen.source,
                severity_sources=found,
                kev=data.kev if data is not None else None,
                epss=data.epss if data is not None else None,
            )
        )
    return out


def match_inventory(
    packages: Sequence[Package],
    os_info: OSInfo | None,
    db: VulnDB,
    matchers: dict[str, Matcher],
    *,
    severity_source: str = "vendor",
) -> tuple[tuple[Vulnerability, ...], tuple[ScanWarning, ...]]:
    """All findings for an inventory, sorted most severe first, plus partial-scan warnings for
    everything that could not be checked (see the module docstring).
    """
    run = MatchRun(db, matchers)
    findings: list[Vulnerability] = []
    warnings: dict[str, ScanWarning] = {}
    scoped = distros.scope(os_info, db.ecosystems, db.repository_cpes)
    os_info = scoped.os
    notes = [ScanWarning(source="match/rpm", message=text, partial=False) for text in scoped.warnings]
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
        queries = matcher.queries(pkg, os_info)
        ecosystems = tuple(dict.fromkeys(q.ecosystem for q in queries))
        if ecosystems and not any(db.has_ecosystem(e) for e in ecosystems):
            run.report.missing.setdefault((matcher.name, ecosystems), set()).add(f"{pkg.name} {pkg.version}")
            continue
        checked.append(pkg)
        for query in queries:
            wanted.setdefault(query.ecosystem, set()).add(query.name)
    for ecosystem, names in wanted.items():
        db.prefetch(ecosystem, names)
    for pkg in checked:
        matcher = matchers[pkg.type]
        hits = run.hits(pkg, os_info)
        if hits:
            findings.extend(run.findings(pkg, hits, matcher.name))
    findings = enrich(findings, db, severity_source)
    findings.sort(key=lambda v: v.sort_key())
    if not any(p.type == "rpm" for p in packages):
        notes = []
    found = sorted([*warnings.values(), *run.report.warnings(), *notes], key=lambda w: (w.source, w.message))
    return tuple(findings), tuple(found)


__all__ = [
    "Hit",
    "MatchRun",
    "Severity",
    "Unit",
    "embedded_cve",
    "enrich",
    "fingerprint",
    "identities",
    "match_inventory",
]
