"""`ci-security fix` end to end: the real registry and scans, then pull requests on the GitHub stand-in
(every request validated against GitHub's OpenAPI description) and merge requests on the GitLab
stand-in. The first run opens one pull/merge request with exactly one commit changing exactly the
expected lines; a second run with the same proposal changes nothing; a run after the base image
moved updates the same one; after a person closed it, no new one; a repository with nothing to fix
opens nothing; a 5xx and a 429 with Retry-After on the create calls still leave exactly one; a
read-only token gives one notice and the plan, never a crash.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from testkit.fixworld import BASE_TAGS, GL_TOKEN, VULNERABLE, FixWorld
from testkit.github_standin import GitHubStandIn
from testkit.gitlab_standin import GitLabStandIn, merge_request_setup

from ci_security import ci
from ci_security.ci import Line, RunOptions
from ci_security.errors import EXIT_PASS
from ci_security.fix.run import FixOptions
from ci_security.platforms.context import CiContext
from ci_security.scan import ScanOptions


def run_fix(world: FixWorld, repo: Path, context: CiContext, **fix: Any) -> tuple[int, list[Line]]:
    options = ScanOptions(image=None, db_path=world.db, docker_config=world.docker_config, repo_root=repo)
    steps = ci.run_fix(options, RunOptions(), FixOptions(repo=repo, **fix), context)
    lines: list[Line] = []
    while True:
        try:
            lines.append(next(steps))
        except StopIteration as done:
            return int(done.value), lines


def text(lines: list[Line]) -> str:
    return "\n".join(line.text for line in lines)


def github_context(gh: GitHubStandIn) -> CiContext:
    return CiContext(
        platform="github", api_url=gh.url, repository=gh.repository, event="push", token=gh.token
    )


def gitlab_context(gl: GitLabStandIn) -> CiContext:
    return CiContext(
        platform="gitlab", api_url=gl.api_url, repository="acme/shop", project_id="5", token=GL_TOKEN
    )


def checkout(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "checkout"
    repo.mkdir(exist_ok=True)
    for name, body in files.items():
        (repo / name).write_text(body)
    return repo


@pytest.fixture
def moving(world: FixWorld, request) -> Iterator[str]:
    """A repository of its own whose tags a test moves: 1.0 vulnerable, 1.1 fixing the HIGH."""
    name = f"team/moving-{request.node.name.removeprefix('test_').replace('_', '-')}"
    world.push(name, "1.0", VULNERABLE)
    world.push(name, "1.1", BASE_TAGS["1.1@old"])
    return f"{world.host}/{name}"


def writes(gh: GitHubStandIn) -> list[str]:
    return [
        f"{r.method} {r.operation}" for r in gh.requests if r.method in ("POST", "PATCH", "PUT", "DELETE")
    ]


# --- GitHub ------------------------------------------------------------------------------------------


def test_github_lifecycle(world, tmp_path, moving):
    files = {"Dockerfile": f"# base\nFROM {moving}:1.0\nRUN make\n", "README.md": "demo\n"}
    repo = checkout(tmp_path, files)
    with GitHubStandIn() as gh:
        gh.put_files(files)
        code, lines = run_fix(world, repo, github_context(gh))
        assert code == EXIT_PASS
        (pull,) = gh.fix_pulls()
        branch = "ci-security/base-image/dockerfile-team-moving-github-lifecycle"
        assert (pull.state, pull.head_ref, pull.base_ref) == ("open", branch, "main")
        assert pull.title == f"ci-security: update {moving} from 1.0 to 1.1 in Dockerfile"
        assert pull.labels == ["security", "ci-security"]
        assert (
            "We recommend" in pull.body
            and "GITHUB_TOKEN" in pull.body
            and "<!-- ci-security:fix:" in pull.body
        )
        (commit,) = gh.branch_commits(pull.head_ref)  # exactly one commit
        assert commit["message"].rstrip().splitlines()[-1].startswith("Ci-Security-Proposal: ")
        after = gh.files_at(pull.head_ref)
        assert after == {
            **files,
            "Dockerfile": f"# base\nFROM {moving}:1.1\nRUN make\n",
        }  # one line, nothing else
        assert (
            f"fix pull request {pull.head_ref} created (https://github.com/octo-org/app/pull/{pull.number})"
            in text(lines)
        )

        before = len(gh.requests)
        code, lines = run_fix(world, repo, github_context(gh))
        assert code == EXIT_PASS
        assert not [r for r in gh.requests[before:] if r.method != "GET"]  # the same proposal writes nothing
        assert "pull request unchanged" in text(lines)

        # the base moved: 1.2 removes everything; the same pull request follows, still one commit
        world.push(moving.split("/", 1)[1], "1.2", BASE_TAGS["1.1"])
        code, lines = run_fix(world, repo, github_context(gh))
        (same,) = gh.fix_pulls()
        assert same.number == pull.number and same.title.endswith("from 1.0 to 1.2 in Dockerfile"), text(
            lines
        )
        assert len(gh.branch_commits(pull.head_ref)) == 1
        assert gh.files_at(pull.head_ref)["Dockerfile"] == f"# base\nFROM {moving}:1.2\nRUN make\n"
        assert "pull request updated" in text(lines) and "branch rewritten" in text(lines)

        # a person closes it: the same proposal is not opened again, and the run says why
        gh.close_pull(pull.number)
        code, lines = run_fix(world, repo, github_context(gh))
        assert code == EXIT_PASS and len(gh.fix_pulls()) == 1
        assert f"#{pull.number} proposed this and was closed without merging: not opened again" in text(lines)


def test_github_nothing_to_fix_opens_nothing(world, tmp_path):
    files = {"Dockerfile": f"FROM {world.host}/team/base:2.0\nFROM scratch\n"}
    repo = checkout(tmp_path, files)
    with GitHubStandIn() as gh:
        gh.put_files(files)
        code, lines = run_fix(world, repo, github_context(gh))
        assert code == EXIT_PASS and gh.requests == [] and gh.fix_pulls() == []
        assert "0 update(s), 2 reference(s) left as they are" in text(lines)


def test_github_5xx_and_429_on_the_create_calls_leave_one_pull_request(world, tmp_path, no_waiting):
    files = {"Dockerfile": f"FROM {world.host}/team/base:1.0\n"}
    repo = checkout(tmp_path, files)
    with GitHubStandIn() as gh:
        gh.put_files(files)
        gh.fail("POST", r"/repos/octo-org/app/git/commits", 503)
        gh.fail("POST", r"/repos/octo-org/app/git/refs", 429, headers={"Retry-After": "2"})
        gh.fail("POST", r"/repos/octo-org/app/pulls", 502, after_apply=True)  # stored, then the answer lost
        gh.fail("POST", r"/repos/octo-org/app/issues/\d+/labels", 500)
        code, lines = run_fix(world, repo, github_context(gh))
        assert code == EXIT_PASS
        assert len(gh.fix_pulls()) == 1, text(lines)
        (pull,) = gh.fix_pulls()
        assert len(gh.branch_commits(pull.head_ref)) == 1 and pull.labels == ["security", "ci-security"]
        assert 2.0 in no_waiting.seconds  # Retry-After honoured
        assert [w for w in writes(gh) if w.endswith("pulls/create")] == ["POST pulls/create"]
        assert "created" in text(lines)


def test_github_read_only_token_gives_one_notice_and_the_plan(world, tmp_path):
    files = {
        "Dockerfile": f"FROM {world.host}/team/base:1.0\n",
        "slim.Dockerfile": f"FROM {world.host}/team/base:1.0-slim\n",
    }
    repo = checkout(tmp_path, files)
    with GitHubStandIn() as gh:
        gh.put_files(files)
        gh.read_only = True
        code, lines = run_fix(world, repo, github_context(gh), outputs=(("json", tmp_path / "plan.json"),))
        assert code == EXIT_PASS and gh.fix_pulls() == []
        notices = [line.text for line in lines if line.text.startswith(("::notice", "::warning"))]
        assert len(notices) == 1 and notices[0].startswith("::notice title=ci-security%3A fix pull requests ")
        assert "contents: write" in notices[0]
        plan = json.loads((tmp_path / "plan.json").read_text())
        assert [u["pull_request"]["action"] for u in plan["updates"]] == ["skipped", "skipped"]
        assert "base-image Dockerfile:1" in text(lines) and "base-image slim.Dockerfile:1" in text(lines)


def test_github_actions_may_not_open_pull_requests(world, tmp_path):
    files = {"Dockerfile": f"FROM {world.host}/team/base:1.0\n"}
    repo = checkout(tmp_path, files)
    with GitHubStandIn() as gh:
        gh.put_files(files)
        gh.actions_may_open_pulls = False
        code, lines = run_fix(world, repo, github_context(gh))
        assert code == EXIT_PASS and gh.fix_pulls() == []
        assert "Allow GitHub Actions to create and approve pull requests" in text(lines)


def test_github_at_most_max_prs_open(world, tmp_path):
    h = world.host
    files = {f"d{i}.Dockerfile": f"FROM {h}/team/base:1.0\n" for i in range(3)}
    repo = checkout(tmp_path, files)
    with GitHubStandIn() as gh:
        gh.put_files(files)
        run_fix(world, repo, github_context(gh), max_prs=2)
        assert len(gh.fix_pulls()) == 2
        _code, lines = run_fix(world, repo, github_context(gh), max_prs=2)
        assert len(gh.fix_pulls()) == 2 and "2 fix pull request(s) are open already" in text(lines)


def test_github_dry_run_writes_nothing(world, tmp_path):
    files = {"Dockerfile": f"FROM {world.host}/team/base:1.0\n"}
    repo = checkout(tmp_path, files)
    with GitHubStandIn() as gh:
        gh.put_files(files)
        code, lines = run_fix(world, repo, github_context(gh), dry_run=True)
        assert code == EXIT_PASS and gh.requests == []
        reports = "".join(line.text for line in lines if line.kind == "report")
        assert "+FROM " in reports and "/team/base:1.1" in reports


# --- GitLab ------------------------------------------------------------------------------------------


def test_gitlab_lifecycle(world, tmp_path, moving):
    files = {"Dockerfile": f"FROM {moving}:1.0 AS app\nRUN make\n"}
    repo = checkout(tmp_path, files)
    with GitLabStandIn() as gl:
        merge_request_setup(gl, token=GL_TOKEN)
        gl.put_files(5, files)
        code, lines = run_fix(world, repo, gitlab_context(gl))
        assert code == EXIT_PASS
        (mr,) = gl.fix_merge_requests(5)
        assert (mr.state, mr.target_branch, mr.remove_source_branch) == ("opened", "main", True)
        assert mr.labels == ["security", "ci-security"] and "We recommend" in mr.description
        assert "GITHUB_TOKEN" not in mr.description
        (commit,) = gl.branch_commits(5, mr.source_branch)
        assert "Ci-Security-Proposal: " in commit["message"]
        assert gl.files_at(5, mr.source_branch) == {"Dockerfile": f"FROM {moving}:1.1 AS app\nRUN make\n"}

        before = len(gl.writes())
        run_fix(world, repo, gitlab_context(gl))
        assert len(gl.writes()) == before  # the same proposal changes nothing

        world.push(moving.split("/", 1)[1], "1.2", BASE_TAGS["1.1"])
        code, lines = run_fix(world, repo, gitlab_context(gl))
        (same,) = gl.fix_merge_requests(5)
        assert same.iid == mr.iid and same.title.endswith("from 1.0 to 1.2 in Dockerfile")
        assert len(gl.branch_commits(5, mr.source_branch)) == 1
        assert gl.files_at(5, mr.source_branch)["Dockerfile"] == f"FROM {moving}:1.2 AS app\nRUN make\n"

        gl.close_merge_request(5, mr.iid)
        code, lines = run_fix(world, repo, gitlab_context(gl))
        assert len(gl.fix_merge_requests(5)) == 1
        assert f"!{mr.iid} proposed this and was closed without merging" in text(lines)


def test_gitlab_nothing_to_fix_opens_nothing(world, tmp_path):
    files = {"Dockerfile": f"FROM {world.host}/team/base:2.0\n"}
    repo = checkout(tmp_path, files)
    with GitLabStandIn() as gl:
        merge_request_setup(gl, token=GL_TOKEN)
        gl.put_files(5, files)
        run_fix(world, repo, gitlab_context(gl))
        assert gl.requests == [] and gl.fix_merge_requests(5) == []


def test_gitlab_5xx_and_429_on_the_create_calls_leave_one_merge_request(world, tmp_path, no_waiting):
    files = {"Dockerfile": f"FROM {world.host}/team/base:1.0\n"}
    repo = checkout(tmp_path, files)
    with GitLabStandIn() as gl:
        merge_request_setup(gl, token=GL_TOKEN)
        gl.put_files(5, files)
        gl.fault("POST", r"/repository/commits$", 500, after=True)
        gl.fault("POST", r"/merge_requests$", 429, headers={"Retry-After": "3"})
        gl.fault("POST", r"/merge_requests$", 502, after=True)
        code, lines = run_fix(world, repo, gitlab_context(gl))
        assert code == EXIT_PASS
        (mr,) = gl.fix_merge_requests(5)
        assert len(gl.branch_commits(5, mr.source_branch)) == 1
        assert 3.0 in no_waiting.seconds
        assert "created" in text(lines)


def test_gitlab_read_only_token_gives_one_notice_and_the_plan(world, tmp_path):
    files = {
        "Dockerfile": f"FROM {world.host}/team/base:1.0\n",
        "b.Dockerfile": f"FROM {world.host}/team/base:1.0-slim\n",
    }
    repo = checkout(tmp_path, files)
    with GitLabStandIn() as gl:
        ids = merge_request_setup(gl, token="unused-token-0000")
        gl.add_token(GL_TOKEN, ids["bot"], scopes=("read_api",))
        gl.put_files(5, files)
        code, lines = run_fix(world, repo, gitlab_context(gl))
        assert code == EXIT_PASS and gl.fix_merge_requests(5) == []
        notices = [line.text for line in lines if "fix pull requests" in line.text and "skipped" in line.text]
        assert len(notices) == 1  # GitLab's notice is a collapsed log section; its detail follows
        commands = "\n".join(line.text for line in lines if line.kind == "command")
        assert commands.count("api scope and at least the Developer role") == 1
        assert "base-image Dockerfile:1" in text(lines)
