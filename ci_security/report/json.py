"""`--output json`: the machine-readable report, `schema_version` "1" (`schema/report.schema.json`;
the contract, and how a key is added, in docs/architecture.md "The JSON report contract").

Keys for stages that did not run are left out rather than filled with empty values, so a reader
can tell "not checked" from "nothing found": an inventory-only scan has no `vulnerabilities` and no
`db`; a scan that checked manifests has `manifests` (how many files of each kind, objects, custom
resources not checked) and `misconfigurations`, empty or not. A dynamic scan adds `sandbox` (how the
run went: command, user, how it ended, isolation, limits, the first bytes of its output), `runtime`
(the runtime rules' findings, each with its evidence events), `in_use` on every package and every
vulnerability (true, false, or null when the package's files are not known), and `in_use_summary`.
Lists are sorted and keys are emitted in a fixed order, so two scans of the same image produce
byte-identical reports. `policy` carries the decision that also sets the exit code; every finding
says whether the policy suppressed it (and why) and, with a baseline, whether it is new.

Written by `sanitize.json_dumps`: valid UTF-8 whatever the image held (undecodable bytes become
U+FFFD), control characters escaped, and nothing in it a CI log would read as a workflow command.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ci_security import __version__
from ci_security.models import (
    Decision,
    ImageTarget,
    ManifestSummary,
    Misconfiguration,
    Package,
    RuntimeFinding,
    ScanResult,
    SeverityRating,
    Vulnerability,
)
from ci_security.report.base import RenderContext
from ci_security.report.runtime import finding_evidence, in_use_line, run_dict
from ci_security.sanitize import json_dumps

SCHEMA_VERSION = "1"


def package_dict(pkg: Package, *, dynamic: bool = False) -> dict[str, Any]:
    """A package as JSON data; with `dynamic` (the image was run), with its `in_use`."""
    out = {
        "name": pkg.name,
        "version": pkg.version,
        "type": pkg.type,
        "purl": pkg.purl,
        "source_name": pkg.source_name,
        "source_version": pkg.source_version,
        "arch": pkg.arch,
        "epoch": pkg.epoch,
        "licenses": list(pkg.licenses),
        "modularity_label": pkg.modularity_label,
        "path": pkg.path,
        "layer": (
            {"index": pkg.layer.index, "digest": pkg.layer.digest, "diff_id": pkg.layer.diff_id}
            if pkg.layer
            else None
        ),
        "found_by": pkg.found_by,
        "installed_by": pkg.installed_by,
    }
    if dynamic:
        out["in_use"] = pkg.in_use
    return out


def _policy_fields(fingerprint: str, decision: Decision) -> dict[str, Any]:
    found = decision.suppression_of(fingerprint)
    return {
        "suppressed": (
            {"kind": found.kind, "reason": found.reason, "expires": found.expires, "source": found.source}
            if found
            else None
        ),
        "new": decision.is_new(fingerprint),
    }


def misconfiguration_dict(item: Misconfiguration, decision: Decision) -> dict[str, Any]:
    return {
        "rule_id": item.rule_id,
        "title": item.title,
        "severity": item.severity.value,
        "path": item.path,
        "line": item.line,
        "message": item.message,
        "resource": item.resource,
        "remediation": item.remediation,
        "references": list(item.references),
        "found_by": item.found_by,
        "peer_id": item.peer_id or None,
        "folded": list(item.folded),
        "fingerprint": item.fingerprint,
        **_policy_fields(item.fingerprint, decision),
    }


def manifests_dict(summary: ManifestSummary) -> dict[str, Any]:
    """What the manifest checks covered: files by kind (`not_analysed` for MAN001 files), objects,
    and the custom resources no rule checks.
    """
    return {
        "files": dict(summary.files),
        "total_files": summary.total,
        "objects": summary.objects,
        "custom_resources_not_checked": [
            {"api_version": api, "kind": kind, "count": count}
            for api, kind, count in summary.custom_resources
        ],
    }


def policy_dict(decision: Decision) -> dict[str, Any]:
    return {
        "result": decision.result,
        "summary": decision.summary,
        "source": decision.policy_source,
        "violations": [
            {
                "rule": v.rule,
                "kind": v.kind,
                "severity": v.severity.value,
                "fingerprint": v.fingerprint or None,
                "message": v.message,
            }
            for v in decision.violations
        ],
        "suppressed": [
            {
                "fingerprint": s.fingerprint,
                "kind": s.kind,
                "reason": s.reason,
                "expires": s.expires,
                "source": s.source,
                "justification": s.justification,
            }
            for s in decision.suppressed
        ],
        "expired": [
            {"id": e.id, "expires": e.expires, "reason": e.reason, "source": e.source}
            for e in decision.expired
        ],
        "baseline": None if decision.new is None else {"new": len(decision.new)},
    }


def _rating(rating: SeverityRating) -> dict[str, Any]:
    return {
        "kind": rating.kind,
        "severity": rating.severity.value,
        "label": rating.label or None,
        "score": rating.score,
        "vector": rating.vector,
        "source": rating.source,
    }


def runtime_dict(item: RuntimeFinding, decision: Decision) -> dict[str, Any]:
    return {
        "rule_id": item.rule_id,
        "title": item.title,
        "severity": item.severity.value,
        "subject": item.subject,
        "message": item.message,
        "count": item.count,
        "evidence": finding_evidence(item),
        "location": {"path": item.location.path, "line": item.location.line} if item.location else None,
        "remediation": item.remediation,
        "references": list(item.references),
        "fingerprint": item.fingerprint,
        **_policy_fields(item.fingerprint, decision),
    }


def vulnerability_dict(vuln: Vulnerability, decision: Decision, *, dynamic: bool = False) -> dict[str, Any]:
    match = vuln.match
    in_use = {"in_use": vuln.package.in_use} if dynamic else {}
    return {
        "id": vuln.id,
        "aliases": list(vuln.aliases),
        "package": package_dict(vuln.package, dynamic=dynamic),
        **in_use,
        "installed_version": vuln.package.version,
        "fixed_version": vuln.fixed_version,
        "status": vuln.status,
        "severity": vuln.severity.value,
        "cvss_score": vuln.cvss_score,
        "cvss_vector": vuln.cvss_vector,
        "severity_source": vuln.severity_source,
        "vendor_severity": _rating(vuln.vendor_severity) if vuln.vendor_severity else None,
        "severity_sources": [_rating(r) for r in vuln.severity_sources],
        "kev": (
            {
                "date_added": vuln.kev.date_added,
                "due_date": vuln.kev.due_date,
                "known_ransomware_use": vuln.kev.ransomware,
            }
            if vuln.kev is not None
            else None
        ),
        "epss": (
            {"score": vuln.epss.score, "percentile": vuln.epss.percentile, "date": vuln.epss.date}
            if vuln.epss is not None
            else None
        ),
        "title": vuln.title,
        "description": vuln.description,
        "references": list(vuln.references),
        "published": vuln.published,
        "location": {"path": vuln.location.path, "line": vuln.location.line} if vuln.location else None,
        "match": (
            {
                "matcher": match.matcher,
                "kind": match.kind,
                "ecosystem": match.ecosystem,
                "name": match.name,
                "version": match.version,
                "source": match.source,
            }
            if match
            else None
        ),
        "fingerprint": vuln.fingerprint,
        **_policy_fields(vuln.fingerprint, decision),
    }


def target_dict(target: ImageTarget) -> dict[str, Any]:
    return {
        "image": target.reference,
        "transport": target.transport,
        "digest": target.digest,
        "image_id": target.image_id,
        "platform": str(target.platform) if target.platform else None,
        "user": target.user,
        "repo_tags": list(target.repo_tags),
        "repo_digests": list(target.repo_digests),
        "os": (
            {
                "family": target.os.family,
                "version": target.os.version,
                "name": target.os.name,
                "codename": target.os.codename,
                "content_sets": list(target.os.content_sets),
            }
            if target.os
            else None
        ),
        "layers": [
            {
                "index": layer.index,
                "digest": layer.digest,
                "diff_id": layer.diff_id,
                "media_type": layer.media_type,
                "size": layer.size,
                "created_by": layer.created_by,
            }
            for layer in target.layers
        ],
    }


def report_dict(result: ScanResult, decision: Decision) -> dict[str, Any]:
    dynamic = result.sandbox is not None
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "ci-security", "version": __version__},
        "target": target_dict(result.target) if result.target else None,
        "packages": [package_dict(p, dynamic=dynamic) for p in result.packages],
    }
    if result.vulnerabilities_scanned:
        if result.db is not None:
            out["db"] = {
                "built": result.db.built,
                "schema_version": result.db.schema_version,
                "sources": [{"name": n, "origin": o, "records": r} for n, o, r in result.db.sources],
            }
        out["vulnerabilities"] = [
            vulnerability_dict(v, decision, dynamic=dynamic) for v in result.vulnerabilities
        ]
    if result.manifests is not None:
        out["manifests"] = manifests_dict(result.manifests)
    if result.misconfigurations or result.manifests is not None:
        out["misconfigurations"] = [misconfiguration_dict(m, decision) for m in result.misconfigurations]
    if result.sandbox is not None:
        out["sandbox"] = run_dict(result.sandbox)
        out["runtime"] = [runtime_dict(r, decision) for r in result.runtime]
        summary = in_use_line(result)
        if summary is not None:
            out["in_use_summary"] = summary
    out["policy"] = policy_dict(decision)
    out["warnings"] = [
        {"source": w.source, "path": w.path, "message": w.message, "layer": w.layer} for w in result.warnings
    ]
    return out


class JsonReporter:
    """See the module docstring."""

    name: ClassVar[str] = "json"

    def render(self, result: ScanResult, decision: Decision, context: RenderContext) -> str:
        return json_dumps(report_dict(result, decision)) + "\n"
