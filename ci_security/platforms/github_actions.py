"""The CI step on GitHub Actions: what it writes and prints besides the pull-request comments
(`github.py`).

- Reports: JSON, Markdown and SARIF in the report directory.
- Secrets: `::add-mask::` for each before anything else is printed, so the runner hides them in the
  rest of the log.
- The reports printed to the log are fenced with `::stop-commands::` and a resume token nobody can
  guess: the runner ignores any workflow command inside, whatever got past `sanitize.log_output`.
- Annotations: at most `MAX_ANNOTATIONS` `::error` (findings that fail the policy) and as many
  `::warning` (other open findings), most severe first, because GitHub shows only 10 of each per
  step.
- The job summary: the Markdown report in `$GITHUB_STEP_SUMMARY`, cut at a line boundary below
  GitHub's 1 MiB per step.
- Outputs: `name=value` lines in `$GITHUB_OUTPUT` (the heredoc form for multi-line values).
- Notices: one `::notice` or `::warning` workflow command each, an annotation on the run's page.

The run is GitHub Actions when `GITHUB_ACTIONS=true`. The event payload at `GITHUB_EVENT_PATH` says
whether this is a pull request (`pull_request`, `pull_request_target`) and gives its number, head and
base commits, and whether the head repository is a fork: a fork's `pull_request` run gets a read-only
`GITHUB_TOKEN`, so writes are skipped up front (`github.read_only_reason`). `GITHUB_SHA` is the merge
commit on a pull request; code scanning wants it with `refs/pull/N/merge`. The token is
`CI_SECURITY_GITHUB_TOKEN`, else `GITHUB_TOKEN`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from secrets import token_hex
from typing import Any, ClassVar

from ci_security import sanitize
from ci_security.errors import UsageError
from ci_security.platforms.base import COMMON_REPORTS, Annotation, Notice, Platform
from ci_security.platforms.context import CiContext
from ci_security.report.write import append_text

PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target"})
MAX_ANNOTATIONS = 10
MAX_SUMMARY_BYTES = 1_000_000  # GitHub refuses a step summary over 1 MiB


def command(note: Annotation) -> str:
    """The workflow command for one annotation."""
    return sanitize.workflow_command(
        note.level, note.message, file=note.path, line=note.line or None, title=note.title
    )


def capped(candidates: Sequence[Annotation], limit: int = MAX_ANNOTATIONS) -> list[Annotation]:
    """The first `limit` errors, then the first `limit` warnings, of `candidates`."""
    errors = [n for n in candidates if n.level == "error"][:limit]
    warnings = [n for n in candidates if n.level == "warning"][:limit]
    return errors + warnings


def github_output(values: Mapping[str, str]) -> str:
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


def _event(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"GITHUB_EVENT_PATH {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"GITHUB_EVENT_PATH {path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"GITHUB_EVENT_PATH {path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise UsageError(f"GITHUB_EVENT_PATH {path}: not a JSON object")
    return data


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def github_context(env: Mapping[str, str]) -> CiContext:
    """The GitHub Actions run `env` describes (see the module docstring)."""
    repository = env.get("GITHUB_REPOSITORY", "")
    event_name = env.get("GITHUB_EVENT_NAME", "")
    event = _event(env["GITHUB_EVENT_PATH"]) if env.get("GITHUB_EVENT_PATH") else {}
    pull = event.get("pull_request") if event_name in PULL_REQUEST_EVENTS else None
    change = head = base = None
    fork = False
    if isinstance(pull, dict) and isinstance(pull.get("number"), int):
        change = pull["number"]
        head = _dig(pull, "head", "sha")
        base = _dig(pull, "base", "sha")
        head_repo = _dig(pull, "head", "repo", "full_name")
        fork = bool(_dig(pull, "head", "repo", "fork")) or (bool(head_repo) and head_repo != repository)
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    run = env.get("GITHUB_RUN_ID", "")
    sha = env.get("GITHUB_SHA", "")
    return CiContext(
        platform="github",
        api_url=env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
        repository=repository,
        change=change,
        head_sha=str(head or sha),
        base_sha=str(base or ""),
        sha=sha,
        ref=env.get("GITHUB_REF", "") or (f"refs/pull/{change}/merge" if change else ""),
        event=event_name,
        fork=fork,
        job_url=f"{server}/{repository}/actions/runs/{run}" if repository and run else "",
        summary_path=Path(env["GITHUB_STEP_SUMMARY"]) if env.get("GITHUB_STEP_SUMMARY") else None,
        output_path=Path(env["GITHUB_OUTPUT"]) if env.get("GITHUB_OUTPUT") else None,
        token=env.get("CI_SECURITY_GITHUB_TOKEN") or env.get("GITHUB_TOKEN", ""),
    )


class GitHubActions:
    """GitHub Actions' step surface."""

    name: ClassVar[str] = "github"
    reports: ClassVar[Mapping[str, str]] = {**COMMON_REPORTS, "sarif": "ci-security.sarif"}

    def detect(self, env: Mapping[str, str]) -> CiContext | None:
        return github_context(env) if env.get("GITHUB_ACTIONS") == "true" else None

    def masks(self, secrets: Sequence[str]) -> list[str]:
        return [sanitize.workflow_command("add-mask", secret) for secret in secrets]

    def fence(self) -> tuple[str, str] | None:
        resume = token_hex(16)
        return f"::stop-commands::{resume}", f"::{resume}::"

    def annotations(self, candidates: Sequence[Annotation]) -> list[str]:
        return [command(note) for note in capped(candidates)]

    def write_summary(self, context: CiContext, markdown: str) -> None:
        if context.summary_path is not None:
            append_text(context.summary_path, step_summary(markdown, context.job_url))

    def write_outputs(self, context: CiContext, values: Mapping[str, str]) -> None:
        if context.output_path is not None:
            append_text(context.output_path, github_output(values))

    def notice_lines(self, notices: Sequence[Notice], *, now: int) -> list[str]:
        return [
            sanitize.workflow_command(notice.level, notice.detail, title=f"ci-security: {notice.subject}")
            for notice in notices
        ]

    def platform(self, context: CiContext) -> Platform | None:
        from ci_security.platforms.github import GitHubPlatform  # PyGithub only when commenting

        return GitHubPlatform(context)
