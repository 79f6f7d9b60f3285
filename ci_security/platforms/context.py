"""Where the CI step runs: GitHub Actions, GitLab CI, or a developer's machine, read from the
environment each CI system sets (DESIGN.md "CI environment").

GitHub Actions (`GITHUB_ACTIONS=true`): the event payload at `GITHUB_EVENT_PATH` says whether this is
a pull request (`pull_request`, `pull_request_target`) and gives its number, head and base commits,
and whether the head repository is a fork: a fork's `pull_request` run gets a read-only
`GITHUB_TOKEN`, so writes are skipped up front. `GITHUB_SHA` is the merge commit on a pull request;
code scanning wants it with `refs/pull/N/merge`. The token is `CI_SECURITY_GITHUB_TOKEN`, else
`GITHUB_TOKEN`.

GitLab CI (`GITLAB_CI=true`): `CI_MERGE_REQUEST_IID` is set only in merge-request pipelines; a
merge request from a fork has `CI_MERGE_REQUEST_SOURCE_PROJECT_ID` different from
`CI_MERGE_REQUEST_PROJECT_ID`. The token is `CI_SECURITY_GITLAB_TOKEN`: `CI_JOB_TOKEN` cannot post
merge-request notes (GitLab answers 401), so it is never used for writes.

API base URLs always come from these variables (`GITHUB_API_URL`, `CI_API_V4_URL`), so GitHub
Enterprise, self-managed GitLab and the tests' local stand-ins work the same way. The token is kept
out of `repr` so it cannot reach a log by accident.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ci_security.errors import UsageError

PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target"})
# Where the step runs: a CI system ci-security publishes to, or anywhere else.
PlatformName = Literal["github", "gitlab", "local"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CiContext:
    """The CI run the step is part of."""

    platform: PlatformName
    api_url: str = ""
    repository: str = ""  # owner/name on GitHub, group/project path on GitLab
    project_id: str = ""  # GitLab's numeric project id
    change: int | None = None  # pull request number or merge request iid
    head_sha: str = ""  # the commit under review (the PR's head, not GitHub's merge commit)
    base_sha: str = ""
    sha: str = ""  # the commit the job checked out (GitHub: the merge commit on a PR)
    ref: str = ""  # refs/pull/N/merge, refs/heads/main, …
    event: str = ""
    fork: bool = False
    job_url: str = ""
    summary_path: Path | None = None  # $GITHUB_STEP_SUMMARY
    output_path: Path | None = None  # $GITHUB_OUTPUT
    token: str = field(default="", repr=False)

    @property
    def has_change(self) -> bool:
        return self.change is not None

    @property
    def read_only_reason(self) -> str | None:
        """Why writes cannot work here, or None when they might."""
        if not self.token:
            variable = "CI_SECURITY_GITLAB_TOKEN" if self.platform == "gitlab" else "GITHUB_TOKEN"
            return f"no token ({variable} is not set)"
        if self.fork and self.platform == "github" and self.event == "pull_request":
            return "the token is read-only (pull request from a fork)"
        return None


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


def _github(env: Mapping[str, str]) -> CiContext:
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


def _gitlab(env: Mapping[str, str]) -> CiContext:
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


def detect(env: Mapping[str, str] | None = None) -> CiContext:
    """The CI context from `env` (the process environment by default)."""
    env = os.environ if env is None else env
    if env.get("GITHUB_ACTIONS") == "true":
        return _github(env)
    if env.get("GITLAB_CI") == "true":
        return _gitlab(env)
    return CiContext(platform="local")
