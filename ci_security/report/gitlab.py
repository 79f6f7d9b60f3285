"""`--output gitlab`: a GitLab container-scanning report (security report schema 15.0.7).

GitLab validates security reports with the gitlab-security_report_schemas gem (15.0.0 to 15.2.1) and
does not ingest a report that fails. 15.0.7 is what Trivy ships, so it works on every GitLab that takes
15.x; no key added later (`cvss_vectors`, `scan.partial_scan`, `location.default_branch_image`) is used.
The report is deterministic: `start_time` and `end_time` are both the image's `created` time in UTC
(the epoch when there is none), ids are UUIDv5 of the finding fingerprints, and findings are sorted.

Decisions:
- **Names.** A finding's `name` is "<id> in <package>", its `description` the advisory's title and text,
  after a line with the distribution's rating, NVD's CVSS, the CISA KEV date and the EPSS score
  (15.x has no fields for them).
  The first identifier (the primary one GitLab tracks findings by) is the finding's id, typed `cve`,
  `ghsa` or the id's lower-cased prefix (`debian`, `pysec`, `rhsa`); aliases follow, up to 20 in all.
- **Remediations come from the fix plan.** Every 15.x remediation requires `diff`, a base64 diff
  that `git apply` accepts, so a remediation is written only for a change the fix planner made (the
  CI step with fix pull requests on): a base-image update of the Dockerfile the findings are anchored
  to (its last stage) lists the findings whose advisory the new base no longer has; a dependency
  update lists the findings of that package at that version it fixes. The diff is the plan's own.
  Without a plan, the upgrade is only each finding's `solution` ("Upgrade <package> to <fixed
  version>"): a package upgrade inside an image has no repository diff to offer.
- **Suppressed findings stay in `vulnerabilities`**, so GitLab keeps tracking them rather than marking
  them "no longer detected", with a `flags` entry carrying the policy's reason, source and expiry.
  15.x has no suppression field, and `flagged-as-likely-false-positive` is its only flag type, so an
  accepted risk is shown under that badge; the flag's description says what the policy really said.
- **Scan messages.** Expired ignore entries, scan warnings and an inventory-only scan are reported as
  `warn` messages; for an inventory-only scan the empty `vulnerabilities` means "not checked".
- **Untrusted text.** GitLab renders a finding's `description`, `solution` and flag descriptions as
  Markdown, so they are escaped like a merge-request note (`sanitize.markdown`: no HTML, no
  mentions or references, no links but the `links` list); the `name` and scan messages are
  single-line plain text (`sanitize.plain`). The file is written by `sanitize.json_dumps`.
- **Misconfigurations are not here**: a container-scanning location is a package in an image; they go to
  the Code Quality report (`--output codequality`).
"""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from ci_security import __version__
from ci_security.models import Decision, ScanResult, Severity, Suppression, Vulnerability
from ci_security.models.fix import FixPlan, FixUpdate
from ci_security.report.base import RenderContext
from ci_security.report.links import ghsa_url, nvd_url, osv_url
from ci_security.report.signals import cvss_text, epss_text, kev_text, vendor_text
from ci_security.sanitize import json_dumps, markdown, plain

SCHEMA_VERSION = "15.0.7"
SCHEMA_URL = (
    "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
    f"v{SCHEMA_VERSION}/dist/container-scanning-report-format.json"
)
MAX_NAME = 255
MAX_DESCRIPTION = 1_048_576
MAX_SOLUTION = 7_000
MAX_IDENTIFIERS = 20
EPOCH = "1970-01-01T00:00:00"
UNKNOWN = "Unknown"

_TOOL = "ci-security"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://ci-security.invalid/gitlab/container-scanning")
_SEVERITY = {
    Severity.CRITICAL: "Critical",
    Severity.HIGH: "High",
    Severity.MEDIUM: "Medium",
    Severity.LOW: "Low",
    Severity.UNKNOWN: "Unknown",
}
_URL = re.compile(r"^(https?|ftp)://.+")
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scan_time(created: str | None) -> str:
    """`created` (RFC 3339, any fraction and offset) as the schema's `yyyy-mm-ddThh:mm:ss` in UTC."""
    if created:
        try:
            parsed = datetime.fromisoformat(created.strip().replace("Z", "+00:00"))
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            return EPOCH
        # Formatted by hand: strftime("%Y") does not zero-pad years before 1000 on every platform.
        return (
            f"{parsed.year:04d}-{parsed.month:02d}-{parsed.day:02d}"
            f"T{parsed.hour:02d}:{parsed.minute:02d}:{parsed.second:02d}"
        )
    return EPOCH


def identifier_type(value: str) -> str:
    upper = value.upper()
    if upper.startswith("CVE-"):
        return "cve"
    if upper.startswith("GHSA-"):
        return "ghsa"
    found = _PREFIX.match(value)
    return found.group(0).lower() if found else "advisory"


def _identifier_url(value: str, kind: str, vuln: Vulnerability) -> str | None:
    if kind == "cve":
        return nvd_url(value)
    if kind == "ghsa":
        return ghsa_url(value)
    needle = value.lower()
    for url in vuln.references:
        if _URL.match(url) and needle in url.lower():
            return url
    if vuln.match is not None and vuln.match.source == "osv":
        return osv_url(value)
    return None


def _identifier(value: str, vuln: Vulnerability) -> dict[str, str]:
    kind = identifier_type(value)
    out = {"type": kind, "name": value, "value": value}
    url = _identifier_url(value, kind, vuln)
    if url:
        out["url"] = url
    return out


def identifiers(vuln: Vulnerability) -> list[dict[str, str]]:
    """The finding's id first (GitLab's primary identifier), then its aliases: CVEs, GHSAs, the rest."""
    rank = {"cve": 0, "ghsa": 1}
    aliases = sorted(
        {a for a in vuln.aliases if a and a.lower() != vuln.id.lower()},
        key=lambda a: (rank.get(identifier_type(a), 2), a),
    )
    out = [_identifier(vuln.id, vuln)]
    seen = {vuln.id.lower()}
    for alias in aliases:
        if len(out) == MAX_IDENTIFIERS:
            break
        if alias.lower() not in seen:
            seen.add(alias.lower())
            out.append(_identifier(alias, vuln))
    return out


def _operating_system(result: ScanResult) -> str:
    os_info = result.target.os if result.target else None
    if os_info is None or not os_info.family:
        return UNKNOWN
    return f"{os_info.family} {os_info.version}" if os_info.version else os_info.family


def _description(vuln: Vulnerability) -> str:
    title, text = vuln.title.strip(), vuln.description.strip()
    if title and text and not text.startswith(title):
        body = markdown(f"{title}\n\n{text}", multiline=True)
    else:
        body = markdown(text or title, multiline=True)
    rated = [
        f"{label}: {value}"
        for label, value in (
            ("Vendor rating", vendor_text(vuln)),
            ("CVSS", cvss_text(vuln)),
            ("CISA KEV since", kev_text(vuln)),
            ("EPSS", epss_text(vuln)),
        )
        if value
    ]
    if not rated:
        return body
    return (markdown(" · ".join(rated)) + ("\n\n" + body if body else "")).strip()


def _flag(suppression: Suppression) -> dict[str, str]:
    text = f"Accepted by policy ({suppression.kind}, {suppression.source}): {suppression.reason or '-'}"
    if suppression.justification:
        text += f" [{suppression.justification}]"
    if suppression.expires:
        text += f" (until {suppression.expires})"
    return {"type": "flagged-as-likely-false-positive", "origin": _TOOL, "description": markdown(text)}


def _finding_key(vuln: Vulnerability) -> str:
    if vuln.fingerprint:
        return vuln.fingerprint
    pkg = vuln.package
    return "|".join((vuln.id, pkg.type, pkg.name, pkg.version, pkg.path))


def vulnerability_dict(
    vuln: Vulnerability, finding_id: str, result: ScanResult, decision: Decision
) -> dict[str, Any]:
    pkg = vuln.package
    out: dict[str, Any] = {"id": finding_id, "name": _clip(plain(f"{vuln.id} in {pkg.name}"), MAX_NAME)}
    description = _description(vuln)
    if description:
        out["description"] = _clip(description, MAX_DESCRIPTION)
    out["severity"] = _SEVERITY[vuln.severity]
    if vuln.fixed_version:
        out["solution"] = _clip(markdown(f"Upgrade {pkg.name} to {vuln.fixed_version}"), MAX_SOLUTION)
    out["location"] = {
        "dependency": {"package": {"name": pkg.name}, "version": pkg.version},
        "operating_system": _operating_system(result),
        "image": (result.target.name if result.target else "") or UNKNOWN,
    }
    out["identifiers"] = identifiers(vuln)
    links = list(dict.fromkeys(url for url in vuln.references if _URL.match(url)))
    if links:
        out["links"] = [{"url": url} for url in links]
    suppression = decision.suppression_of(vuln.fingerprint) if vuln.fingerprint else None
    if suppression is not None:
        out["flags"] = [_flag(suppression)]
    return out


def _messages(result: ScanResult, decision: Decision) -> list[dict[str, str]]:
    out = []
    if not result.vulnerabilities_scanned:
        out.append(
            {
                "level": "warn",
                "value": "Vulnerability matching did not run (inventory-only scan): "
                "an empty vulnerability list means not checked, not clean",
            }
        )
    for expired in sorted(decision.expired, key=lambda e: (e.id, e.source)):
        out.append(
            {
                "level": "warn",
                "value": f"Ignore entry for {expired.id} ({expired.source}) expired on {expired.expires} "
                f"and no longer suppresses anything: {expired.reason or '-'}",
            }
        )
    out += [{"level": "warn", "value": str(w)} for w in result.warnings if str(w)]
    return [{"level": m["level"], "value": plain(m["value"])} for m in out]


def report_dict(result: ScanResult, decision: Decision, plan: FixPlan | None = None) -> dict[str, Any]:
    tool = {"id": _TOOL, "name": _TOOL, "vendor": {"name": _TOOL}, "version": __version__}
    when = scan_time(result.target.created if result.target else None)
    scan: dict[str, Any] = {
        "analyzer": dict(tool),
        "scanner": dict(tool),
        "type": "container_scanning",
        "start_time": when,
        "end_time": when,
        "status": "success",
    }
    messages = _messages(result, decision)
    if messages:
        scan["messages"] = messages
    vulnerabilities = []
    used: set[str] = set()
    ids: list[tuple[Vulnerability, str]] = []
    ordered = sorted(result.vulnerabilities, key=lambda v: (*v.sort_key(), v.package.version, v.fingerprint))
    for vuln in ordered:
        key = _finding_key(vuln)
        finding_id, n = str(uuid.uuid5(_NAMESPACE, key)), 0
        while finding_id in used:
            n += 1
            finding_id = str(uuid.uuid5(_NAMESPACE, f"{key}#{n}"))
        used.add(finding_id)
        ids.append((vuln, finding_id))
        vulnerabilities.append(vulnerability_dict(vuln, finding_id, result, decision))
    report: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "schema": SCHEMA_URL,
        "scan": scan,
        "vulnerabilities": vulnerabilities,
    }
    if plan is not None:
        fixes = remediations(result, plan, ids)
        if fixes:
            report["remediations"] = fixes
    return report


def _name_key(package_type: str, name: str) -> str:
    if package_type == "pypi":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name.lower() if package_type == "npm" else name


def _fixed_by(update: FixUpdate, vuln: Vulnerability, result: ScanResult) -> bool:
    named = {vuln.id, *vuln.aliases} & set(update.fixes)
    if not named:
        return False
    if update.kind == "dependency":
        pkg = vuln.package
        return (
            pkg.type == update.package_type
            and _name_key(pkg.type, pkg.name) == _name_key(update.package_type, update.package)
            and pkg.version == update.installed
        )
    return update.final_stage and result.dockerfile is not None and update.file == result.dockerfile


def remediations(
    result: ScanResult, plan: FixPlan, ids: list[tuple[Vulnerability, str]]
) -> list[dict[str, Any]]:
    """One remediation per planned update that fixes findings of this report (see the module docstring)."""
    out = []
    for update in plan.updates:
        fixed = [finding_id for vuln, finding_id in ids if _fixed_by(update, vuln, result)]
        if fixed and update.diff:
            out.append(
                {
                    "fixes": [{"id": finding_id} for finding_id in fixed],
                    "summary": _clip(plain(update.title), MAX_NAME),
                    "diff": base64.b64encode(update.diff.encode("utf-8")).decode("ascii"),
                }
            )
    return out


class GitLabReporter:
    """See the module docstring."""

    name: ClassVar[str] = "gitlab"

    def render(self, result: ScanResult, decision: Decision, context: RenderContext) -> str:
        return json_dumps(report_dict(result, decision, context.fix_plan)) + "\n"
