"""`--output sarif`: SARIF 2.1.0 for GitHub code scanning, built with sarif-om.

What GitHub needs and the anchors get wrong (see docs/outputs.md):
- **Runs and categories.** One run per scanned image, one for manifest checks and one for the
  dynamic scan's runtime findings, each with a stable `automationDetails.id`
  (`ci-security/image/<repository>/<platform>/`, `ci-security/runtime/<repository>/<platform>/`,
  without the tag), so alerts are tracked per image and close when a later analysis no longer
  reports them; GitHub rejects two runs of one category in one upload. Runtime results point at the
  Dockerfile's ENTRYPOINT or CMD line and carry their evidence (process, program, arguments, path or
  address, time) as properties; after a dynamic scan every vulnerability result has `inUse`.
- **Rules.** One per vulnerability id (help: a table of every affected package, with the
  distribution's rating, NVD's CVSS, KEV and EPSS), with `security-severity` from the CVSS score that
  decided the severity, else the severity's midpoint (CRITICAL 9.5, HIGH 8.0, MEDIUM 5.5, LOW 2.0;
  UNKNOWN 0.0, GitHub's "none"): a Debian `unimportant` beside NVD's 9.8 is LOW in GitHub too, as it
  is in every other report. `precision` is very-high for a direct match, high through a source
  package or from an imported report; tags say `kev` when CISA lists the CVE as exploited. Results
  carry `kev` (date added, due date) and `epss` (score, percentile) properties.
- **Locations.** Every result's location is a repository path: the Dockerfile line the finding is
  anchored to (the final FROM for base-image packages, the instruction that created the layer
  otherwise), or, without a Dockerfile, the image repository name with no region. The package's path
  inside the image and its layer go into `logicalLocations` and the message.
- **Fingerprints.** `partialFingerprints.primaryLocationLineHash` is the finding's fingerprint (the
  vulnerability id, package type and name, and evidence path): stable across rebuilds, tag changes
  and version bumps that do not fix it, so GitHub keeps one alert.
- **Nothing is filtered.** Suppressed findings stay in the run with a SARIF `suppressions` entry
  carrying the policy's reason (so their alerts close as dismissed rather than vanish), and with a
  baseline each result has `baselineState` new or unchanged.
- **Limits.** GitHub stores only ~5,000 results per run (25,000 is the hard limit) and takes at
  most 10 MB gzipped. Beyond that, findings of one vulnerability at one location are first merged
  into one result (the others are named in its message and `alsoAffected`), then the least severe
  results are dropped; the run's properties say how many of each and why. At most 20 runs per file.
- **Untrusted text.** Descriptions are cleaned of control characters and escape sequences
  (`sanitize.plain`), result messages also escape literal brackets (`sanitize.sarif_message`, so no
  text becomes an embedded link), the help's Markdown escapes every cell (`sanitize.markdown`) and
  links only http(s) references, and the document is written by `sanitize.json_dumps`: valid UTF-8
  whatever the image held.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from ci_security import __version__
from ci_security.models import Decision, Misconfiguration, RuntimeFinding, ScanResult, Severity, Vulnerability
from ci_security.models.packagetype import is_os_type
from ci_security.report.base import RenderContext
from ci_security.report.runtime import ending, event_dict, in_use_line
from ci_security.report.signals import MIDPOINT, cvss_text, epss_text, kev_text, severity_score, vendor_text
from ci_security.sanitize import json_dumps, markdown, markdown_link, plain, safe_url, sarif_message

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RESULTS = 5_000
MAX_GZIP_BYTES = 10 * 1000 * 1000
_TEXT_LIMIT = 1024
_MIDPOINT = MIDPOINT
_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning"}


def _serialize(obj: Any) -> Any:
    """sarif-om objects to SARIF JSON: camelCase names from the schema metadata, and attributes at
    their attrs default left out (sarif-om's sentinels such as ruleIndex -1 would be invalid).
    """
    import attr

    if attr.has(type(obj)):
        out: dict[str, Any] = {}
        for field in attr.fields(type(obj)):
            value = getattr(obj, field.name)
            if value is None or (field.default is not attr.NOTHING and value == field.default):
                continue
            out[field.metadata.get("schema_property_name", field.name)] = _serialize(value)
        return out
    if isinstance(obj, dict):
        return {key: _serialize(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_serialize(value) for value in obj]
    return obj


def _clip(text: str, limit: int = _TEXT_LIMIT, *, multiline: bool = False) -> str:
    """Plain text for a SARIF `text` field: cleaned (see `sanitize.plain`), never empty, at most
    `limit` characters.
    """
    text = plain(text, multiline=multiline).strip() or "-"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _references(urls: Sequence[str], limit: int | None = None) -> str:
    """A Markdown list of the http(s) references among `urls`."""
    safe = [url for url in map(safe_url, urls) if url][:limit]
    return "\n".join(f"- {markdown_link(markdown(url), url)}" for url in safe)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._/-]+", "-", text).strip("-/") or "image"


def image_repository(result: ScanResult) -> str:
    """The image's name without tag or digest: the stable part of its identity."""
    target = result.target
    if target is None:
        return "imported"
    name = target.repo_tags[0] if target.repo_tags else target.reference
    name = name.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    for prefix in ("docker-archive:", "oci-archive:", "oci:", "docker-daemon:", "docker://"):
        name = name.removeprefix(prefix)
    return name


def category(result: ScanResult, kind: str) -> str:
    """The run's `automationDetails.id`: `kind` is "manifests", "image" or "runtime"."""
    if kind == "manifests":
        return "ci-security/manifests/"
    platform = (
        str(result.target.platform).replace("/", "-") if result.target and result.target.platform else ""
    )
    repo = _slug(image_repository(result))
    return f"ci-security/{kind}/{repo}/{platform}/" if platform else f"ci-security/{kind}/{repo}/"


def _state(decision: Decision, fingerprint: str) -> str | None:
    new = decision.is_new(fingerprint)
    return None if new is None else ("new" if new else "unchanged")


def _suppressions(decision: Decision, fingerprint: str) -> list[Any] | None:
    found = decision.suppression_of(fingerprint)
    if found is None:
        return None
    reason = found.reason + (f" (until {found.expires})" if found.expires else "") + f" [{found.source}]"
    # A plain object: sarif-om's Suppression predates SARIF 2.1.0's final `status` property.
    return [{"kind": "external", "status": "accepted", "justification": reason}]


def _location(path: str, line: int | None) -> Any:
    import sarif_om

    region = sarif_om.Region(start_line=line) if line else None
    return sarif_om.Location(
        physical_location=sarif_om.PhysicalLocation(
            artifact_location=sarif_om.ArtifactLocation(uri=path), region=region
        )
    )


def _vulnerability_rule(vid: str, findings: Sequence[Vulnerability]) -> Any:
    import sarif_om

    first = findings[0]
    worst = max(findings, key=lambda v: v.severity.rank).severity
    security_severity = max(severity_score(v) for v in findings)
    direct = all(
        v.match is not None and v.match.kind == "direct" and v.match.source.startswith("osv")
        for v in findings
    )
    rows = "\n".join(
        "| "
        + " | ".join(
            markdown(cell) if cell not in (None, "") else "-"
            for cell in (
                v.package.name,
                v.package.version,
                v.fixed_version,
                v.package.type,
                v.package.path,
                v.package.layer.index if v.package.layer else None,
            )
        )
        + " |"
        for v in findings
    )
    table = "| Package | Installed | Fixed | Type | Path in image | Layer |\n" + "| --- " * 6 + "|\n"
    links = _references(first.references, 10)
    rated = [
        f"{label}: {markdown(text)}"
        for label, text in (
            ("vendor", vendor_text(first)),
            ("CVSS", cvss_text(first)),
            ("CISA KEV since", kev_text(first)),
            ("EPSS", epss_text(first)),
        )
        if text
    ]
    ratings = f"{' · '.join(rated)}\n\n" if rated else ""
    help_markdown = (
        f"**{markdown(vid)}** ({worst.value}): {markdown(first.title)}\n\n{ratings}{table}{rows}\n"
        + (f"\n**References**\n\n{links}\n" if links else "")
    )
    kind = "OsPackageVulnerability" if is_os_type(first.package.type) else "LanguagePackageVulnerability"
    tags = ["security", "vulnerability", worst.value.lower(), *sorted({v.package.type for v in findings})]
    if any(v.kev is not None for v in findings):
        tags.append("kev")
    return sarif_om.ReportingDescriptor(
        id=vid,
        name=kind,
        short_description=sarif_om.MultiformatMessageString(text=_clip(f"{vid}: {first.title}")),
        full_description=sarif_om.MultiformatMessageString(
            text=_clip(first.description or first.title, multiline=True)
        ),
        help=sarif_om.MultiformatMessageString(
            text=_clip(
                f"{vid} ({worst.value}) affects {', '.join(sorted({v.package.name for v in findings}))}", 4000
            ),
            markdown=help_markdown,
        ),
        help_uri=next((url for url in map(safe_url, first.references) if url), None),
        default_configuration=sarif_om.ReportingConfiguration(level=_LEVEL.get(worst, "note")),
        properties={
            "security-severity": f"{security_severity:.1f}",
            "precision": "very-high" if direct else "high",
            "tags": tags,
        },
    )


def _vulnerability_result(
    vuln: Vulnerability,
    rule_index: int,
    result: ScanResult,
    decision: Decision,
    also: Sequence[Vulnerability] = (),
) -> Any:
    import sarif_om

    pkg = vuln.package
    layer = f", layer {pkg.layer.index}" if pkg.layer else ""
    fix = f"; fixed in {vuln.fixed_version}" if vuln.fixed_version else "; no fix available yet"
    image = image_repository(result)
    others = ", ".join(f"{v.package.name} {v.package.version}" for v in also)
    message = (
        f"{pkg.name} {pkg.version} ({pkg.type}{layer}) in image {image} is affected by "
        f"{vuln.id} ({vuln.severity.value}){fix}." + (f" Also affected here: {others}." if others else "")
    )
    location = _location(vuln.location.path, vuln.location.line) if vuln.location else _location(image, None)
    logical = sarif_om.LogicalLocation(
        name=pkg.path or pkg.name,
        fully_qualified_name=f"{image}@{pkg.layer.diff_id if pkg.layer else '?'}:{pkg.path or pkg.name}",
        kind="package",
    )
    location.logical_locations = [logical]
    return sarif_om.Result(
        rule_id=vuln.id,
        rule_index=rule_index,
        level=_LEVEL.get(vuln.severity, "note"),
        message=sarif_om.Message(text=sarif_message(message)),
        locations=[location],
        partial_fingerprints={"primaryLocationLineHash": f"{vuln.fingerprint}:1"},
        suppressions=_suppressions(decision, vuln.fingerprint),
        baseline_state=_state(decision, vuln.fingerprint),
        properties={
            "package": pkg.name,
            "installedVersion": pkg.version,
            "fixedVersion": vuln.fixed_version,
            "packageType": pkg.type,
            "purl": pkg.purl,
            "status": vuln.status,
            "aliases": list(vuln.aliases),
            **(
                {"vendorSeverity": {"label": vendor.label, "source": vendor.source}}
                if (vendor := vuln.vendor_severity)
                else {}
            ),
            **({"alsoAffected": [v.package.purl or v.package.name for v in also]} if also else {}),
            **(
                {"kev": {"dateAdded": vuln.kev.date_added, "dueDate": vuln.kev.due_date}}
                if vuln.kev is not None
                else {}
            ),
            **(
                {"epss": {"score": vuln.epss.score, "percentile": vuln.epss.percentile}}
                if vuln.epss is not None
                else {}
            ),
            **({"inUse": pkg.in_use} if result.sandbox is not None else {}),
        },
    )


def _own(item: Misconfiguration, text: str) -> str:
    """A rule's title or remediation as Markdown: ours is written in Markdown (code spans), another
    tool's (an imported report) is untrusted text and escaped.
    """
    return text if item.found_by == "ci-security" else markdown(text, multiline=True)


def _rule(
    rule_id: str,
    title: str,
    description: str,
    help_markdown: str,
    remediation: str,
    references: Sequence[str],
    worst: Severity,
    kind: str,
) -> Any:
    """A rule of ours (manifest or runtime), or an imported tool's: `title` and `help_markdown` are
    Markdown the caller made safe.
    """
    import sarif_om

    links = _references(references)
    return sarif_om.ReportingDescriptor(
        id=rule_id,
        name=re.sub(r"[^A-Za-z0-9]+", "", title.title()) or rule_id,
        short_description=sarif_om.MultiformatMessageString(text=_clip(title)),
        full_description=sarif_om.MultiformatMessageString(text=_clip(description, multiline=True)),
        help=sarif_om.MultiformatMessageString(
            text=_clip(remediation or title, 4000, multiline=True),
            markdown=f"**{markdown(rule_id)}** ({worst.value}): {help_markdown}\n"
            + (f"\n{links}\n" if links else ""),
        ),
        default_configuration=sarif_om.ReportingConfiguration(level=_LEVEL.get(worst, "note")),
        properties={
            "security-severity": f"{_MIDPOINT[worst]:.1f}",
            "precision": "very-high" if kind == "misconfiguration" else "high",
            "tags": ["security", kind, worst.value.lower()],
        },
    )


def _misconfiguration_rule(rule_id: str, findings: Sequence[Misconfiguration]) -> Any:
    first = findings[0]
    worst = max(findings, key=lambda m: m.severity.rank).severity
    body = f"{_own(first, first.title)}\n\n{_own(first, first.remediation)}"
    return _rule(
        rule_id,
        first.title,
        first.message,
        body,
        first.remediation,
        first.references,
        worst,
        "misconfiguration",
    )


def _misconfiguration_result(item: Misconfiguration, rule_index: int, decision: Decision) -> Any:
    import sarif_om

    return sarif_om.Result(
        rule_id=item.rule_id,
        rule_index=rule_index,
        level=_LEVEL.get(item.severity, "note"),
        message=sarif_om.Message(text=sarif_message(_clip(item.message, 4000, multiline=True))),
        locations=[_location(item.path, item.line)],
        partial_fingerprints={"primaryLocationLineHash": f"{item.fingerprint}:1"},
        suppressions=_suppressions(decision, item.fingerprint),
        baseline_state=_state(decision, item.fingerprint),
        # `folded`: the rules whose findings on this resource this one covers (rules.fold).
        properties={"resource": item.resource, "foundBy": item.found_by}
        | ({"folded": list(item.folded)} if item.folded else {}),
    )


def _runtime_rule(rule_id: str, findings: Sequence[RuntimeFinding]) -> Any:
    first = findings[0]
    worst = max(findings, key=lambda f: f.severity.rank).severity
    body = f"{first.title}\n\n{first.remediation}"
    return _rule(
        rule_id, first.title, first.title, body, first.remediation, first.references, worst, "runtime"
    )


def _runtime_result(item: RuntimeFinding, rule_index: int, result: ScanResult, decision: Decision) -> Any:
    import sarif_om

    image = image_repository(result)
    location = _location(item.location.path, item.location.line) if item.location else _location(image, None)
    location.logical_locations = [
        sarif_om.LogicalLocation(
            name=item.subject, fully_qualified_name=f"{image}:{item.subject}", kind="resource"
        )
    ]
    more = f" ({item.count} events)" if item.count > 1 else ""
    return sarif_om.Result(
        rule_id=item.rule_id,
        rule_index=rule_index,
        level=_LEVEL.get(item.severity, "note"),
        message=sarif_om.Message(
            text=sarif_message(_clip(f"{item.message}{more} when image {image} ran", 4000, multiline=True))
        ),
        locations=[location],
        partial_fingerprints={"primaryLocationLineHash": f"{item.fingerprint}:1"},
        suppressions=_suppressions(decision, item.fingerprint),
        baseline_state=_state(decision, item.fingerprint),
        properties={
            "subject": item.subject,
            "count": item.count,
            "evidence": [event_dict(event) for event in item.evidence],
        },
    )


def _merge_duplicates(
    vulns: Sequence[Vulnerability], decision: Decision
) -> tuple[list[Vulnerability], dict[str, tuple[Vulnerability, ...]]]:
    """One finding per vulnerability id and repository location (and policy state): the alerts GitHub
    would show on the same line anyway, such as one CVE in openssl and libssl3, both installed at
    Dockerfile:6. The first package (in report order) carries the others, so its fingerprint, and
    its alert, stay the same. Used only when a run would exceed GitHub's limits.
    """
    groups: dict[tuple[Any, ...], list[Vulnerability]] = {}
    for vuln in sorted(vulns, key=lambda v: v.sort_key()):
        where = (vuln.location.path, vuln.location.line) if vuln.location else (None, None)
        state = (decision.suppression_of(vuln.fingerprint) is not None, decision.is_new(vuln.fingerprint))
        groups.setdefault((vuln.id, *where, *state), []).append(vuln)
    kept = [members[0] for members in groups.values()]
    also = {members[0].fingerprint: tuple(members[1:]) for members in groups.values() if len(members) > 1}
    return kept, also


def _cap(findings: list[Any], key: Any, limit: int) -> tuple[list[Any], int]:
    """Keep the `limit` most severe findings; return them and how many were dropped."""
    if len(findings) <= limit:
        return findings, 0
    kept = sorted(findings, key=key)[:limit]
    return kept, len(findings) - len(kept)


class SarifReporter:
    """See the module docstring."""

    name: ClassVar[str] = "sarif"

    def _runs(self, result: ScanResult, decision: Decision, limit: int) -> list[Any]:
        import sarif_om

        runs = []
        driver_args = {"name": "ci-security", "version": __version__, "semantic_version": __version__}
        if result.vulnerabilities or result.target is not None:
            candidates = list(result.vulnerabilities)
            also: dict[str, tuple[Vulnerability, ...]] = {}
            if len(candidates) > limit:
                candidates, also = _merge_duplicates(candidates, decision)
            merged = sum(len(v) for v in also.values())
            vulns, dropped = _cap(
                candidates,
                lambda v: (-v.severity.rank, -(v.cvss_score or 0.0), v.id, v.fingerprint),
                limit,
            )
            grouped: dict[str, list[Vulnerability]] = {}
            for vuln in sorted(vulns, key=lambda v: v.sort_key()):
                grouped.setdefault(vuln.id, []).append(vuln)
            rules = [_vulnerability_rule(vid, findings) for vid, findings in grouped.items()]
            index = {vid: i for i, vid in enumerate(grouped)}
            results = [
                _vulnerability_result(v, index[v.id], result, decision, also.get(v.fingerprint, ()))
                for vid in grouped
                for v in grouped[vid]
            ]
            properties: dict[str, Any] = {"image": image_repository(result)}
            if result.target is not None:
                properties.update(
                    imageReference=result.target.reference,
                    imageDigest=result.target.digest,
                    repoTags=list(result.target.repo_tags),
                )
            if result.dockerfile:
                properties["dockerfile"] = result.dockerfile
            if merged or dropped:
                properties["truncated"] = {
                    "mergedResults": merged,
                    "droppedResults": dropped,
                    "reason": "GitHub code scanning stores at most 5,000 results per run and accepts 10 MB "
                    "gzipped; findings of one vulnerability at one location were merged into one result, "
                    "then the least severe were left out of this run (the JSON report has all)",
                }
            runs.append(
                sarif_om.Run(
                    tool=sarif_om.Tool(driver=sarif_om.ToolComponent(rules=rules, **driver_args)),
                    automation_details=sarif_om.RunAutomationDetails(id=category(result, "image")),
                    results=results,
                    properties=properties,
                )
            )
        if result.misconfigurations:
            items, dropped = _cap(list(result.misconfigurations), lambda m: m.sort_key(), limit)
            grouped_m: dict[str, list[Misconfiguration]] = {}
            for item in sorted(items, key=lambda m: (m.rule_id, m.path, m.line or 0)):
                grouped_m.setdefault(item.rule_id, []).append(item)
            rules = [_misconfiguration_rule(rid, findings) for rid, findings in grouped_m.items()]
            index = {rid: i for i, rid in enumerate(grouped_m)}
            results = [
                _misconfiguration_result(m, index[m.rule_id], decision)
                for rid in grouped_m
                for m in grouped_m[rid]
            ]
            props: dict[str, Any] = {"truncated": {"droppedResults": dropped}} if dropped else {}
            runs.append(
                sarif_om.Run(
                    tool=sarif_om.Tool(driver=sarif_om.ToolComponent(rules=rules, **driver_args)),
                    automation_details=sarif_om.RunAutomationDetails(id=category(result, "manifests")),
                    results=results,
                    properties=props or None,
                )
            )
        if result.sandbox is not None:
            runs.append(self._runtime_run(result, decision, limit, driver_args))
        return runs

    def _runtime_run(
        self, result: ScanResult, decision: Decision, limit: int, driver_args: dict[str, str]
    ) -> Any:
        import sarif_om

        run = result.sandbox
        assert run is not None
        items, dropped = _cap(list(result.runtime), lambda f: f.sort_key(), limit)
        grouped: dict[str, list[RuntimeFinding]] = {}
        for item in sorted(items, key=lambda f: (f.rule_id, f.subject)):
            grouped.setdefault(item.rule_id, []).append(item)
        rules = [_runtime_rule(rid, findings) for rid, findings in grouped.items()]
        index = {rid: i for i, rid in enumerate(grouped)}
        results = [
            _runtime_result(f, index[f.rule_id], result, decision) for rid in grouped for f in grouped[rid]
        ]
        properties: dict[str, Any] = {
            "image": image_repository(result),
            "command": list(run.command),
            "ended": ending(run),
            "processes": run.processes,
            "events": run.events_total,
        }
        summary = in_use_line(result)
        if summary:
            properties["inUseSummary"] = summary
        if result.dockerfile:
            properties["dockerfile"] = result.dockerfile
        if dropped:
            properties["truncated"] = {"droppedResults": dropped}
        return sarif_om.Run(
            tool=sarif_om.Tool(driver=sarif_om.ToolComponent(rules=rules, **driver_args)),
            automation_details=sarif_om.RunAutomationDetails(id=category(result, "runtime")),
            results=results,
            properties=properties,
        )

    def render(self, result: ScanResult, decision: Decision, context: RenderContext) -> str:
        limit = MAX_RESULTS
        while True:
            doc = {
                "$schema": SCHEMA_URI,
                "version": "2.1.0",
                "runs": _serialize(self._runs(result, decision, limit)),
            }
            text = json_dumps(doc) + "\n"
            if len(gzip.compress(text.encode(), compresslevel=6)) <= MAX_GZIP_BYTES or limit <= 100:
                return text
            limit //= 2
