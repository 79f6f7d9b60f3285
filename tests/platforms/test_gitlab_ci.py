"""The CI step's surface on GitLab CI: the report artifacts, notices as collapsed log sections, and
nothing GitLab has no place for (masks, a fence, annotations, a job summary, step outputs)."""

from __future__ import annotations

from ci_security.platforms.base import Annotation, Notice
from ci_security.platforms.context import CiContext
from ci_security.platforms.gitlab_ci import GitLabCi

SURFACE = GitLabCi()


def test_reports():
    assert dict(SURFACE.reports) == {
        "json": "ci-security.json",
        "markdown": "ci-security.md",
        "gitlab": "gl-container-scanning-report.json",
        "codequality": "gl-code-quality-report.json",
    }


def test_nothing_else_is_printed_or_written(tmp_path):
    note = Annotation(level="error", path="Dockerfile", line=1, title="t", message="m")
    assert SURFACE.masks(["a-secret"]) == [] and SURFACE.fence() is None
    assert SURFACE.annotations([note]) == []
    context = CiContext(platform="gitlab", output_path=tmp_path / "out", summary_path=tmp_path / "sum")
    SURFACE.write_outputs(context, {"a": "1"})
    SURFACE.write_summary(context, "## ok")
    assert list(tmp_path.iterdir()) == []


def test_notices_are_collapsed_sections():
    notice = Notice(level="warning", subject="SARIF upload failed", detail="500 boom\n::error::x")
    assert SURFACE.notice_lines([notice], now=1700000000) == [
        "\x1b[0Ksection_start:1700000000:ci_security_notice_1[collapsed=true]\r\x1b[0K"
        "ci-security: SARIF upload failed",
        "500 boom\\n::error::x",
        "\x1b[0Ksection_end:1700000000:ci_security_notice_1\r\x1b[0K",
    ]
