"""The CI step's surface on GitHub Actions: the reports it writes, masks, the stop-commands fence,
capped annotations, the job summary's size cap, the $GITHUB_OUTPUT format and notices as workflow
commands."""

from __future__ import annotations

from testkit.workflow import runner_commands

from ci_security.platforms.base import Annotation, Notice
from ci_security.platforms.context import CiContext
from ci_security.platforms.github_actions import (
    MAX_ANNOTATIONS,
    GitHubActions,
    capped,
    github_output,
    step_summary,
)

SURFACE = GitHubActions()


def test_reports():
    assert dict(SURFACE.reports) == {
        "json": "ci-security.json",
        "markdown": "ci-security.md",
        "sarif": "ci-security.sarif",
    }


def test_masks_and_fence():
    assert SURFACE.masks(["token-1-longer", "token-1"]) == [
        "::add-mask::token-1-longer",
        "::add-mask::token-1",
    ]
    start, end = SURFACE.fence() or ("", "")
    resume = start.removeprefix("::stop-commands::")
    assert len(resume) == 32 and end == f"::{resume}::"
    assert SURFACE.fence() != (start, end)  # a new token nobody can guess on every run


def _note(level: str, n: int) -> Annotation:
    return Annotation(level=level, path="Dockerfile", line=n, title=f"t{n}", message="m")  # type: ignore[arg-type]


def test_at_most_ten_of_each_kind_errors_first():
    candidates = [_note("warning", n) for n in range(1, 15)] + [_note("error", n) for n in range(1, 15)]
    shown = capped(candidates)
    assert [n.level for n in shown] == ["error"] * MAX_ANNOTATIONS + ["warning"] * MAX_ANNOTATIONS
    assert [n.line for n in shown[:2]] == [1, 2]  # in the order given (most severe first)
    assert len(SURFACE.annotations(candidates)) == 2 * MAX_ANNOTATIONS


def test_github_output_format(tmp_path):
    text = github_output({"a": "1", "b": "two\nlines ci_security_eof"})
    assert text == "a=1\nb<<ci_security_eof_\ntwo\nlines ci_security_eof\nci_security_eof_\n"
    context = CiContext(platform="github", output_path=tmp_path / "out", summary_path=tmp_path / "sum")
    SURFACE.write_outputs(context, {"a": "1"})
    SURFACE.write_summary(context, "## ok")
    assert (tmp_path / "out").read_text() == "a=1\n" and (tmp_path / "sum").read_text() == "## ok\n"
    SURFACE.write_outputs(CiContext(platform="github"), {"a": "1"})  # no $GITHUB_OUTPUT: nothing to do


def test_step_summary_is_cut_at_a_line_below_the_limit():
    markdown = "".join(f"| row {n} |\n" for n in range(1000))
    cut = step_summary(markdown, "https://ci/job/1", limit=500)
    assert len(cut.encode()) <= 500
    assert cut.endswith("…truncated: the full report is in the job's artifacts (https://ci/job/1).\n")
    assert "| row 0 |\n" in cut and "| row 999 |" not in cut
    assert step_summary("short\n", "", limit=500) == "short\n"


def test_notices_are_workflow_commands():
    notices = [
        Notice(
            level="notice", subject="summary comment skipped", detail="no token (GITHUB_TOKEN is not set)"
        ),
        Notice(level="warning", subject="SARIF upload failed", detail="500 boom\n::error::x"),
    ]
    github = SURFACE.notice_lines(notices, now=1700000000)
    assert [runner_commands(line) for line in github] == [
        [("notice", {"title": "ci-security: summary comment skipped"}, "no token (GITHUB_TOKEN is not set)")],
        [("warning", {"title": "ci-security: SARIF upload failed"}, "500 boom\n::error::x")],
    ]
