"""Dependency bumps: for each fixable language finding whose package the repository declares, the
smallest version that fixes every finding of that package, written into the manifest in place.

Findings come from two places: the image scan (`PlanOptions.findings`: what the image built from
this repository actually installed), and the manifests themselves, whose exact pins
(`requests==2.19.0`, an exact `package.json` version, every `go.mod` require) are matched against the
vulnerability database as osv-scanner does, so `ci-security fix` works without an image too.

For each package and installed version: the target is the largest of the findings' fixed versions,
then checked against the database (the package at the target must not be affected by any of those
findings; when it is, by a later range of the same advisory, the next fix is taken, a few times at
most). Findings without a fixed version stay, and are counted in `after`. An entry of the
repository's manifests is bumped when it names the package and admits the installed version (a pin
equal to it, or a range containing it): that is the entry that put it there. Every such entry is an
update or a skip with the reason: hash-pinned lines need a re-lock, ranges that cannot be edited in
place are for a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ci_security import limits
from ci_security.fix import manifests
from ci_security.fix.deps.base import EditError, Entry, ManifestFormat
from ci_security.fix.diff import slug, unified_diff
from ci_security.fix.evidence import counts_of
from ci_security.fix.refs import EditError as RefEditError
from ci_security.fix.refs import read_file
from ci_security.models import Package, Vulnerability
from ci_security.models.fix import FixSkip, FixUpdate
from ci_security.models.packagetype import PACKAGE_TYPES

TYPES = {"pypi", "npm", "golang"}
ATTEMPTS = 8  # later ranges of the same advisories tried before giving up on a target


@dataclass(frozen=True, slots=True)
class _Group:
    package_type: str
    key: str
    name: str
    installed: str
    findings: tuple[Vulnerability, ...]


def _key(package_type: str, name: str) -> str:
    from ci_security.fix.deps.pep508 import key

    return key(name) if package_type == "pypi" else name.lower() if package_type == "npm" else name


def _ecosystem(package_type: str) -> str:
    return next(row.ecosystems[0] for row in PACKAGE_TYPES if row.purl_type == package_type)


class _Matcher:
    """The vulnerability database, asked about one package at one version at a time."""

    def __init__(self, db_path: Path | None, severity_source: str) -> None:
        from ci_security.vulndb.store import VulnDB, default_db_path

        self.db = VulnDB(db_path or default_db_path())
        self.severity_source = severity_source

    def close(self) -> None:
        self.db.close()

    def findings(self, packages: Sequence[Package]) -> list[Vulnerability]:
        from ci_security.match.registry import BY_TYPE
        from ci_security.match.runner import match_inventory

        found, _ = match_inventory(packages, None, self.db, BY_TYPE, severity_source=self.severity_source)
        return list(found)

    def at(self, package_type: str, name: str, version: str) -> list[Vulnerability]:
        return self.findings([Package(name=name, version=version, type=package_type)])


def _target(matcher: _Matcher, group: _Group) -> tuple[str | None, list[Vulnerability]]:
    """The smallest version fixing every fixable finding of `group`, and the findings left there."""
    from ci_security.vulndb.versions.base import InvalidVersion
    from ci_security.vulndb.versions.registry import scheme_for

    scheme = scheme_for(_ecosystem(group.package_type))
    fixable = {f.id for f in group.findings if f.fixed_version}
    fixes = [f.fixed_version for f in group.findings if f.fixed_version]
    if not fixes or scheme is None:
        return None, []

    def order(version: str) -> tuple[int, Any]:
        try:
            return (1, scheme.key(version.removeprefix("v") if group.package_type == "golang" else version))
        except InvalidVersion:
            return (0, version)

    target = max(fixes, key=order)
    for _ in range(ATTEMPTS):
        shown = f"v{target.removeprefix('v')}" if group.package_type == "golang" else target
        left = matcher.at(group.package_type, group.name, shown)
        blocking = [f for f in left if f.id in fixable]
        if not blocking:
            return target, left
        later = [f.fixed_version for f in blocking if f.fixed_version]
        if not later:
            return None, left
        target = max(later, key=order)
    return None, []


def _groups(findings: Sequence[Vulnerability]) -> dict[tuple[str, str, str], _Group]:
    by: dict[tuple[str, str, str], list[Vulnerability]] = {}
    names: dict[tuple[str, str, str], str] = {}
    for finding in findings:
        pkg = finding.package
        if pkg.type not in TYPES or not pkg.version:
            continue
        group_key = (pkg.type, _key(pkg.type, pkg.name), pkg.version)
        by.setdefault(group_key, [])
        if all(f.id != finding.id for f in by[group_key]):
            by[group_key].append(finding)
        names.setdefault(group_key, pkg.name)
    return {k: _Group(k[0], k[1], names[k], k[2], tuple(v)) for k, v in by.items()}


def _merged(groups: Sequence[_Group]) -> _Group:
    """One group for several installed versions one declaration allows (an image's 2.22.0 and a pin's
    2.19.0 under `>=2.19,<3`): every finding, and the highest version as the one installed, so the
    new constraint excludes them all.
    """
    if len(groups) == 1:
        return groups[0]
    from ci_security.vulndb.versions.base import InvalidVersion
    from ci_security.vulndb.versions.registry import scheme_for

    first = groups[0]
    scheme = scheme_for(_ecosystem(first.package_type))

    def order(group: _Group) -> tuple[int, Any]:
        try:
            return (1, scheme.key(group.installed.removeprefix("v"))) if scheme else (0, group.installed)
        except InvalidVersion:
            return (0, group.installed)

    highest = max(groups, key=order)
    findings: dict[str, Vulnerability] = {}
    for group in groups:
        for finding in group.findings:
            findings.setdefault(finding.id, finding)
    return _Group(first.package_type, first.key, highest.name, highest.installed, tuple(findings.values()))


def dependency_updates(options: object) -> tuple[list[FixUpdate], list[FixSkip]]:
    """The dependency updates of `options.root` (a `fix.options.PlanOptions`)."""
    from ci_security.fix.deps.registry import FORMATS
    from ci_security.fix.options import BRANCH_PREFIX, PlanOptions

    assert isinstance(options, PlanOptions)
    root = options.root
    cap = limits.active().fix_references
    manifests_found: list[tuple[ManifestFormat, str, str, list[Entry]]] = []
    executable: dict[str, bool] = {}
    skipped: list[FixSkip] = []
    looked = 0
    for path in manifests.files_under(root, root):
        shown = path.relative_to(root).as_posix()
        kind = next((f for f in FORMATS if f.matches(shown)), None)
        if kind is None:
            continue
        try:
            repo_file = read_file(path, shown)
            text = repo_file.text
            executable[shown] = repo_file.executable
            entries = kind.entries(text, shown)
        except (RefEditError, EditError) as exc:
            skipped.append(FixSkip(file=shown, line=1, reason=str(exc)))
            continue
        looked += len(entries)
        if looked > cap:
            skipped.append(
                FixSkip(file=shown, line=1, reason=f"not read: the fix-references limit ({cap}) was reached")
            )
            break
        manifests_found.append((kind, shown, text, entries))
    if not manifests_found:
        return [], skipped
    matcher = _Matcher(options.db_path, options.severity_source)
    try:
        pinned = [
            Package(name=e.name, version=e.pinned, type=kind.package_type)
            for kind, _, _, entries in manifests_found
            for e in entries
            if e.pinned
        ]
        groups = _groups([*options.findings, *matcher.findings(pinned)])
        updates: list[FixUpdate] = []
        for kind, shown, text, entries in manifests_found:
            for package_key in dict.fromkeys(e.key for e in entries):
                declared = [e for e in entries if e.key == package_key]
                # the versions these entries allow that are installed (the image) or pinned here
                found = [
                    g
                    for g in groups.values()
                    if g.package_type == kind.package_type
                    and g.key == package_key
                    and any(kind.admits(e, g.installed) for e in declared)
                ]
                if not found:
                    continue
                group = _merged(found)
                mine = [e for e in declared if any(kind.admits(e, g.installed) for g in found)]
                update, left = _update(matcher, kind, shown, text, mine, group, BRANCH_PREFIX)
                if update is not None:
                    updates.append(replace(update, executable=executable[shown]))
                skipped.extend(
                    FixSkip(file=shown, line=e.line, reason=why, reference=e.name) for e, why in left
                )
    finally:
        matcher.close()
    return updates, skipped


def _update(
    matcher: _Matcher,
    kind: ManifestFormat,
    shown: str,
    text: str,
    entries: Sequence[Entry],
    group: _Group,
    prefix: str,
) -> tuple[FixUpdate | None, list[tuple[Entry, str]]]:
    """One update for every entry of one manifest that declares `group`'s package (several in a
    `pyproject.toml` with PEP 621 and Poetry tables), and the entries that cannot be bumped, why.
    """
    target, left = _target(matcher, group)
    ids = sorted({f.id for f in group.findings})
    if target is None:
        return None, [
            (e, f"{group.name} {group.installed}: no version fixes {', '.join(ids)} yet") for e in entries
        ]
    shown_target = f"v{target.removeprefix('v')}" if group.package_type == "golang" else target
    content = text
    done: list[Entry] = []
    refused: list[tuple[Entry, str]] = []
    for entry in sorted(entries, key=lambda e: e.line, reverse=True):
        try:
            content = kind.bump(content, entry, group.installed, shown_target)
        except EditError as exc:
            refused.append((entry, f"{group.name} {group.installed} → {shown_target}: {exc}"))
        else:
            done.append(entry)
    if not done:
        return None, refused
    first = min(done, key=lambda e: e.line)
    after_entry = next(
        (e for e in kind.entries(content, shown) if e.line == first.line and e.key == first.key), None
    )
    before_ids = {f.id for f in group.findings}
    after_ids = {f.id for f in left}
    update = FixUpdate(
        kind="dependency",
        file=shown,
        line=first.line,
        lines=tuple(sorted(e.line for e in done)),
        current=first.written,
        proposed=after_entry.written if after_entry is not None else f"{first.name} {shown_target}",
        update_type="dependency",
        branch=f"{prefix}deps/{slug(shown)}-{slug(first.name)}",
        title=f"ci-security: update {first.name} from {group.installed} to {shown_target} in {shown}",
        diff=unified_diff(shown, text, content),
        content=content,
        original=text,
        before=counts_of(group.findings),
        after=counts_of(left),
        fixes=tuple(sorted(before_ids - after_ids)),
        introduces=tuple(sorted(after_ids - before_ids)),
        package=first.name,
        package_type=group.package_type,
        installed=group.installed,
        note=kind.after,
    )
    return update, refused
