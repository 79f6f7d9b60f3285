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
policy failure into a warning). Each platform action that was skipped or failed is one notice
(`Notice`): actions skipped or failed for the same reason are said once ("summary comment, inline
comments and SARIF upload skipped: the token is read-only (pull request from a fork)"), on GitHub as
one `::notice`/`::warning` workflow command, on GitLab as a collapsed log section. A build that is
not for a pull/merge request does not try to comment, and says nothing about comments.

Untrusted text reaches the log, the annotations and the comments only through `sanitize`.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ci_security import sanitize
from ci_security.models import Decision, Misconfiguration, ScanResult, Severity, Vulnerability
from ci_security.platforms.base import InlineComment, InlineOutcome, Outcome, Platform
from ci_security.platforms.context import CiContext
from ci_security.platforms.text import job_link

MAX_ANNOTATIONS = 10
MAX_LOG_ROWS = 50  # rows of each table in the job log; the reports have every row
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
        return sanitize.workflow_command(
            self.level, self.message, file=self.path, line=self.line or None, title=self.title
        )


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
        ours = item.found_by == "ci-security"  # our titles and remediations are Markdown we wrote
        title = item.title if ours else sanitize.markdown(item.title)
        body = (
            f"**{sanitize.markdown(item.rule_id)}** {title} ({item.severity.value}){blocks}\n\n"
            f"{sanitize.markdown(item.message, multiline=True)}"
        )
        if item.remediation:
            fix = item.remediation if ours else sanitize.markdown(item.remediation, multiline=True)
            body += f"\n\n**Fix:** {fix}"
        ignore = sanitize.markdown_code(f"# ci-security:ignore={item.rule_id} <reason>")
        body += f"\n\n<sub>ci-security · accept with {ignore} on the line above, or in the policy file</sub>"
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
    """The sticky comment: the Markdown summary and a link to the job that wrote it (which the
    platforms leave out when they compare bodies, see `platforms.text.comparable`).
    """
    link = job_link(job_url)
    return markdown.rstrip() + (f"\n\n{link}" if link else "")


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


def plan_for(context: CiContext, *, comment: bool, inline: bool, upload_sarif: bool) -> PublishPlan:
    """The actions worth trying here: comments only on a pull/merge request (a push build has none to
    comment on, and says nothing about it); the SARIF upload wherever it was asked for.
    """
    return PublishPlan(
        comment=comment and context.has_change,
        inline=inline and context.has_change,
        upload_sarif=upload_sarif,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """A platform action that did not happen as asked: `level` "notice" (skipped: the run cannot or
    need not do it) or "warning" (failed), `subject` what ("summary comment and inline comments
    skipped"), `detail` why.
    """

    level: str
    subject: str
    detail: str

    def line(self) -> str:
        return f"{self.subject}: {self.detail}" if self.detail else self.subject


@dataclass(frozen=True, slots=True, kw_only=True)
class Published:
    """What `publish` did: one line per action that went through, the notices for the rest, and the
    summary comment's URL.
    """

    lines: tuple[str, ...] = ()
    notices: tuple[Notice, ...] = ()
    comment_url: str | None = None


def _inline_counts(done: InlineOutcome) -> str:
    parts = [f"{done.posted} posted", f"{done.updated} updated", f"{done.resolved} resolved"]
    if done.outside_diff:
        parts.append(f"{done.outside_diff} outside the diff, not sent")
    return ", ".join(parts)


def _joined(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def publish(
    platform: Platform,
    key: str,
    comment: str,
    inline: Sequence[InlineComment],
    sarif: str | None,
    plan: PublishPlan,
) -> Published:
    """Run the platform actions the plan asks for. Actions that were skipped or failed for the same
    reason become one notice naming them all, so a fork's read-only token is said once.
    """
    lines: list[str] = []
    missed: dict[tuple[str, str], list[str]] = {}  # (action, detail) -> what
    url = None

    def outcome(what: str, action: str, detail: str, line: str) -> None:
        if action in ("skipped", "failed"):
            missed.setdefault((action, detail), []).append(what)
        else:
            lines.append(line)

    if plan.comment:
        done: Outcome = platform.upsert_comment(key, comment)
        url = done.url
        outcome("summary comment", done.action, done.detail, done.line("summary comment"))
    if plan.inline:
        synced = platform.sync_inline(key, inline)
        counts = _inline_counts(synced)
        if synced.action == "failed" and synced.posted + synced.updated + synced.resolved:
            outcome("inline comments", "failed", f"{synced.detail} ({counts})", "")
        else:
            tail = f": {synced.detail}" if synced.detail else ""
            line = f"inline comments {synced.action} ({counts}){tail}"
            outcome("inline comments", synced.action, synced.detail, line)
    if plan.upload_sarif:
        if sarif is None:
            outcome("SARIF upload", "skipped", "no SARIF report was written", "")
        else:
            uploaded = platform.upload_sarif(sarif)
            outcome("SARIF upload", uploaded.action, uploaded.detail, uploaded.line("SARIF upload"))
    notices = tuple(
        Notice(
            level="warning" if action == "failed" else "notice",
            subject=f"{_joined(names)} {action}",
            detail=detail,
        )
        for (action, detail), names in missed.items()
    )
    return Published(lines=tuple(lines), notices=notices, comment_url=url)


def notice_lines(platform: str, notices: Sequence[Notice], *, now: int) -> list[str]:
    """How notices are shown in the job log: on GitHub one `::notice`/`::warning` workflow command
    each (an annotation on the run page); on GitLab one collapsed section each, its header saying
    what and its body why; elsewhere one plain line each. `now` is the section timestamp GitLab
    wants (Unix seconds).
    """
    out: list[str] = []
    for number, notice in enumerate(notices, 1):
        if platform == "github":
            title = f"ci-security: {notice.subject}"
            out.append(sanitize.workflow_command(notice.level, notice.detail, title=title))
        elif platform == "gitlab":
            name = f"ci_security_notice_{number}"
            header = sanitize.log_line(f"ci-security: {notice.subject}")
            out += [
                f"\x1b[0Ksection_start:{now}:{name}[collapsed=true]\r\x1b[0K{header}",
                sanitize.log_line(notice.detail or "(no detail)"),
                f"\x1b[0Ksection_end:{now}:{name}\r\x1b[0K",
            ]
        else:
            out.append(sanitize.log_line(f"ci-security: {notice.line()}"))
    return out


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
    feeds: Mapping[str, str] | None = None,
    nvd_api_key: str | None = None,
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
        summary = update(
            path, mirror=mirror or DEFAULT_MIRROR, sleep=sleep, feeds=feeds, nvd_api_key=nvd_api_key
        )
    except VulnDbError as exc:
        if path.is_file():
            return [f"warning: database update failed, scanning with the existing database: {exc}"]
        raise
    done = ", ".join(f"{eco} {how} {count}" for eco, (how, count) in sorted(summary.updated.items()))
    return [f"database {path} updated ({done})"]
