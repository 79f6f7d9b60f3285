"""`GitLabPlatform.propose_change` on its own: the same rules as on GitHub, through the commits API
(`start_sha`, `force`) and merge requests."""

from __future__ import annotations

import pytest
from testkit.gitlab_standin import GitLabStandIn, merge_request_setup

from ci_security.platforms.base import ChangeRequest, FileChange
from ci_security.platforms.context import CiContext
from ci_security.platforms.gitlab import GitLabPlatform

TOKEN = "glpat-FixPlatformToken01"
BRANCH = "ci-security/deps/requirements-txt-demo-http"
OLD = "demo-http==2.19.0\n"


def change(new: str, proposal: str, title: str = "ci-security: update demo-http") -> ChangeRequest:
    return ChangeRequest(
        branch=BRANCH,
        title=title,
        body=f"body {proposal}\n/close",
        commit_message=f"{title}\n\nCi-Security-Proposal: {proposal}\n",
        proposal=proposal,
        files=(FileChange(path="requirements.txt", content=new, original=OLD),),
        labels=("security", "deps"),
    )


@pytest.fixture
def gl():
    with GitLabStandIn() as standin:
        ids = merge_request_setup(standin, token=TOKEN)
        standin.put_files(5, {"requirements.txt": OLD, "app.py": "print(1)\n"}, author_id=ids["author"])
        yield standin


def platform(gl: GitLabStandIn) -> GitLabPlatform:
    context = CiContext(platform="gitlab", api_url=gl.api_url, project_id="5", token=TOKEN)
    return GitLabPlatform(context, sleep=lambda _: None)


def test_created_once_with_a_quick_action_in_the_body_made_inert(gl):
    done = platform(gl).propose_change(change("demo-http==2.31.1\n", "p1"), max_open=5)
    assert done.action == "created"
    (mr,) = gl.fix_merge_requests(5)
    assert "\n\\/close" in mr.description and mr.labels == ["security", "deps"]
    assert platform(gl).propose_change(change("demo-http==2.31.1\n", "p1"), max_open=5).action == "unchanged"


def test_someone_elses_commit_gets_ours_on_top_and_our_branch_is_rewritten(gl):
    bot = platform(gl)
    bot.propose_change(change("demo-http==2.31.1\n", "p1"), max_open=5)
    gl.put_files(5, {"app.py": "print(2)\n"}, branch=BRANCH, message="mine")
    done = bot.propose_change(change("demo-http==2.32.0\n", "p2", "ci-security: 2.32.0"), max_open=5)
    assert (done.action, done.detail) == ("updated", "new commit")
    assert [c["message"].splitlines()[0] for c in gl.branch_commits(5, BRANCH)] == [
        "ci-security: update demo-http",
        "mine",
        "ci-security: 2.32.0",
    ]
    gl.put_files(5, {"requirements.txt": "demo-http==9\n"}, branch=BRANCH, message="mine too")
    done = bot.propose_change(change("demo-http==2.33.0\n", "p3", "ci-security: 2.33.0"), max_open=5)
    assert done.action == "skipped" and "never force-pushes" in done.detail


def test_our_own_branch_is_rewritten(gl):
    bot = platform(gl)
    bot.propose_change(change("demo-http==2.31.1\n", "p1"), max_open=5)
    done = bot.propose_change(change("demo-http==2.32.0\n", "p2", "ci-security: 2.32.0"), max_open=5)
    assert (done.action, done.detail) == ("updated", "branch rewritten")
    assert len(gl.branch_commits(5, BRANCH)) == 1
    (mr,) = gl.fix_merge_requests(5)
    assert mr.title == "ci-security: 2.32.0"


def test_max_open_counts_open_fix_merge_requests(gl):
    assert platform(gl).propose_change(change("demo-http==2.31.1\n", "p1"), max_open=0).action == "skipped"
    assert gl.fix_merge_requests(5) == []
