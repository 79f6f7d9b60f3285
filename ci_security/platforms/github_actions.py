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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from secrets import token_hex
from typing import ClassVar

from ci_security import sanitize
from ci_security.platforms.base import COMMON_REPORTS, Annotation, Notice, Platform
from ci_security.platforms.context import CiContext
from ci_security.report.write import append_text

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


class GitHubActions:
    """GitHub Actions' step surface."""

    name: ClassVar[str] = "github"
    reports: ClassVar[Mapping[str, str]] = {**COMMON_REPORTS, "sarif": "ci-security.sarif"}

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
