"""The commands' runs as data: what `ci-security scan` (`run_scan`) and the CI step `ci-security ci`
(`run_step`) do, as the lines to print and the exit code. Both are generators: they yield each line
as it is ready (so a secret mask is printed before anything else, and a failure later still leaves
the earlier lines in the log) and return the exit code; `cli.py` prints each `Line` through its
sanitiser and exits. This module never prints or exits.

A run reads the policy first (`scan.policy_in_force`), scans and decides under it, writes the
reports (`report.write`), and says the verdict: the warnings, the expired ignore entries, the
policy's summary, and the exit code (0 pass, 1 policy failed, 3 partial scan with `--strict`).

The CI step adds what a pipeline needs, the same on every CI system except where the system's
`StepSurface` (`platforms/registry.py`) differs: the reports the system reads in the report
directory (and, with the dynamic scan, its event log `ci-security-events.jsonl`), secret masks, a
fence around the reports printed to the log, annotations, the job summary, the step's outputs, one
sticky comment and inline comments through the review platform (`publish`), notices for what did
not happen, and `--no-fail-build`. See docs/github.md and
docs/gitlab.md for each system.

A platform failure never changes the exit code: the policy decides it (and `--no-fail-build` turns a
policy failure into a warning). `publish` is the boundary that keeps that promise: a platform reports
API failures as outcomes, and whatever else it raises becomes a failed outcome there. Each platform
action that was skipped or failed is one notice (`Notice`): actions skipped or failed for the same
reason are said once ("summary comment, inline comments and SARIF upload skipped: the token is
read-only (pull request from a fork)"). A build that is not for a pull/merge request does not try to
comment, and says nothing about comments.

Untrusted text reaches the log, the annotations and the comments only through `sanitize`.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ci_security import sanitize
from ci_security.errors import EXIT_FAIL, EXIT_INTERNAL, EXIT_PASS, CiSecurityError, ReportError
from ci_security.models import Decision, Misconfiguration, RuntimeFinding, ScanResult, Severity, Vulnerability
from ci_security.platforms.base import (
    Annotation,
    ChangeRequest,
    InlineComment,
    InlineOutcome,
    Notice,
    Outcome,
    Platform,
    StepSurface,
)
from ci_security.platforms.context import CiContext
from ci_security.platforms.text import job_link
from ci_security.progress import ProgressSink
from ci_security.report.write import OutputSpec, Written, write_reports

if TYPE_CHECKING:
    from ci_security.dbartifact.artifact import RegistryAccess
    from ci_security.dbartifact.signature import Signer
    from ci_security.fix.run import FixOptions
    from ci_security.models.fix import FixPlan
    from ci_security.policy.inputs import PolicyInputs
    from ci_security.policy.model import FixRules
    from ci_security.scan import Checked, ScanOptions

MAX_LOG_ROWS = 50  # rows of each table in the job log; the reports have every row
EVENTS_FILE = "ci-security-events.jsonl"
FIX_PLAN = "ci-security-fix.json"  # the fix plan the step writes in the report directory (--fix-prs)
_KEY = re.compile(r"[^A-Za-z0-9_.\-/:]+")

Display = Callable[[], AbstractContextManager[ProgressSink | None]]
Steps = Generator["Line", None, int]


@dataclass(frozen=True, slots=True)
class Line:
    """One thing to print. `message` goes to standard error through `sanitize.log_line`; `report`
    is a report's text for standard output (through `sanitize.log_output`, printed as it is, its own
    line ends included); `command` is a line a CI system reads (workflow command, mask, log
    section), made safe where it was built and printed to standard output as it is.
    """

    text: str
    kind: Literal["message", "report", "command"] = "message"


def _no_display() -> AbstractContextManager[ProgressSink | None]:
    return nullcontext(None)


AnnotationLevel = Literal["error", "warning"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    """What a command adds to the scan: the reports asked for (`--output`), where rule ids link
    (`--docs-url`), `--strict`, standard output's width when it is a terminal (None when it is not:
    no colour), and the progress display while the scan runs.
    """

    outputs: tuple[OutputSpec, ...] = ()
    docs_url: str = ""
    strict: bool = False
    terminal_width: int | None = None
    display: Display = field(default=_no_display)


@dataclass(frozen=True, slots=True, kw_only=True)
class StepOptions:
    """What only the CI step is asked (`ci-security ci --help`)."""

    report_dir: Path = Path()
    sarif_file: Path | None = None
    comment: bool = True
    inline: bool = True
    upload_sarif: bool = False
    fail_build: bool = True
    comment_key: str | None = None
    db_update: bool = True
    mirror: str | None = None
    feed_mirrors: tuple[str, ...] = ()  # NAME=URL, as `--feed-mirror` takes them
    nvd_api_key: str | None = field(default=None, repr=False)
    fix_prs: bool = False
    fix_token: str | None = field(default=None, repr=False)
    max_prs: int | None = None
    db_repository: str | None = None  # pull the database from this registry repository instead
    db_access: RegistryAccess | None = None
    db_signer: Signer | None = None


def run_scan(options: ScanOptions, run: RunOptions) -> Steps:
    """`ci-security scan`: scan, decide, write the reports (a table on standard output unless
    `--output` says otherwise), and say the verdict.
    """
    from ci_security.scan import policy_in_force

    with policy_in_force(options) as inputs:
        checked = _check(options, inputs, run.display)
        specs = list(run.outputs or (OutputSpec("table", None),))
        written = write_reports(
            specs,
            checked.result,
            checked.decision,
            docs_url=run.docs_url,
            terminal_width=run.terminal_width,
        )
        yield from _printed(written, None)
        return (yield from verdict(checked.result, checked.decision, strict=run.strict))


def run_step(
    options: ScanOptions, run: RunOptions, step: StepOptions, context: CiContext | None = None
) -> Steps:
    """The CI step: scan, write the reports, annotate, comment on the pull/merge request, gate. The
    CI system is read from the environment unless `context` is given.
    """
    from ci_security.platforms.registry import SURFACES, detect
    from ci_security.scan import policy_in_force

    context = context or detect()
    surface = SURFACES[context.platform]
    hidden = secrets_to_mask(
        [
            options.registry_password,
            step.db_access.password if step.db_access else None,
            step.nvd_api_key,
            context.token,
            step.fix_token,
            os.environ.get("CI_SECURITY_GITLAB_TOKEN"),
        ]
    )
    for mask in surface.masks(hidden):
        yield Line(mask, "command")
    reports = report_paths(context.platform, step.report_dir)
    if step.sarif_file is not None and "sarif" in reports:
        reports["sarif"] = step.sarif_file
    if options.sandbox is not None:
        # The dynamic scan's event log is an artifact of the step, beside the reports.
        reports["events"] = step.report_dir / EVENTS_FILE
    specs = [OutputSpec(fmt, path) for fmt, path in reports.items()] + list(run.outputs)
    if not any(spec.format == "table" for spec in specs):
        specs.append(OutputSpec("table", None))
    try:
        step.report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"--report-dir {step.report_dir}: {exc.strerror or exc}") from None
    # The policy is read first: its limits: bound the database update too.
    with policy_in_force(options) as inputs:
        if step.db_update and ((options.image and options.vulns) or step.fix_prs):
            from ci_security.vulndb.feeds.sources import parse_feed_mirrors

            for line in refresh_database(
                options.db_path,
                options.db_max_age_hours,
                step.mirror,
                feeds=parse_feed_mirrors(step.feed_mirrors),
                nvd_api_key=step.nvd_api_key,
                repository=step.db_repository,
                access=step.db_access,
                signer=step.db_signer,
            ):
                yield Line(f"ci-security: {line}")
        checked = _check(options, inputs, run.display)
        result, decision = checked.result, checked.decision
        plan = None
        if step.fix_prs:
            from ci_security.fix.run import build_plan
            from ci_security.scan import repo_root

            try:
                plan = build_plan(options, inputs.policy, repo_root(options), result.vulnerabilities)
            except CiSecurityError as exc:
                yield Line(f"ci-security: warning: fix pull requests: no plan ({exc})")
            except Exception as exc:  # the policy decides the exit code, not a planner's surprise
                yield Line(f"ci-security: warning: fix pull requests: no plan ({unexpected(exc, hidden)})")
        written = write_reports(
            specs,
            result,
            decision,
            docs_url=run.docs_url,
            terminal_width=run.terminal_width,
            log_rows=MAX_LOG_ROWS,
            fix_plan=plan,
        )
        yield from _printed(written, surface.fence())
        markdown = written.files[reports["markdown"]]
        for line in surface.annotations(to_annotate(result, decision)):
            yield Line(line, "command")
        if plan is not None:
            from ci_security.fix.report import fixes_markdown, plan_lines
            from ci_security.fix.run import write_outputs

            fixes = yield from _fix_requests(plan, surface, context, step, inputs.policy.fix, hidden)
            for line in plan_lines(plan, fixes):
                yield Line(f"ci-security: fix: {line}")
            write_outputs((("json", step.report_dir / FIX_PLAN),), plan, fixes)
            markdown = f"{markdown.rstrip()}\n\n{fixes_markdown(plan, fixes)}"
        surface.write_summary(context, markdown)
        comment_url = None
        platform = surface.platform(context)
        if platform is not None:
            published = publish(
                platform,
                comment_key(result, step.comment_key),
                comment_body(markdown, context.job_url),
                inline_comments(result, decision),
                written.files.get(reports["sarif"]) if "sarif" in reports else None,
                plan_for(context, comment=step.comment, inline=step.inline, upload_sarif=step.upload_sarif),
                secrets=hidden,
            )
            comment_url = published.comment_url
            for line in published.lines:
                yield Line(f"ci-security: {line}")
            for line in surface.notice_lines(published.notices, now=int(time.time())):
                yield Line(line, "command")
        surface.write_outputs(context, outputs(result, decision, reports, comment_url))
        code = yield from verdict(result, decision, strict=run.strict)
        if code == EXIT_FAIL and not step.fail_build:
            yield Line("ci-security: the policy failed, but --no-fail-build is set: exit 0")
            return EXIT_PASS
        return code


def run_fix(
    options: ScanOptions, run: RunOptions, fix: FixOptions, context: CiContext | None = None
) -> Steps:
    """`ci-security fix`: the plan for the repository, written where `-o` says and printed (the plan,
    then each diff); unless it is a dry run, the pull/merge requests opened or updated. Without a CI
    system (a developer's machine) every run is a dry run. The exit code is 0 whatever the plan.
    """
    from ci_security.fix.report import plan_lines
    from ci_security.fix.run import build_plan, write_outputs
    from ci_security.platforms.registry import SURFACES, detect
    from ci_security.scan import policy_in_force

    context = context or detect()
    surface = SURFACES[context.platform]
    token = fix.token or context.token
    hidden = secrets_to_mask([options.registry_password, token, context.token])
    for mask in surface.masks(hidden):
        yield Line(mask, "command")
    dry = fix.dry_run or context.platform == "local"
    if dry and not fix.dry_run:
        yield Line("ci-security: no CI system here (GitHub Actions, GitLab CI): a dry run, nothing is opened")
    with policy_in_force(options) as inputs:
        findings: tuple[Vulnerability, ...] = ()
        if options.image:
            checked = _check(options, inputs, run.display)
            findings = checked.result.vulnerabilities
            for warning in checked.result.warnings:
                yield Line(f"ci-security: warning: {warning}")
        root = fix.repo or options.repo_root
        if root is None:
            from ci_security.scan import repo_root

            root = repo_root(options)
        plan = build_plan(options, inputs.policy, root, findings)
        outcomes: dict[str, Outcome] = {}
        if not dry:
            step = StepOptions(fix_prs=True, fix_token=fix.token, max_prs=fix.max_prs)
            outcomes = yield from _fix_requests(plan, surface, context, step, inputs.policy.fix, hidden)
        write_outputs(fix.outputs, plan, outcomes)
        text = "\n".join(plan_lines(plan, outcomes)) + "\n"
        yield Line(sanitize.plain(text, multiline=True), "report")
        if dry:
            for update in plan.updates:
                yield Line(sanitize.plain(update.diff, multiline=True), "report")
        return EXIT_PASS


def _fix_requests(
    plan: FixPlan,
    surface: StepSurface,
    context: CiContext,
    step: StepOptions,
    rules: FixRules,
    hidden: Sequence[str],
) -> Generator[Line, None, dict[str, Outcome]]:
    """Open or update the plan's pull/merge requests with the fix token (else the step's), saying
    what happened; the outcomes by branch.
    """
    from ci_security.fix.run import change_request

    if not plan.updates:
        return {}
    fixer = surface.platform(replace(context, token=step.fix_token or context.token))
    if fixer is None:
        yield Line("ci-security: note: fix pull requests are opened from GitHub Actions or GitLab CI only")
        return {}
    no_ci = context.platform == "github" and not step.fix_token
    requests = [change_request(update, rules.labels, no_ci=no_ci) for update in plan.updates]
    limit = step.max_prs if step.max_prs is not None else rules.max_open_prs
    published = publish_fixes(fixer, requests, max_open=limit, secrets=hidden)
    for line in published.lines:
        yield Line(f"ci-security: {line}")
    for line in surface.notice_lines(published.notices, now=int(time.time())):
        yield Line(line, "command")
    return dict(published.outcomes)


def _check(options: ScanOptions, inputs: PolicyInputs, display: Display) -> Checked:
    from ci_security.scan import check_under

    with display() as progress:
        return check_under(replace(options, progress=progress or options.progress), inputs)


def _printed(written: Written, fence: tuple[str, str] | None) -> Generator[Line]:
    """The notes of reports with nothing to say, then the reports for standard output, inside
    `fence` when the CI system has one.
    """
    for note in written.notes:
        yield Line(f"ci-security: note: {note}")
    if written.printed and fence:
        yield Line(fence[0], "command")
    for text in written.printed:
        yield Line(text, "report")
    if written.printed and fence:
        yield Line(fence[1], "command")


def verdict(result: ScanResult, decision: Decision, *, strict: bool) -> Steps:
    """The scan's warnings, the expired ignore entries and the policy's summary; the exit code they
    mean. An incomplete scan cannot vouch for a pass or a fail, so `--strict` makes it an error.
    """
    for warning in result.warnings:
        yield Line(f"ci-security: warning: {warning}")
    for gone in decision.expired:
        yield Line(
            f"ci-security: warning: {gone.source}: ignore entry for {gone.id} expired on {gone.expires}; "
            "it no longer suppresses anything"
        )
    yield Line(f"ci-security: policy {decision.summary}")
    if strict and result.partial:
        yield Line("ci-security: error: partial scan (see warnings) and --strict is set")
        return EXIT_INTERNAL
    return EXIT_PASS if decision.passed else EXIT_FAIL


def report_paths(platform: str, directory: Path) -> dict[str, Path]:
    """The reports the step writes by default on `platform`, by format."""
    from ci_security.platforms.registry import SURFACES

    surface = SURFACES.get(platform, SURFACES["local"])
    return {fmt: directory / name for fmt, name in surface.reports.items()}


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


Finding = Vulnerability | Misconfiguration | RuntimeFinding


def _location(finding: Finding) -> tuple[str, int | None] | None:
    if isinstance(finding, Misconfiguration):
        return (finding.path, finding.line) if finding.path else None
    if finding.location is None:
        return None
    return finding.location.path, finding.location.line


def open_findings(result: ScanResult, decision: Decision) -> list[Finding]:
    """The findings the policy did not accept."""
    findings: list[Finding] = [*result.vulnerabilities, *result.misconfigurations, *result.runtime]
    return [f for f in findings if decision.suppression_of(f.fingerprint) is None]


def _label(finding: Finding) -> tuple[str, str]:
    if isinstance(finding, Misconfiguration):
        return f"{finding.rule_id}: {finding.title}", finding.message
    if isinstance(finding, RuntimeFinding):
        return f"{finding.rule_id}: {finding.title} (dynamic scan)", finding.message
    pkg = finding.package
    fix = f"; fixed in {finding.fixed_version}" if finding.fixed_version else "; no fix yet"
    return (
        f"{finding.id} ({finding.severity.value})",
        f"{pkg.name} {pkg.version}{fix}. {finding.title}".strip(),
    )


def to_annotate(result: ScanResult, decision: Decision) -> list[Annotation]:
    """An annotation for each open finding with a repository location, the most severe first: an
    error when it fails the policy, else a warning. The CI system's surface keeps what it can show.
    """
    failing = {v.fingerprint for v in decision.violations if v.fingerprint}
    found: list[Annotation] = []
    ranked = sorted(open_findings(result, decision), key=lambda f: (-f.severity.rank, f.fingerprint))
    for finding in ranked:
        where = _location(finding)
        if where is None:
            continue
        title, message = _label(finding)
        level: Literal["error", "warning"] = "error" if finding.fingerprint in failing else "warning"
        found.append(Annotation(level=level, path=where[0], line=where[1], title=title, message=message))
    return found


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
    by_severity = Counter(f.severity for f in open_findings(result, decision))
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
        **({"runtime": str(len(result.runtime))} if result.sandbox is not None else {}),
        "summary": decision.summary,
        **{k: str(v) for k, v in counts(result, decision).items()},
        **{f"{fmt}-file": str(path) for fmt, path in reports.items()},
    }
    if decision.new is not None:
        values["new"] = str(len(decision.new))
    if comment_url:
        values["comment-url"] = comment_url
    return values


def comment_body(markdown: str, job_url: str) -> str:
    """The sticky comment: the Markdown summary and a link to the job that wrote it (which the
    platforms leave out when they compare bodies, see `platforms.text.comparable`).
    """
    link = job_link(job_url)
    return markdown.rstrip() + (f"\n\n{link}" if link else "")


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


def unexpected(exc: Exception, secrets: Sequence[str] = ()) -> str:
    """One line for an exception a platform should not have raised, the secrets in it starred."""
    text = " ".join(str(exc).split())[:200]
    line = f"unexpected {type(exc).__name__}: {text}" if text else f"unexpected {type(exc).__name__}"
    for secret in secrets_to_mask(secrets):
        line = line.replace(secret, "***")
    return line


def publish(
    platform: Platform,
    key: str,
    comment: str,
    inline: Sequence[InlineComment],
    sarif: str | None,
    plan: PublishPlan,
    *,
    secrets: Sequence[str] = (),
) -> Published:
    """Run the platform actions the plan asks for. Actions that were skipped or failed for the same
    reason become one notice naming them all, so a fork's read-only token is said once.

    The one catch-all for platforms: an action that raises is a failed outcome (its message with
    `secrets` starred), whatever it raised, so a bug in a platform or a surprise from its client
    library never fails the build nor hides the policy's verdict.
    """
    lines: list[str] = []
    missed: dict[tuple[str, str], list[str]] = {}  # (action, detail) -> what
    url = None

    def outcome(what: str, action: str, detail: str, line: str) -> None:
        if action in ("skipped", "failed"):
            missed.setdefault((action, detail), []).append(what)
        else:
            lines.append(line)

    def guarded(action: Callable[[], Outcome]) -> Outcome:
        try:
            return action()
        except Exception as exc:
            return Outcome(action="failed", detail=unexpected(exc, secrets))

    def guarded_inline() -> InlineOutcome:
        try:
            return platform.sync_inline(key, inline)
        except Exception as exc:
            return InlineOutcome(action="failed", detail=unexpected(exc, secrets))

    if plan.comment:
        done = guarded(lambda: platform.upsert_comment(key, comment))
        url = done.url
        outcome("summary comment", done.action, done.detail, done.line("summary comment"))
    if plan.inline:
        synced = guarded_inline()
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
            uploaded = guarded(lambda: platform.upload_sarif(sarif))
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


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishedFixes:
    """What `publish_fixes` did: each fix request's outcome by branch, one line per request that went
    through, and the notices for the rest (requests skipped or failed for one reason, said once).
    """

    outcomes: Mapping[str, Outcome] = field(default_factory=dict)
    lines: tuple[str, ...] = ()
    notices: tuple[Notice, ...] = ()


def publish_fixes(
    platform: Platform, requests: Sequence[ChangeRequest], *, max_open: int, secrets: Sequence[str] = ()
) -> PublishedFixes:
    """Propose each change through the platform. The catch-all of `publish` holds here too: whatever
    a platform raises is a failed outcome with its message (secrets starred), never a crash.
    """
    outcomes: dict[str, Outcome] = {}
    lines: list[str] = []
    missed: dict[tuple[str, str], list[str]] = {}
    for request in requests:
        try:
            done = platform.propose_change(request, max_open=max_open)
        except Exception as exc:
            done = Outcome(action="failed", detail=unexpected(exc, secrets))
        outcomes[request.branch] = done
        if done.action in ("skipped", "failed"):
            missed.setdefault((done.action, done.detail), []).append(request.branch)
        else:
            lines.append(done.line(f"fix pull request {request.branch}"))
    notices = tuple(
        Notice(
            level="warning" if action == "failed" else "notice",
            subject=f"fix pull request{'s' if len(branches) > 1 else ''} {_joined(branches)} {action}",
            detail=detail,
        )
        for (action, detail), branches in missed.items()
    )
    return PublishedFixes(outcomes=outcomes, lines=tuple(lines), notices=notices)


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
    repository: str | None = None,
    access: RegistryAccess | None = None,
    signer: Signer | None = None,
) -> list[str]:
    """Update the vulnerability database when it is missing or older than `max_age_hours`, so a CI
    step needs no separate `db update`. With a cache restored from a run of the same day nothing is
    downloaded. A failed update raises only when there is no database to fall back on.

    With a `repository` (the organisation's database, built once and pushed with `db push`), the
    database is pulled from there instead, on every run: one HEAD request when the live database is
    the one the tag names, the whole artifact when it changed (`dbartifact.artifact.pull`).
    """
    from ci_security.vulndb.store import VulnDB, VulnDbError, default_db_path
    from ci_security.vulndb.sync import DEFAULT_MIRROR, update

    path = db_path or default_db_path()
    if repository:
        return _pull_database(repository, path, access, signer, sleep)
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


def _pull_database(
    repository: str,
    path: Path,
    access: RegistryAccess | None,
    signer: Signer | None,
    sleep: Callable[[float], None],
) -> list[str]:
    from ci_security.dbartifact.artifact import RegistryAccess, pull
    from ci_security.errors import CiSecurityError

    try:
        pulled = pull(repository, path, access or RegistryAccess(), signer=signer, sleep=sleep)
    except CiSecurityError as exc:
        # The live database is untouched by a failed pull: it is what the scan can still use.
        if path.is_file():
            return [f"warning: database pull failed, scanning with the existing database: {exc}"]
        raise
    lines = [f"warning: {warning}" for warning in pulled.warnings]
    source = f"{pulled.reference}@{pulled.digest}"
    if pulled.status == "current":
        lines.append(f"database {path} is current ({source}, built {pulled.built or 'at an unknown time'})")
    else:
        lines.append(f"database {path} pulled from {source} (built {pulled.built or 'at an unknown time'})")
    return lines
