"""The CI step on GitLab CI: what it writes and prints besides the merge-request notes
(`gitlab.py`).

- Reports: JSON and Markdown, the container-scanning report and the Code Quality report (for the
  job's `artifacts: reports:`; GitLab shows findings in the merge request from those, so there are
  no annotations).
- Secrets: GitLab masks the CI/CD variables marked masked itself; its log has no masking command.
- The log has no workflow commands to fence; what is printed is made safe by `sanitize.log_output`.
- No job summary and no step outputs (GitLab passes values between jobs through dotenv artifacts,
  which a pipeline declares itself).
- Notices: one collapsed log section each, its header saying what and its body why.

The run is GitLab CI when `GITLAB_CI=true`. `CI_MERGE_REQUEST_IID` is set only in merge-request
pipelines; a merge request from a fork has `CI_MERGE_REQUEST_SOURCE_PROJECT_ID` different from
`CI_MERGE_REQUEST_PROJECT_ID`. The token is `CI_SECURITY_GITLAB_TOKEN`: `CI_JOB_TOKEN` cannot post
merge-request notes (GitLab answers 401), so it is never used for writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from ci_security import sanitize
from ci_security.platforms.base import COMMON_REPORTS, Annotation, Notice, Platform
from ci_security.platforms.context import CiContext


def gitlab_context(env: Mapping[str, str]) -> CiContext:
    """The GitLab CI run `env` describes (see the module docstring)."""
    iid = env.get("CI_MERGE_REQUEST_IID", "")
    source = env.get("CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "")
    target = env.get("CI_MERGE_REQUEST_PROJECT_ID", "") or env.get("CI_PROJECT_ID", "")
    sha = env.get("CI_COMMIT_SHA", "")
    ref = env.get("CI_MERGE_REQUEST_REF_PATH") or (
        f"refs/heads/{env['CI_COMMIT_REF_NAME']}" if env.get("CI_COMMIT_REF_NAME") else ""
    )
    return CiContext(
        platform="gitlab",
        api_url=env.get("CI_API_V4_URL", "").rstrip("/"),
        repository=env.get("CI_PROJECT_PATH", ""),
        # A fork's merge-request pipeline may run in the parent project; the merge request (and its
        # iid) belongs to CI_MERGE_REQUEST_PROJECT_ID, which can differ from the fork's CI_PROJECT_ID.
        project_id=env.get("CI_MERGE_REQUEST_PROJECT_ID") or env.get("CI_PROJECT_ID", ""),
        change=int(iid) if iid.isdigit() else None,
        head_sha=sha,
        base_sha=env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA", ""),
        sha=sha,
        ref=ref,
        event=env.get("CI_PIPELINE_SOURCE", ""),
        fork=bool(source and target and source != target),
        job_url=env.get("CI_JOB_URL", ""),
        token=env.get("CI_SECURITY_GITLAB_TOKEN", ""),
    )


class GitLabCi:
    """GitLab CI's step surface."""

    name: ClassVar[str] = "gitlab"
    reports: ClassVar[Mapping[str, str]] = {
        **COMMON_REPORTS,
        "gitlab": "gl-container-scanning-report.json",
        "codequality": "gl-code-quality-report.json",
    }

    def detect(self, env: Mapping[str, str]) -> CiContext | None:
        return gitlab_context(env) if env.get("GITLAB_CI") == "true" else None

    def masks(self, secrets: Sequence[str]) -> list[str]:
        return []

    def fence(self) -> tuple[str, str] | None:
        return None

    def annotations(self, candidates: Sequence[Annotation]) -> list[str]:
        return []

    def write_summary(self, context: CiContext, markdown: str) -> None:
        return None

    def write_outputs(self, context: CiContext, values: Mapping[str, str]) -> None:
        return None

    def notice_lines(self, notices: Sequence[Notice], *, now: int) -> list[str]:
        out: list[str] = []
        for number, notice in enumerate(notices, 1):
            name = f"ci_security_notice_{number}"
            header = sanitize.log_line(f"ci-security: {notice.subject}")
            out += [
                f"\x1b[0Ksection_start:{now}:{name}[collapsed=true]\r\x1b[0K{header}",
                sanitize.log_line(notice.detail or "(no detail)"),
                f"\x1b[0Ksection_end:{now}:{name}\r\x1b[0K",
            ]
        return out

    def platform(self, context: CiContext) -> Platform | None:
        from ci_security.platforms.gitlab import GitLabPlatform  # python-gitlab only when commenting

        return GitLabPlatform(context)
