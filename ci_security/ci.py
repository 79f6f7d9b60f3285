"""The CI step's decisions, as data: which reports to write where, the step's outputs, the workflow
annotations, the inline comments, and the calls to the platform. `cli.py` (`ci-security ci`) prints
and exits; this module never does.

What the step does on each platform:
- GitHub Actions: JSON, SARIF and Markdown reports; the Markdown as the job summary (cut below
  GitHub's 1 MiB per step); at most `MAX_ANNOTATIONS` `::error` (findings that fail the policy) and
  as many `::warning` annotations (other open findings), because GitHub shows only 10 of each per
  step; the step outputs; one sticky PR comment; inline review comments for manifest findings on
  changed lines; optionally the SARIF upload through the code-scanning API.
- GitLab CI: JSON, Markdown, the container-scanning and Code Quality reports (for `artifacts:
  reports:`); one sticky MR note; MR discussions for manifest findings on changed lines.
- Elsewhere: the reports only.

A platform failure never changes the exit code: the policy decides it (and `--no-fail-build` turns a
policy failure into a warning).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ci_security.models import Decision, Misconfiguration, ScanResult, Severity, Vulnerability
from ci_security.platforms.base import InlineComment, Platform
from ci_security.platforms.context import CiContext

MAX_ANNOTATIONS = 10
MAX_SUMMARY_BYTES = 1_000_000  # GitHub refuses a step summary over 1 MiB
REPORT_FILES = {
    "json": "ci-security.json",
    "markdown": "ci-security.md",
    "sarif": "ci-security.sarif",
    "gitlab": "gl-container-scanning-report.json",
    "codequality": "gl-code-quality-report.json",
}
PLATFORM_REPORTS = {
    "github": ("json", "markdown", "sarif"),
    "gitlab": ("json", "markdown", "gitlab", "codequality"),
    "local": ("json", "markdown", "sarif"),
}
_KEY = re.compile(r"[^A-Za-z0-9_.\-/:]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Annotation:
    """One GitHub workflow-command annotation."""

    level: str  # "error" | "warning"
    path: str
    line: int | None
    title: str
    message: str

    def command(self) -> str:
        where = f"file={_escape_property(self.path)}"
        if self.line:
            where += f",line={self.line}"
        title = _escape_property(self.title)
        return f"::{self.level} {where},title={title}::{_escape_data(self.message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def report_paths(platform: str, directory: Path) -> dict[str, Path]:
    """The reports the step writes by default on `platform`, by format."""
    return {
        fmt: directory / REPORT_FILES[fmt]
        for fmt in PLATFORM_REPORTS.get(platform, PLATFORM_REPORTS["local"])
    }


def comment_key(result: ScanResult, explicit: str | None) -> str:
    """The key of the sticky comment: one comment per image (by name, not tag) or for the manifests,
    so two jobs scanning two images in one pull request keep two comments.
    """
    if explicit:
        key = explicit
    elif result.target is not None:
        key = re.split(r"[@:](?=[^/]*$)", result.target.name, maxsplit=1)[0]
    else:
        key = "manifests"
    return _KEY.sub("-", key).strip("-") or "scan"


def _location(finding: Vulnerability | Misconfiguration) -> tuple[str, int | None] | None:
    if isinstance(finding, Misconfiguration):
        return (finding.path, finding.line) if finding.path else None
    if finding.location is None:
        return None
    return finding.location.path, finding.location.line


def _open(result: ScanResult, decision: Decision) -> list[Vulnerability | Misconfiguration]:
    findings: list[Vulnerability | Misconfiguration] = [*result.vulnerabilities, *result.misconfigurations]
    return [f for f in findings if decision.suppression_of(f.fingerprint) is None]


def _label(finding: Vulnerability | Misconfiguration) -> tuple[str, str]:
    if isinstance(finding, Misconfiguration):
        return f"{finding.rule_id}: {finding.title}", finding.message
    pkg = finding.package
    fix = f"; fixed in {finding.fixed_version}" if finding.fixed_version else "; no fix yet"
    return (
        f"{finding.id} ({finding.severity.value})",
        f"{pkg.name} {pkg.version}{fix}. {finding.title}".strip(),
    )


def workflow_annotations(
    result: ScanResult, decision: Decision, limit: int = MAX_ANNOTATIONS
) -> list[Annotation]:
    """Errors for the findings that fail the policy, warnings for other open findings, each the most
    severe first and at most `limit` of each kind, only for findings with a repository location.
    """
    failing = {v.fingerprint for v in decision.violations if v.fingerprint}
    errors: list[Annotation] = []
    warnings: list[Annotation] = []
    ranked = sorted(_open(result, decision), key=lambda f: (-f.severity.rank, f.fingerprint))
    for finding in ranked:
        where = _location(finding)
        if where is None:
            continue
        title, message = _label(finding)
        bucket, level = (errors, "error") if finding.fingerprint in failing else (warnings, "warning")
        if len(bucket) < limit:
            bucket.append(Annotation(level=level, path=where[0], line=where[1], title=title, message=message))
    return errors + warnings


def inline_comments(result: ScanResult, decision: Decision) -> list[InlineComment]:
    """One inline comment per open manifest finding that has a line: the place a reviewer fixes it."""
    failing = {v.fingerprint for v in decision.violations if v.fingerprint}
    comments = []
    for item in sorted(result.misconfigurations, key=Misconfiguration.sort_key):
        if not item.line or not item.fingerprint or decision.suppression_of(item.fingerprint) is not None:
            continue
        blocks = " · **fails the build**" if item.fingerprint in failing else ""
        body = f"**{item.rule_id}** {item.title} ({item.severity.value}){blocks}\n\n{item.message}"
        if item.remediation:
            body += f"\n\n**Fix:** {item.remediation}"
        body += (
            f"\n\n<sub>ci-security · accept with `# ci-security:ignore={item.rule_id} <reason>` on the line "
            "above, or in the policy file</sub>"
        )
        comments.append(
            InlineComment(fingerprint=item.fingerprint, path=item.path, line=item.line, body=body)
        )
    return comments


def counts(result: ScanResult, decision: Decision) -> dict[str, int]:
    """Open findings by severity, for the step's outputs."""
    by_severity = Counter(f.severity for f in _open(result, decision))
    return {s.value.lower(): by_severity.get(s, 0) for s in Severity}


def outputs(
    result: ScanResult,
    decision: Decision,
    reports: dict[str, Path],
    comment_url: str | None,
) -> dict[str, str]:
    """The step's outputs (`GITHUB_OUTPUT`), all strings."""
    values = {
        "result": decision.result,
        "violations": str(len(decision.violations)),
        "suppressed": str(len(decision.suppressed)),
        "vulnerabilities": str(len(result.vulnerabilities)),
        "misconfigurations": str(len(result.misconfigurations)),
        "summary": decision.summary,
        **{k: str(v) for k, v in counts(result, decision).items()},
        **{f"{fmt}-file": str(path) for fmt, path in reports.items()},
    }
    if decision.new is not None:
        values["new"] = str(len(decision.new))
    if comment_url:
        values["comment-url"] = comment_url
    return values


def github_output(values: dict[str, str]) -> str:
    """`name=value` lines for `$GITHUB_OUTPUT`; multi-line values in the heredoc form, with a
    delimiter that cannot occur in the value.
    """
    lines = []
    for name, value in values.items():
        if "\n" in value:
            delimiter = "ci_security_eof"
            while delimiter in value:
                delimiter += "_"
            lines += [f"{name}<<{delimiter}", value, delimiter]
        else:
            lines.append(f"{name}={value}")
    return "\n".join(lines) + "\n"


def step_summary(markdown: str, job_url: str, limit: int = MAX_SUMMARY_BYTES) -> str:
    """The Markdown for `$GITHUB_STEP_SUMMARY`, cut at a line boundary below GitHub's limit."""
    if len(markdown.encode()) <= limit:
        return markdown
    footer = (
        f"\n\n…truncated: the full report is in the job's artifacts{f' ({job_url})' if job_url else ''}.\n"
    )
    budget = limit - len(footer.encode())
    kept: list[str] = []
    used = 0
    for line in markdown.splitlines(keepends=True):
        size = len(line.encode())
        if used + size > budget:
            break
        kept.append(line)
        used += size
    return "".join(kept).rstrip("\n") + footer


def comment_body(markdown: str, job_url: str) -> str:
    """The sticky comment: the Markdown summary and a link to the job that wrote it."""
    link = f"\n\n<sub>[ci-security job]({job_url})</sub>" if job_url else ""
    return markdown.rstrip() + link


def platform_for(context: CiContext) -> Platform | None:
    """The platform implementation for the CI system the step runs on, or None locally."""
    if context.platform == "github":
        from ci_security.platforms.github import GitHubPlatform

        return GitHubPlatform(context)
    if context.platform == "gitlab":
        from ci_security.platforms.gitlab import GitLabPlatform

        return GitLabPlatform(context)
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishPlan:
    """What to ask of the platform."""

    comment: bool = True
    inline: bool = True
    upload_sarif: bool = False


def publish(
    platform: Platform,
    key: str,
    comment: str,
    inline: Sequence[InlineComment],
    sarif: str | None,
    plan: PublishPlan,
) -> tuple[list[str], str | None]:
    """Run the platform actions the plan asks for; one line per action, and the comment's URL."""
    lines: list[str] = []
    url = None
    if plan.comment:
        outcome = platform.upsert_comment(key, comment)
        url = outcome.url
        lines.append(outcome.line("comment"))
    if plan.inline:
        done = platform.sync_inline(key, inline)
        parts = [f"{done.posted} posted", f"{done.updated} updated", f"{done.resolved} resolved"]
        if done.outside_diff:
            parts.append(f"{done.outside_diff} outside the diff, not sent")
        detail = f": {done.detail}" if done.detail else ""
        lines.append(f"inline comments {done.action} ({', '.join(parts)}){detail}")
    if plan.upload_sarif:
        if sarif is None:
            lines.append("sarif upload skipped: no SARIF report was written")
        else:
            lines.append(platform.upload_sarif(sarif).line("sarif upload"))
    return lines, url


def secrets_to_mask(values: Iterable[str | None]) -> list[str]:
    """Values to hide from GitHub's log (`::add-mask::`), longest first so a secret that contains
    another is masked whole.
    """
    return sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)


def refresh_database(
    db_path: Path | None,
    max_age_hours: float,
    mirror: str | None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Update the vulnerability database when it is missing or older than `max_age_hours`, so a CI
    step needs no separate `db update`. With a cache restored from a run of the same day nothing is
    downloaded. A failed update raises only when there is no database to fall back on.
    """
    from ci_security.vulndb.store import VulnDB, VulnDbError, default_db_path
    from ci_security.vulndb.sync import DEFAULT_MIRROR, update

    path = db_path or default_db_path()
    if path.is_file():
        try:
            with VulnDB(path) as db:
                age, stamp = db.age_hours(), db.updated()
        except VulnDbError:
            age = stamp = None
        if age is not None and age <= max_age_hours:
            return [f"database {path} is current (updated {stamp})"]
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        summary = update(path, mirror=mirror or DEFAULT_MIRROR, sleep=sleep)
    except VulnDbError as exc:
        if path.is_file():
            return [f"warning: database update failed, scanning with the existing database: {exc}"]
        raise
    done = ", ".join(f"{eco} {how} {count}" for eco, (how, count) in sorted(summary.updated.items()))
    return [f"database {path} updated ({done})"]
