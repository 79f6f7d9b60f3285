"""The CI step with fix pull requests on (`ci-security ci --fix-prs`): it scans the application image
built from the repository's Dockerfile, plans against the real registry, opens the fix pull/merge
request, links it in the sticky comment's "Proposed fixes" section, and, on GitLab, puts the fix into
the container-scanning report as `remediations` whose diffs `git apply` takes. A failing plan or
platform never changes the exit code."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

from testkit.fixworld import GL_TOKEN, VULNERABLE, FixWorld, debian_layers
from testkit.github_standin import GitHubStandIn
from testkit.gitlab_standin import GitLabStandIn, merge_request_setup
from testkit.images import build_docker_archive, file

from ci_security import ci
from ci_security.ci import Line, RunOptions, StepOptions
from ci_security.errors import EXIT_FAIL
from ci_security.platforms.base import marker
from ci_security.platforms.context import CiContext
from ci_security.scan import ScanOptions


def app_image(tmp_path: Path) -> Path:
    """The application built FROM team/base:1.0: its packages, and an application layer."""
    layers = [*debian_layers(VULNERABLE), [file("app/run.sh", "#!/bin/sh\nexec app\n", mode=0o755)]]
    return build_docker_archive(tmp_path / "app.tar", layers, repo_tags=["acme/app:1.0"]).path


def run_step(
    world: FixWorld, tmp_path: Path, repo: Path, context: CiContext, **step
) -> tuple[int, list[Line]]:
    options = ScanOptions(
        image=f"docker-archive:{app_image(tmp_path)}",
        db_path=world.db,
        docker_config=world.docker_config,
        repo_root=repo,
    )
    steps = ci.run_step(
        options, RunOptions(), StepOptions(report_dir=tmp_path / "reports", db_update=False, **step), context
    )
    lines: list[Line] = []
    while True:
        try:
            lines.append(next(steps))
        except StopIteration as done:
            return int(done.value), lines


def checkout(tmp_path: Path, world: FixWorld) -> tuple[Path, dict[str, str]]:
    files = {"Dockerfile": f"FROM {world.host}/team/base:1.0\nCOPY run.sh /app/run.sh\n"}
    repo = tmp_path / "repo"
    repo.mkdir()
    for name, text in files.items():
        (repo / name).write_text(text)
    return repo, files


def test_github_step_opens_the_fix_and_links_it_in_the_comment(world, tmp_path):
    repo, files = checkout(tmp_path, world)
    with GitHubStandIn() as gh:
        gh.put_files(files)
        gh.add_pull(7)
        context = CiContext(
            platform="github", api_url=gh.url, repository=gh.repository, change=7, event="pull_request",
            head_sha=gh.pulls[7].head_sha, token=gh.token,
        )  # fmt: skip
        code, lines = run_step(world, tmp_path, repo, context, fix_prs=True, inline=False)
        assert code == EXIT_FAIL  # the policy decides (the image has a fixable HIGH), not the fixes
        (fix,) = gh.fix_pulls()
        (comment,) = gh.issue_comments(7)
        body = comment["body"]
        assert "### Proposed fixes" in body and marker("acme/app") in body
        assert f"[created](https://github.com/octo-org/app/pull/{fix.number})" in body
        assert f"fix pull request {fix.head_ref} created" in "\n".join(line.text for line in lines)
        assert "Dockerfile:1" in body
    plan = json.loads((tmp_path / "reports" / "ci-security-fix.json").read_text())
    assert plan["updates"][0]["pull_request"]["action"] == "created"


def test_github_step_without_fix_prs_opens_nothing(world, tmp_path):
    repo, files = checkout(tmp_path, world)
    with GitHubStandIn() as gh:
        gh.put_files(files)
        gh.add_pull(7)
        context = CiContext(
            platform="github", api_url=gh.url, repository=gh.repository, change=7, token=gh.token
        )
        run_step(world, tmp_path, repo, context, inline=False)
        assert gh.fix_pulls() == []
        assert "Proposed fixes" not in gh.issue_comments(7)[0]["body"]


def test_gitlab_report_carries_remediations_that_git_applies(world, tmp_path):
    repo, files = checkout(tmp_path, world)
    with GitLabStandIn() as gl:
        ids = merge_request_setup(gl, token=GL_TOKEN)
        gl.put_files(5, files)
        context = CiContext(
            platform="gitlab", api_url=gl.api_url, repository="acme/shop", project_id="5", change=ids["iid"],
            token=GL_TOKEN,
        )  # fmt: skip
        run_step(world, tmp_path, repo, context, fix_prs=True, inline=False)
        (mr,) = gl.fix_merge_requests(5)
        (note,) = [n["body"] for n in gl.notes(5, ids["iid"])]
        assert "### Proposed fixes" in note and f"/acme/shop/-/merge_requests/{mr.iid})" in note
    report = json.loads((tmp_path / "reports" / "gl-container-scanning-report.json").read_text())
    (remediation,) = report["remediations"]
    fixed = {v["id"]: v for v in report["vulnerabilities"]}
    names = sorted(fixed[f["id"]]["location"]["dependency"]["package"]["name"] for f in remediation["fixes"])
    assert names == ["libssl", "zlib"]  # libfoo's LOW stays: 1.1 has it too
    assert remediation["summary"].startswith("ci-security: update ")
    diff = base64.b64decode(remediation["diff"])
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "apply", "-"], input=diff, check=True)
    assert (repo / "Dockerfile").read_text() == f"FROM {world.host}/team/base:1.1\nCOPY run.sh /app/run.sh\n"


def test_a_plan_that_cannot_be_made_is_a_warning(world, tmp_path):
    repo, _ = checkout(tmp_path, world)
    context = CiContext(platform="local")
    options = ScanOptions(
        image=f"docker-archive:{app_image(tmp_path)}", db_path=world.db, repo_root=repo / "nope"
    )
    steps = ci.run_step(
        options, RunOptions(), StepOptions(report_dir=tmp_path / "r", db_update=False, fix_prs=True), context
    )
    lines = []
    try:
        while True:
            lines.append(next(steps))
    except StopIteration as done:
        assert done.value == EXIT_FAIL
    assert any("fix pull requests: no plan (--repo" in line.text for line in lines)
