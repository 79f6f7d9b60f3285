"""Reading the CI environment: each registered CI system detects its own runs (GitHub pull requests,
own branch and fork, and pushes; GitLab merge requests, own and fork), anywhere else is local; bad
event files, and tokens kept out of repr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci_security.errors import UsageError
from ci_security.platforms import github, gitlab
from ci_security.platforms.registry import SURFACES, detect


def _event(tmp_path: Path, *, fork: bool) -> Path:
    head_repo = "someone/app" if fork else "acme/app"
    event = {
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {"sha": "a" * 40, "ref": "feature", "repo": {"full_name": head_repo, "fork": fork}},
            "base": {"sha": "b" * 40, "ref": "main", "repo": {"full_name": "acme/app", "fork": False}},
        },
        "repository": {"full_name": "acme/app"},
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return path


def _github_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": "http://127.0.0.1:9/api/v3/",
        "GITHUB_SERVER_URL": "https://github.example.com",
        "GITHUB_REPOSITORY": "acme/app",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_SHA": "c" * 40,
        "GITHUB_REF": "refs/pull/7/merge",
        "GITHUB_RUN_ID": "99",
        "GITHUB_WORKSPACE": str(tmp_path),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_TOKEN": "ghs_secret_token_value",
        **extra,
    }


def test_github_pull_request(tmp_path):
    context = detect(_github_env(tmp_path, GITHUB_EVENT_PATH=str(_event(tmp_path, fork=False))))
    assert context.platform == "github"
    assert context.api_url == "http://127.0.0.1:9/api/v3"
    assert (context.change, context.head_sha, context.base_sha, context.sha) == (
        7,
        "a" * 40,
        "b" * 40,
        "c" * 40,
    )
    assert context.ref == "refs/pull/7/merge" and not context.fork
    assert context.job_url == "https://github.example.com/acme/app/actions/runs/99"
    assert context.summary_path == tmp_path / "summary.md" and context.output_path == tmp_path / "output"
    assert github.read_only_reason(context) is None
    assert "ghs_secret_token_value" not in repr(context)


def test_github_fork_pull_request_is_read_only(tmp_path):
    context = detect(_github_env(tmp_path, GITHUB_EVENT_PATH=str(_event(tmp_path, fork=True))))
    assert context.fork
    assert github.read_only_reason(context) == "the token is read-only (pull request from a fork)"


def test_github_push_has_no_change_and_the_option_token_wins(tmp_path):
    env = _github_env(tmp_path, GITHUB_EVENT_NAME="push", GITHUB_REF="refs/heads/main")
    env["CI_SECURITY_GITHUB_TOKEN"] = "ghp_personal"
    context = detect(env)
    assert context.change is None and context.head_sha == "c" * 40 and context.ref == "refs/heads/main"
    assert context.token == "ghp_personal"


def test_github_without_token(tmp_path):
    env = _github_env(tmp_path, GITHUB_EVENT_PATH=str(_event(tmp_path, fork=False)))
    del env["GITHUB_TOKEN"]
    assert github.read_only_reason(detect(env)) == "no token (GITHUB_TOKEN is not set)"


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), ("{not json", "not JSON"), ("[1]", "not a JSON object")],
)
def test_a_bad_event_file_is_a_usage_error(tmp_path, content, message):
    path = tmp_path / "event.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsageError, match=message):
        detect(_github_env(tmp_path, GITHUB_EVENT_PATH=str(path)))


def _gitlab_env(**extra: str) -> dict[str, str]:
    return {
        "GITLAB_CI": "true",
        "CI_API_V4_URL": "http://127.0.0.1:9/api/v4",
        "CI_PROJECT_ID": "42",
        "CI_PROJECT_PATH": "acme/app",
        "CI_PROJECT_DIR": "/builds/acme/app",
        "CI_COMMIT_SHA": "d" * 40,
        "CI_COMMIT_REF_NAME": "feature",
        "CI_JOB_URL": "https://gitlab.example.com/acme/app/-/jobs/5",
        "CI_JOB_TOKEN": "job-token-never-used",
        **extra,
    }


def test_gitlab_merge_request():
    env = _gitlab_env(
        CI_PIPELINE_SOURCE="merge_request_event",
        CI_MERGE_REQUEST_IID="3",
        CI_MERGE_REQUEST_DIFF_BASE_SHA="e" * 40,
        CI_MERGE_REQUEST_PROJECT_ID="42",
        CI_MERGE_REQUEST_SOURCE_PROJECT_ID="42",
        CI_MERGE_REQUEST_REF_PATH="refs/merge-requests/3/head",
        CI_SECURITY_GITLAB_TOKEN="glpat-secret",
    )
    context = detect(env)
    assert context.platform == "gitlab" and context.project_id == "42" and context.repository == "acme/app"
    assert (context.change, context.head_sha, context.base_sha) == (3, "d" * 40, "e" * 40)
    assert context.ref == "refs/merge-requests/3/head" and not context.fork
    assert context.token == "glpat-secret" and "glpat-secret" not in repr(context)


def test_the_repository_root_is_the_ci_checkout(monkeypatch, tmp_path):
    # The scan reads it from the same variables (scan.repo_root), so the context does not carry it.
    from ci_security.scan import ScanOptions, repo_root

    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.setenv("CI_PROJECT_DIR", "/builds/acme/app")
    assert repo_root(ScanOptions(image=None)) == Path("/builds/acme/app")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    assert repo_root(ScanOptions(image=None)) == tmp_path


def test_gitlab_never_uses_the_job_token():
    context = detect(_gitlab_env(CI_MERGE_REQUEST_IID="3"))
    assert context.token == ""
    assert gitlab.read_only_reason(context) == "no token (CI_SECURITY_GITLAB_TOKEN is not set)"


def test_gitlab_fork_and_branch_pipelines():
    fork = detect(
        _gitlab_env(
            CI_MERGE_REQUEST_IID="3",
            CI_MERGE_REQUEST_PROJECT_ID="42",
            CI_MERGE_REQUEST_SOURCE_PROJECT_ID="77",
        )
    )
    assert fork.fork
    branch = detect(_gitlab_env())
    assert branch.change is None and branch.ref == "refs/heads/feature"


def test_anywhere_else_is_local():
    context = detect({"PATH": "/usr/bin"})
    assert context.platform == "local" and context.change is None


def test_each_ci_system_detects_only_its_own_runs(tmp_path):
    environments = {
        "github": _github_env(tmp_path, GITHUB_EVENT_PATH=str(_event(tmp_path, fork=False))),
        "gitlab": _gitlab_env(),
        "local": {"PATH": "/usr/bin"},
    }
    assert list(SURFACES)[-1] == "local"  # it claims every environment, so it is asked last
    for name, surface in SURFACES.items():
        for where, env in environments.items():
            context = surface.detect(env)
            if where == name or name == "local":
                assert context is not None and context.platform == name, (name, where)
            else:
                assert context is None, (name, where)
        assert detect(environments[name]).platform == name
