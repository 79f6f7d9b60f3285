"""End to end on GitHub Actions: `entrypoint.py` runs as its own process with the environment the
runner sets for a `pull_request` event (event JSON, $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, INPUT_*
variables of a container action), against the GitHub stand-in on 127.0.0.1, which validates every
request against GitHub's OpenAPI description. Checked: the step's outputs, the job summary, the
annotations, one sticky comment (edited, not duplicated, on the next push; not edited at all when
only the job link would change), ids linked in it, inline comments only on lines of the diff, the
SARIF upload, a fork's read-only token said once as one `::notice`, a push build that says nothing
about comments, a failing API as one `::warning`, the job log's table capped at 50 rows inside a
stop-commands fence, and the exit code."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from testkit.apps import build_app, import_app_db
from testkit.github_standin import GitHubStandIn, PullFile
from testkit.report_schema import load_report
from testkit.sarif import validate as validate_sarif

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


def _run(
    server: GitHubStandIn,
    workspace: dict[str, Path],
    *,
    fork: bool = False,
    event: str = "pull_request",
    run_id: str = "1234",
    **extra: str,
):
    tmp = workspace["tmp"]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp),
        "XDG_CACHE_HOME": str(tmp / "xdg"),
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": server.url,
        "GITHUB_SERVER_URL": "https://github.example.com",
        "GITHUB_REPOSITORY": server.repository,
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(_event(workspace, server, fork=fork)),
        "GITHUB_SHA": "f" * 40,
        "GITHUB_REF": "refs/pull/7/merge" if event == "pull_request" else "refs/heads/main",
        "GITHUB_RUN_ID": run_id,
        "GITHUB_WORKSPACE": str(workspace["repo"]),
        "GITHUB_OUTPUT": str(tmp / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"),
        # A container action's inputs, as the runner passes them; entrypoint.py maps them.
        "INPUT_IMAGE-REF": f"docker-archive:{workspace['image']}",
        "INPUT_MANIFESTS": ".",
        "INPUT_GITHUB-TOKEN": server.token,
        "INPUT_UPLOAD-SARIF": "true",
        "INPUT_SEVERITY": "critical",
        "CI_SECURITY_DOCS_URL": "https://docs.example/ci-security/docs",
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


def _commands(stdout: str) -> list[str]:
    """The workflow commands of a step's log, as the runner reads them: a line that starts with `::`
    after leading whitespace, outside a stop-commands fence.
    """
    found, resume = [], None
    for line in stdout.splitlines():
        text = line.lstrip()
        if resume is not None:
            if text == f"::{resume}::":
                resume = None
            continue
        if text.startswith("::stop-commands::"):
            resume = text.removeprefix("::stop-commands::")
        elif text.startswith("::"):
            found.append(text)
    assert resume is None, "the step left workflow commands stopped"
    return found


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
        # Ids lead somewhere: the CVE to NVD, the rule to its section of the documentation.
        body = comments[0]["body"]
        assert "[CVE-2024-0727](https://nvd.nist.gov/vuln/detail/CVE-2024-0727)" in body
        assert "[K8S001](https://docs.example/ci-security/docs/rules.md#k8s001)" in body
        blocking = body.split("### Blocking findings", 1)[1].split("<details>", 1)[0]
        assert "| CRITICAL | [K8S001]" in blocking and "| k8s/pod.yaml:11 |" in blocking

        # The log: the table inside a stop-commands fence, then only our own commands.
        fence = re.search(r"^::stop-commands::([0-9a-f]{32})$", first.stdout, re.MULTILINE)
        assert fence and f"\n::{fence[1]}::\n" in first.stdout
        assert "Vulnerabilities" in first.stdout.split(fence[0], 1)[1].split(f"::{fence[1]}::", 1)[0]
        assert {c.split("::", 2)[1].split(" ", 1)[0] for c in _commands(first.stdout)} <= {
            "add-mask",
            "error",
            "warning",
        }
        inline = server.review_comments(7)
        assert inline and {c["path"] for c in inline} == {"Dockerfile"}  # k8s/pod.yaml is not in the diff
        assert all(c["line"] in (1, 2, 3) for c in inline)
        assert "outside the diff, not sent" in first.stderr

        # The next run of the same commit: nothing changed but the job, so nothing is edited (the
        # comment keeps the first job's link) and nobody is notified.
        writes = len([r for r in server.requests if r.method != "GET"])
        second = _run(server, workspace, run_id="5678")
        assert second.returncode == 1
        assert len([c for c in server.issue_comments(7) if SUMMARY in c["body"]]) == 1
        assert len(server.review_comments(7)) == len(inline)
        assert "summary comment unchanged" in second.stderr
        uploads = len(server.sarif_uploads)
        assert len([r for r in server.requests if r.method != "GET"]) == writes + 1 and uploads == 2
        assert "actions/runs/1234" in server.issue_comments(7)[0]["body"]


def test_a_fork_pull_request_gets_the_summary_and_the_exit_code_but_no_writes(workspace):
    tmp = workspace["tmp"]
    with GitHubStandIn() as server:
        server.add_pull(7, files=[PullFile("Dockerfile", PATCH, status="added")])
        done = _run(server, workspace, fork=True)
        assert done.returncode == 1
        # Said once, as one notice naming everything it skipped, not once per action.
        notices = [c for c in _commands(done.stdout) if c.startswith("::notice")]
        assert notices == [
            "::notice title=ci-security%3A summary comment%2C inline comments and SARIF upload skipped::"
            "the token is read-only (pull request from a fork)"
        ]
        assert "skipped" not in done.stderr
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
        (warning,) = [c for c in _commands(done.stdout) if c.startswith("::warning title=ci-security")]
        assert warning.startswith("::warning title=ci-security%3A summary comment failed::500 ")
        assert _outputs(workspace["tmp"] / "output")["result"] == "pass"


def test_a_push_build_says_nothing_about_comments(workspace):
    with GitHubStandIn() as server:
        server.add_pull(7, files=[PullFile("Dockerfile", PATCH, status="added")])
        done = _run(server, workspace, event="push")
        assert done.returncode == 1
        assert "comment" not in (done.stdout + done.stderr).lower()
        assert not [c for c in _commands(done.stdout) if c.startswith(("::notice", "::warning title=ci"))]
        assert len(server.sarif_uploads) == 1  # what a push build can do, it does
        assert "SARIF upload created" in done.stderr
        assert not [r for r in server.requests if "/issues/" in r.path or "/pulls/" in r.path]


def _advisories(directory: Path, count: int) -> Path:
    """`count` OSV records for the image's openssl, written here (Debian 12, fixed upstream)."""
    directory.mkdir()
    for n in range(count):
        record = {
            "schema_version": "1.6.0",
            "id": f"DEBIAN-CVE-2031-{n:05d}",
            "modified": "2031-01-01T00:00:00Z",
            "summary": f"made-up advisory {n}",
            "affected": [
                {
                    "package": {"ecosystem": "Debian:12", "name": "openssl"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.9.9-1"}]}],
                }
            ],
        }
        (directory / f"{record['id']}.json").write_text(json.dumps(record))
    return directory


def test_the_job_log_shows_at_most_50_vulnerability_rows(workspace):
    from click.testing import CliRunner

    from ci_security.cli import main

    extra = _advisories(workspace["tmp"] / "many", 70)
    imported = CliRunner().invoke(main, ["db", "import", "--db", str(workspace["db"]), str(extra)])
    assert imported.exit_code == 0, imported.output
    with GitHubStandIn() as server:
        server.add_pull(7, files=[PullFile("Dockerfile", PATCH, status="added")])
        done = _run(server, workspace, event="push")
    report = load_report(workspace["repo"] / "ci-security.json")
    total = len(report["vulnerabilities"])
    assert total > 70  # every finding is in the report
    table = done.stdout.split("Vulnerabilities", 1)[1].split("Misconfigurations", 1)[0]
    rows = [line for line in table.splitlines() if "│" in line and "CVE-20" in line]
    assert len(rows) == 50
    assert f"…and {total - 50} more vulnerabilities (the reports list every one)" in done.stdout
