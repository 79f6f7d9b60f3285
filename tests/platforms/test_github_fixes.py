"""`GitHubPlatform.propose_change` on its own (the plan and scans are `tests/fix`'s): the default branch
must hold what the fix was planned against, a branch someone else pushed to gets a commit on top and
is never force-pushed, unless that person changed the same file, and a branch of the bot's own is
rewritten to one commit."""

from __future__ import annotations

import pytest
from testkit.github_standin import GitHubStandIn

from ci_security.platforms.base import ChangeRequest, FileChange
from ci_security.platforms.context import CiContext
from ci_security.platforms.github import GitHubPlatform

BRANCH = "ci-security/base-image/dockerfile-python"
OLD = "FROM python:3.11\nRUN make\n"


def change(new: str, proposal: str, title: str = "ci-security: update python") -> ChangeRequest:
    return ChangeRequest(
        branch=BRANCH,
        title=title,
        body=f"body {proposal}",
        commit_message=f"{title}\n\nCi-Security-Proposal: {proposal}\n",
        proposal=proposal,
        files=(FileChange(path="Dockerfile", content=new, original=OLD),),
        labels=("security",),
    )


@pytest.fixture
def gh():
    with GitHubStandIn() as standin:
        standin.put_files({"Dockerfile": OLD, "app.py": "print(1)\n"})
        yield standin


def platform(gh: GitHubStandIn) -> GitHubPlatform:
    context = CiContext(platform="github", api_url=gh.url, repository=gh.repository, token=gh.token)
    return GitHubPlatform(context, sleep=lambda _: None, write_interval=0)


def test_the_default_branch_must_hold_what_was_planned(gh):
    gh.put_files({"Dockerfile": "FROM python:3.12\n"})
    done = platform(gh).propose_change(change("FROM python:3.13\n", "p1"), max_open=5)
    assert done.action == "skipped" and "differs from the checkout the fix was planned on" in done.detail
    assert gh.fix_pulls() == [] and BRANCH not in {r.removeprefix("heads/") for r in gh.refs}


def test_someone_elses_commit_gets_ours_on_top(gh):
    bot = platform(gh)
    assert bot.propose_change(change("FROM python:3.12\nRUN make\n", "p1"), max_open=5).action == "created"
    human = gh.put_files({"app.py": "print(2)\n"}, branch=BRANCH, message="a fix of mine", author="alice")
    done = bot.propose_change(
        change("FROM python:3.13\nRUN make\n", "p2", "ci-security: update python 3.13"), max_open=5
    )
    assert (done.action, done.detail) == ("updated", "new commit")
    commits = gh.branch_commits(BRANCH)
    assert [c["message"].splitlines()[0] for c in commits] == [
        "ci-security: update python",
        "a fix of mine",
        "ci-security: update python 3.13",
    ]
    assert commits[1]["sha"] == human  # never force-pushed over
    assert gh.files_at(BRANCH) == {"Dockerfile": "FROM python:3.13\nRUN make\n", "app.py": "print(2)\n"}


def test_someone_else_changed_the_same_file_and_it_is_left_alone(gh):
    bot = platform(gh)
    bot.propose_change(change("FROM python:3.12\nRUN make\n", "p1"), max_open=5)
    gh.put_files(
        {"Dockerfile": "FROM python:3.12-slim\nRUN make\n"}, branch=BRANCH, message="slim", author="alice"
    )
    done = bot.propose_change(
        change("FROM python:3.13\nRUN make\n", "p2", "ci-security: update python 3.13"), max_open=5
    )
    assert done.action == "skipped" and "never force-pushes" in done.detail
    assert gh.files_at(BRANCH)["Dockerfile"] == "FROM python:3.12-slim\nRUN make\n"


def test_our_own_branch_is_rewritten_to_one_commit_on_the_new_base(gh):
    bot = platform(gh)
    bot.propose_change(change("FROM python:3.12\nRUN make\n", "p1"), max_open=5)
    main = gh.put_files({"app.py": "print(3)\n"}, message="unrelated work on main")
    done = bot.propose_change(
        change("FROM python:3.13\nRUN make\n", "p2", "ci-security: update python 3.13"), max_open=5
    )
    assert (done.action, done.detail) == ("updated", "branch rewritten")
    (commit,) = gh.branch_commits(BRANCH)
    assert commit["parents"] == [main]
    (pull,) = gh.fix_pulls()
    assert pull.title == "ci-security: update python 3.13" and pull.body.startswith("body p2")
