"""End to end on GitHub Actions: `entrypoint.py` runs as its own process with the environment the
runner sets for a `pull_request` event (event JSON, $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, INPUT_*
variables of a container action), against the GitHub stand-in on 127.0.0.1, which validates every
request against GitHub's OpenAPI description. Checked: the step's outputs, the job summary, the
annotations, one sticky comment (edited, not duplicated, on the next push), inline comments only on
lines of the diff, the SARIF upload, a fork's read-only token, and the exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from report.test_sarif import validate as validate_sarif
from testkit.apps import build_app, import_app_db
from testkit.github_standin import GitHubStandIn, PullFile

from ci_security.platforms.base import marker

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = marker("ghcr.io/octo-org/app")
DOCKERFILE = 'FROM python:3.12\nUSER root\nCMD ["app"]\n'
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
    - name: app
      image: ghcr.io/octo-org/app:1.0
      securityContext:
        privileged: true
"""
PATCH = '@@ -0,0 +1,3 @@\n+FROM python:3.12\n+USER root\n+CMD ["app"]'


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, Path]:
    repo = tmp_path / "repo"
    (repo / "k8s").mkdir(parents=True)
    (repo / "Dockerfile").write_text(DOCKERFILE)
    (repo / "k8s" / "pod.yaml").write_text(POD)
    return {
        "tmp": tmp_path,
        "repo": repo,
        "image": build_app(tmp_path / "app.tar", tag="ghcr.io/octo-org/app:1.0"),
        "db": import_app_db(tmp_path / "osv.sqlite"),
    }


def _event(workspace: dict[str, Path], server: GitHubStandIn, *, fork: bool) -> Path:
    pull = server.pulls[7]
    head_repo = "someone/app" if fork else server.repository
    event = {
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {"sha": pull.head_sha, "ref": "feature", "repo": {"full_name": head_repo, "fork": fork}},
            "base": {
                "sha": pull.base_sha,
                "ref": "main",
                "repo": {"full_name": server.repository, "fork": False},
            },
        },
    }
    path = workspace["tmp"] / "event.json"
    path.write_text(json.dumps(event))
    return path


def _run(server: GitHubStandIn, workspace: dict[str, Path], *, fork: bool = False, **extra: str):
    tmp = workspace["tmp"]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp),
        "XDG_CACHE_HOME": str(tmp / "xdg"),
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": server.url,
        "GITHUB_SERVER_URL": "https://github.example.com",
        "GITHUB_REPOSITORY": server.repository,
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(_event(workspace, server, fork=fork)),
        "GITHUB_SHA": "f" * 40,
        "GITHUB_REF": "refs/pull/7/merge",
        "GITHUB_RUN_ID": "1234",
        "GITHUB_WORKSPACE": str(workspace["repo"]),
        "GITHUB_OUTPUT": str(tmp / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"),
        # A container action's inputs, as the runner passes them; entrypoint.py maps them.
        "INPUT_IMAGE-REF": f"docker-archive:{workspace['image']}",
        "INPUT_MANIFESTS": ".",
        "INPUT_GITHUB-TOKEN": server.token,
        "INPUT_UPLOAD-SARIF": "true",
        "INPUT_SEVERITY": "critical",
        "CI_SECURITY_DB": str(workspace["db"]),
        "CI_SECURITY_DB_MAX_AGE": "100000d",
        **extra,
    }
    for path in (tmp / "output", tmp / "summary.md"):
        path.write_text("")
    return subprocess.run(
        [sys.executable, str(ROOT / "entrypoint.py")],
        cwd=workspace["repo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_a_pull_request_run(workspace):
    tmp, repo = workspace["tmp"], workspace["repo"]
    with GitHubStandIn() as server:
        server.add_pull(7, files=[PullFile("Dockerfile", PATCH, status="added")])
        first = _run(server, workspace)
        assert first.returncode == 1, first.stderr  # the privileged pod is CRITICAL
        assert server.token not in first.stdout.replace(f"::add-mask::{server.token}", "") + first.stderr

        outputs = _outputs(tmp / "output")
        assert (
            outputs["result"] == "fail" and int(outputs["violations"]) >= 1 and int(outputs["critical"]) >= 1
        )
        assert outputs["sarif-file"] == "ci-security.sarif" and outputs["json-file"] == "ci-security.json"
        assert outputs["comment-url"].startswith("https://")
        summary = (tmp / "summary.md").read_text()
        assert summary.startswith("## ❌ ci-security: failed") and "```mermaid" in summary

        # Annotations: the failing finding as an error, anchored to its file and line.
        errors = [line for line in first.stdout.splitlines() if line.startswith("::error ")]
        assert any("file=k8s/pod.yaml,line=11" in line and "K8S001" in line for line in errors)
        assert len(errors) <= 10
        assert f"::add-mask::{server.token}" in first.stdout

        validate_sarif((repo / "ci-security.sarif").read_text())
        (upload,) = server.sarif_uploads
        assert upload["commit_sha"] == "f" * 40 and upload["ref"] == "refs/pull/7/merge"
        assert {run["automationDetails"]["id"] for run in upload["document"]["runs"]} == {
            "ci-security/image/ghcr.io/octo-org/app/linux-amd64/",
            "ci-security/manifests/",
        }

        comments = [c for c in server.issue_comments(7) if SUMMARY in c["body"]]
        assert len(comments) == 1 and "ci-security: failed" in comments[0]["body"]
        assert "actions/runs/1234" in comments[0]["body"]
        inline = server.review_comments(7)
        assert inline and {c["path"] for c in inline} == {"Dockerfile"}  # k8s/pod.yaml is not in the diff
        assert all(c["line"] in (1, 2, 3) for c in inline)
        assert "outside the diff, not sent" in first.stderr

        second = _run(server, workspace)
        assert second.returncode == 1
        assert len([c for c in server.issue_comments(7) if SUMMARY in c["body"]]) == 1
        assert len(server.review_comments(7)) == len(inline)


def test_a_fork_pull_request_gets_the_summary_and_the_exit_code_but_no_writes(workspace):
    tmp = workspace["tmp"]
    with GitHubStandIn() as server:
        server.add_pull(7, files=[PullFile("Dockerfile", PATCH, status="added")])
        done = _run(server, workspace, fork=True)
        assert done.returncode == 1
        assert "read-only (pull request from a fork)" in done.stderr
        assert (
            server.issue_comments(7) == [] and server.review_comments(7) == [] and server.sarif_uploads == []
        )
        assert not [r for r in server.requests if r.method != "GET"]
        assert (tmp / "summary.md").read_text().startswith("## ❌ ci-security: failed")
        assert _outputs(tmp / "output")["result"] == "fail"


def test_a_passing_run_exits_0_and_a_failing_api_never_changes_that(workspace):
    with GitHubStandIn() as server:
        server.add_pull(7, files=[PullFile("Dockerfile", PATCH, status="added")])
        server.fail("POST", r".*/issues/7/comments", 500, times=10)
        done = _run(server, workspace, **{"INPUT_SEVERITY": "none"})
        assert done.returncode == 0, done.stderr
        assert "comment failed" in done.stderr
        assert _outputs(workspace["tmp"] / "output")["result"] == "pass"
