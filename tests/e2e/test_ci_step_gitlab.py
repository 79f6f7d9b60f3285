"""End to end on GitLab CI: `entrypoint.py` runs as its own process with the environment a
merge-request pipeline sets, against the GitLab stand-in on 127.0.0.1. It scans a real image archive
and the repository's manifests, writes the reports GitLab ingests, keeps one MR note, opens
discussions only on lines of the MR's diff, and exits by the policy. What it could not do is one
collapsed log section; a branch pipeline says nothing about comments."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from testkit.apps import build_app, import_app_db
from testkit.codequality import check_code_quality
from testkit.gitlab_report import check_container_scanning_15
from testkit.gitlab_standin import GitLabStandIn, merge_request_setup
from testkit.report_schema import load_report

from ci_security.platforms.base import marker

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = marker("registry.example.com/shop/app")  # one comment per image name
TOKEN = "glpat-e2e-secret-token"
DOCKERFILE = 'FROM python:3.12\nUSER root\nCMD ["app"]\n'  # the stand-in's default MR diff adds these lines
DEPLOYMENT = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
    - name: app
      image: registry.example.com/shop/app:1.0
      securityContext:
        privileged: true
"""


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, Path]:
    repo = tmp_path / "repo"
    (repo / "k8s").mkdir(parents=True)
    (repo / "Dockerfile").write_text(DOCKERFILE)
    (repo / "k8s" / "pod.yaml").write_text(DEPLOYMENT)
    return {
        "repo": repo,
        "image": build_app(tmp_path / "app.tar", tag="registry.example.com/shop/app:1.0"),
        "db": import_app_db(tmp_path / "osv.sqlite"),
        "cache": tmp_path / "xdg",
    }


def _run(server: GitLabStandIn, workspace: dict[str, Path], **extra: str) -> subprocess.CompletedProcess[str]:
    mr = server.merge_requests[(5, 7)]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(workspace["cache"]),
        "XDG_CACHE_HOME": str(workspace["cache"]),
        "GITLAB_CI": "true",
        "CI_API_V4_URL": server.api_url,
        "CI_SERVER_URL": server.url,
        "CI_PROJECT_ID": "5",
        "CI_PROJECT_PATH": "acme/shop",
        "CI_PROJECT_DIR": str(workspace["repo"]),
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": "7",
        "CI_MERGE_REQUEST_PROJECT_ID": "5",
        "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "5",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": mr.diff_refs["base_sha"],
        "CI_COMMIT_SHA": mr.diff_refs["head_sha"],
        "CI_COMMIT_REF_NAME": "feature",
        "CI_JOB_URL": f"{server.url}/acme/shop/-/jobs/11",
        "CI_JOB_TOKEN": "job-token-that-cannot-post-notes",
        "CI_SECURITY_GITLAB_TOKEN": TOKEN,
        "CI_SECURITY_IMAGE": f"docker-archive:{workspace['image']}",
        "CI_SECURITY_MANIFESTS": str(workspace["repo"]),
        "CI_SECURITY_DB": str(workspace["db"]),
        "CI_SECURITY_DB_MAX_AGE": "100000d",
        **extra,
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "entrypoint.py")],
        cwd=workspace["repo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_merge_request_pipeline(workspace):
    repo = workspace["repo"]
    with GitLabStandIn() as server:
        ids = merge_request_setup(server, token=TOKEN)
        first = _run(server, workspace, CI_SECURITY_FAIL_ON="critical")
        assert first.returncode == 1, first.stderr  # K8S001: a privileged container is CRITICAL
        assert TOKEN not in first.stdout + first.stderr

        # The reports GitLab reads from `artifacts: reports:`, written in the project directory.
        assert (
            check_container_scanning_15(json.loads((repo / "gl-container-scanning-report.json").read_text()))
            == []
        )
        quality = json.loads((repo / "gl-code-quality-report.json").read_text())
        assert check_code_quality(quality) == []
        assert {(q["check_name"], q["location"]["path"]) for q in quality} >= {("K8S001", "k8s/pod.yaml")}
        report = load_report(repo / "ci-security.json")
        assert report["policy"]["result"] == "fail"
        assert (repo / "ci-security.md").read_text().startswith("## ❌ ci-security: failed")

        # One MR note by the token's user, with the summary and a link to the job.
        notes = [n for n in server.notes(5, 7) if SUMMARY in n["body"]]
        assert len(notes) == 1 and notes[0]["author"]["id"] == ids["bot"]
        assert "ci-security: failed" in notes[0]["body"] and "/-/jobs/11" in notes[0]["body"]
        assert "ci-security: summary comment created" in first.stderr

        # Discussions only for findings on lines the MR's diff shows: the Dockerfile, not k8s/pod.yaml.
        threads = [t for t in server.discussions(5, 7) if t["notes"][0].get("position")]
        paths = {t["notes"][0]["position"]["new_path"] for t in threads}
        assert paths == {"Dockerfile"}
        assert any("DF001" in t["notes"][0]["body"] for t in threads)
        assert "outside the diff, not sent" in first.stderr

        # The next push: still one note, no new discussion.
        second = _run(server, workspace, CI_SECURITY_FAIL_ON="critical")
        assert second.returncode == 1
        assert len([n for n in server.notes(5, 7) if SUMMARY in n["body"]]) == 1
        assert len([t for t in server.discussions(5, 7) if t["notes"][0].get("position")]) == len(threads)
        assert "ci-security: summary comment unchanged" in second.stderr
        assert "section_start" not in first.stdout + second.stdout  # nothing was skipped or failed


def test_without_a_token_the_step_still_reports_and_gates(workspace):
    repo = workspace["repo"]
    with GitLabStandIn() as server:
        merge_request_setup(server, token=TOKEN)
        done = _run(server, workspace, CI_SECURITY_GITLAB_TOKEN="", CI_SECURITY_FAIL_BUILD="false")
        assert done.returncode == 0, done.stderr  # --no-fail-build: the failing policy only warns
        assert "the policy failed, but --no-fail-build is set" in done.stderr
        # One collapsed section: its header says what was skipped, its body why. (The section
        # markers end in a carriage return, which text mode reads as a newline.)
        sections = re.findall(
            r"\x1b\[0Ksection_start:\d+:(ci_security_notice_\d+)\[collapsed=true\]\n\x1b\[0K([^\n]*)\n"
            r"([^\n]*)\n\x1b\[0Ksection_end:\d+:\1\n\x1b\[0K",
            done.stdout,
        )
        assert [(header, body) for _, header, body in sections] == [
            (
                "ci-security: summary comment and inline comments skipped",
                "no token (CI_SECURITY_GITLAB_TOKEN is not set)",
            )
        ]
        assert "skipped" not in done.stderr
        assert server.writes() == []
        assert (repo / "gl-container-scanning-report.json").is_file()


def test_a_branch_pipeline_says_nothing_about_comments(workspace):
    with GitLabStandIn() as server:
        merge_request_setup(server, token=TOKEN)
        done = _run(
            server,
            workspace,
            CI_PIPELINE_SOURCE="push",
            CI_MERGE_REQUEST_IID="",
            CI_MERGE_REQUEST_PROJECT_ID="",
            CI_MERGE_REQUEST_SOURCE_PROJECT_ID="",
        )
        assert done.returncode == 1
        assert "comment" not in (done.stdout + done.stderr).lower() and "section_start" not in done.stdout
        assert server.writes() == []
