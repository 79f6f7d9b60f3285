"""The GitHub platform against the GitHub stand-in (127.0.0.1), which validates every request against
GitHub's OpenAPI description: the sticky comment, inline review comments, SARIF uploads, and every
failure the issue names (fork and read-only tokens, 5xx with and without the write applied, 429,
size limits, 401/403, a missing pull request, a refused connection, tokens kept out of everything).
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from testkit import github_openapi
from testkit.diffs import DOCKERFILE_PATCH
from testkit.github_standin import GitHubStandIn, PullFile
from testkit.shared import shared_path

from ci_security.platforms import github as github_platform
from ci_security.platforms.base import InlineComment, inline_marker, marker
from ci_security.platforms.context import CiContext
from ci_security.platforms.github import GitHubPlatform

ROOT = Path(__file__).resolve().parents[2]
KEY = "image:app"
JOB = "https://github.com/octo-org/app/actions/runs/42"
MERGE_SHA = "3333333333333333333333333333333333333333"

# new-file lines in the diff: 1-6 (first hunk), 22-25 (second hunk)
FILES = [
    PullFile("Dockerfile", patch=DOCKERFILE_PATCH),
    PullFile(
        "deploy/app.yaml", patch="@@ -0,0 +1,3 @@\n+kind: Pod\n+spec:\n+  hostNetwork: true", status="added"
    ),
    PullFile(
        "k8s/new.yaml", previous_filename="k8s/old.yaml", status="renamed", patch="@@ -5 +5 @@\n-a: 1\n+a: 2"
    ),
    PullFile("old.txt", status="removed", patch="@@ -1,2 +0,0 @@\n-x\n-y"),
    PullFile("logo.png", status="modified"),  # binary: no patch
]


@pytest.fixture
def gh():
    with GitHubStandIn() as standin:
        standin.add_pull(7, files=FILES)
        yield standin
        standin.check()


def ctx(gh: GitHubStandIn, **changes) -> CiContext:
    base = CiContext(
        platform="github",
        api_url=gh.url,
        repository=gh.repository,
        change=7,
        head_sha=gh.pulls[7].head_sha if 7 in gh.pulls else "1" * 40,
        base_sha="2" * 40,
        sha=MERGE_SHA,
        ref="refs/pull/7/merge",
        event="pull_request",
        job_url=JOB,
        token=gh.token,
    )
    return dataclasses.replace(base, **changes)


def platform(context: CiContext, sleeps: list[float] | None = None, **options) -> GitHubPlatform:
    options.setdefault("write_interval", 0.0)
    return GitHubPlatform(context, sleep=(sleeps if sleeps is not None else []).append, **options)


def ours(gh: GitHubStandIn, number: int = 7) -> list[dict]:
    return [c for c in gh.issue_comments(number) if c["body"].endswith(marker(KEY))]


def refused_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- the sticky comment ------------------------------------------------------------------------------


def test_first_run_creates_one_comment(gh):
    outcome = platform(ctx(gh)).upsert_comment(KEY, "## ci-security\n\n3 findings")

    assert outcome.action == "created"
    comments = gh.issue_comments(7)
    assert len(comments) == 1
    assert comments[0]["body"] == f"## ci-security\n\n3 findings\n\n{marker(KEY)}"
    assert outcome.url == comments[0]["html_url"]
    assert outcome.line("comment").startswith("comment created (https://github.com/octo-org/app/pull/7#")


def test_second_run_edits_the_comment_and_a_third_leaves_it(gh):
    platform(ctx(gh)).upsert_comment(KEY, "3 findings")
    second = platform(ctx(gh)).upsert_comment(KEY, "2 findings")
    third = platform(ctx(gh)).upsert_comment(KEY, "2 findings")

    assert (second.action, third.action) == ("updated", "unchanged")
    comments = gh.issue_comments(7)
    assert len(comments) == 1
    assert comments[0]["body"].startswith("2 findings\n\n")
    assert len(gh.sent("POST", "issues/create-comment")) == 1
    assert len(gh.sent("PATCH", "issues/update-comment")) == 1


def test_a_new_job_link_alone_does_not_edit_the_comment(gh):
    first = platform(ctx(gh)).upsert_comment(
        KEY, "2 findings\n\n<sub>[ci-security job](https://ci/runs/1)</sub>"
    )
    again = platform(ctx(gh, job_url="https://ci/runs/2")).upsert_comment(
        KEY, "2 findings\n\n<sub>[ci-security job](https://ci/runs/2)</sub>"
    )
    assert (first.action, again.action) == ("created", "unchanged")
    assert not gh.sent("PATCH", "issues/update-comment")
    assert "https://ci/runs/1" in gh.issue_comments(7)[0]["body"]
    # a real change is sent, with the new link
    changed = platform(ctx(gh)).upsert_comment(
        KEY, "1 finding\n\n<sub>[ci-security job](https://ci/runs/3)</sub>"
    )
    assert changed.action == "updated" and "https://ci/runs/3" in gh.issue_comments(7)[0]["body"]


def test_each_scan_key_has_its_own_comment(gh):
    run = platform(ctx(gh))
    run.upsert_comment("image:app", "app")
    run.upsert_comment("image:db", "db")
    run.upsert_comment("image:app", "app v2")

    bodies = sorted(c["body"] for c in gh.issue_comments(7))
    assert bodies == [f"app v2\n\n{marker('image:app')}", f"db\n\n{marker('image:db')}"]


def test_marker_found_on_the_second_page(gh):
    platform(ctx(gh)).upsert_comment(KEY, "first")
    for number in range(130):
        gh.add_comment(7, f"review chatter {number}")

    outcome = platform(ctx(gh)).upsert_comment(KEY, "second")

    assert outcome.action == "updated"
    assert len(ours(gh)) == 1
    assert len(gh.issue_comments(7)) == 131
    pages = [r.query.get("page", ["1"])[0] for r in gh.sent("GET", "issues/list-comments")]
    assert pages[-2:] == ["1", "2"]


def test_a_person_quoting_the_marker_is_not_edited(gh):
    quoted = f"Why does the bot say this?\n\n{marker(KEY)}"
    gh.add_comment(7, quoted, user=gh.user("alice", user_type="User"))

    outcome = platform(ctx(gh)).upsert_comment(KEY, "report")

    assert outcome.action == "created"
    by_author = {c["user"]["login"]: c["body"] for c in gh.issue_comments(7)}
    assert by_author == {"alice": quoted, "github-actions[bot]": f"report\n\n{marker(KEY)}"}


def test_personal_token_owns_only_its_own_comments():
    with GitHubStandIn(identity="user") as gh:
        gh.add_pull(7, files=FILES)
        other_bot = gh.add_comment(
            7, f"old\n\n{marker(KEY)}", user=gh.user("other-app[bot]", user_type="Bot")
        )
        mine = gh.add_comment(7, f"old\n\n{marker(KEY)}", user=gh.user("ci-bot", user_type="User"))

        outcome = platform(ctx(gh)).upsert_comment(KEY, "new")

        assert outcome.action == "updated"
        bodies = {c["id"]: c["body"] for c in gh.issue_comments(7)}
        assert bodies == {other_bot["id"]: f"old\n\n{marker(KEY)}", mine["id"]: f"new\n\n{marker(KEY)}"}
        assert [r.status for r in gh.sent("GET", "users/get-authenticated")] == [200]
        gh.check()


def test_comment_over_the_size_limit_is_cut_with_a_link_to_the_job(gh):
    body = "<details><summary>all findings</summary>\n\n```\n" + "\n".join(
        f"CVE-2024-{n:05d} openssl 3.0.{n % 20} critical" for n in range(4000)
    )
    assert len(body) > 100_000

    first = platform(ctx(gh)).upsert_comment(KEY, body)
    again = platform(ctx(gh)).upsert_comment(KEY, body)

    assert (first.action, again.action) == ("created", "unchanged")
    (stored,) = gh.issue_comments(7)
    text = stored["body"]
    assert len(text) <= 65_536
    assert text.endswith(f"\n\n…truncated: the full report is in the job ({JOB})\n\n{marker(KEY)}")
    kept = text.split("\n\n…truncated")[0]
    assert kept.endswith("```\n</details>")  # the open fence and <details> are closed
    assert body.startswith(kept.removesuffix("\n```\n</details>"))


# -- failures and skips ------------------------------------------------------------------------------


def test_fork_pull_request_skips_every_write_without_a_request(gh):
    run = platform(ctx(gh, fork=True))

    comment = run.upsert_comment(KEY, "report")
    inline = run.sync_inline(KEY, [InlineComment(fingerprint="a", path="Dockerfile", line=3, body="x")])
    sarif = run.upload_sarif('{"version": "2.1.0", "runs": []}')

    notice = "the token is read-only (pull request from a fork)"
    assert (comment.action, comment.detail) == ("skipped", notice)
    assert (inline.action, inline.detail) == ("skipped", notice)
    assert (sarif.action, sarif.detail) == ("skipped", notice)
    assert comment.line("comment") == f"comment skipped: {notice}"
    assert gh.requests == []


def test_no_token_skips(gh):
    outcome = platform(ctx(gh, token="")).upsert_comment(KEY, "report")

    assert (outcome.action, outcome.detail) == ("skipped", "no token (GITHUB_TOKEN is not set)")
    assert gh.requests == []


def test_branch_build_skips_comments_but_uploads_sarif(gh):
    run = platform(ctx(gh, change=None, ref="refs/heads/main", event="push"))

    assert run.upsert_comment(KEY, "x").detail == "not a pull request"
    assert run.sync_inline(KEY, []).detail == "not a pull request"
    assert run.upload_sarif('{"version": "2.1.0", "runs": []}').action == "created"
    assert gh.sarif_uploads[0]["ref"] == "refs/heads/main"


def test_500_then_success_creates_one_comment(gh):
    gh.fail("POST", r"/repos/octo-org/app/issues/7/comments", 500)
    sleeps: list[float] = []

    outcome = platform(ctx(gh), sleeps).upsert_comment(KEY, "report")

    assert outcome.action == "created"
    assert len(gh.issue_comments(7)) == 1
    assert [r.status for r in gh.sent("POST")] == [500, 201]
    assert sleeps == [0.5]


def test_500_after_the_server_stored_the_comment_makes_no_duplicate(gh):
    gh.fail("POST", r"/repos/octo-org/app/issues/7/comments", 502, after_apply=True)

    outcome = platform(ctx(gh)).upsert_comment(KEY, "report")

    assert outcome.action == "created"
    assert len(gh.issue_comments(7)) == 1
    assert [r.status for r in gh.sent("POST")] == [502]  # found again by its marker, not posted twice
    assert outcome.url == gh.issue_comments(7)[0]["html_url"]


def test_dropped_connection_after_the_write_makes_no_duplicate(gh):
    gh.fail("POST", r".*/issues/7/comments", 0, after_apply=True)

    outcome = platform(ctx(gh)).upsert_comment(KEY, "report")

    assert outcome.action == "created"
    assert len(gh.issue_comments(7)) == 1
    assert len(gh.sent("POST")) == 1


def test_429_waits_what_retry_after_says(gh):
    gh.fail("POST", r".*/issues/7/comments", 429, headers={"Retry-After": "7"})
    sleeps: list[float] = []
    run = platform(ctx(gh), sleeps)

    assert run.upsert_comment(KEY, "report").action == "created"
    assert sleeps == [7.0]

    # PyGithub itself never retries a PATCH; the policy does
    gh.fail("PATCH", r".*/issues/comments/\d+", 429, headers={"Retry-After": "3"})
    assert platform(ctx(gh), sleeps).upsert_comment(KEY, "report v2").action == "updated"
    assert sleeps == [7.0, 3.0]
    assert len(gh.issue_comments(7)) == 1


def test_secondary_rate_limit_403_is_retried_not_a_refusal(gh):
    gh.fail(
        "POST",
        r".*/issues/7/comments",
        403,
        headers={"Retry-After": "2"},
        message="You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
    )
    sleeps: list[float] = []

    assert platform(ctx(gh), sleeps).upsert_comment(KEY, "report").action == "created"
    assert sleeps == [2.0]


def test_rate_limit_403_without_retry_after_fails_but_is_not_a_refusal(gh):
    gh.fail("POST", r".*/issues/7/comments", 403, message="API rate limit exceeded for installation ID 1.")
    run = platform(ctx(gh))

    first = run.upsert_comment(KEY, "report")
    second = run.upsert_comment(KEY, "report")

    assert (first.action, first.detail) == ("failed", "403 API rate limit exceeded for installation ID 1.")
    assert second.action == "created"


def test_persistent_5xx_fails_after_bounded_attempts_without_pygithub_retries(gh):
    gh.fail("GET", r".*/issues/7/comments", 503, times=100)
    sleeps: list[float] = []

    outcome = platform(ctx(gh), sleeps).upsert_comment(KEY, "report")

    assert outcome.action == "failed"
    assert outcome.detail == "503 Service Unavailable (after 5 attempts)"
    assert len(gh.sent("GET", "issues/list-comments")) == 5  # ours only: PyGithub's retries are off
    assert sleeps == [0.5, 1.0, 2.0, 4.0]
    assert gh.issue_comments(7) == []


def test_403_on_the_first_write_turns_the_rest_into_skips(gh):
    gh.read_only = True
    run = platform(ctx(gh))

    comment = run.upsert_comment(KEY, "report")
    sent = len(gh.requests)
    inline = run.sync_inline(KEY, [InlineComment(fingerprint="a", path="Dockerfile", line=3, body="x")])
    again = run.upsert_comment("image:other", "report")

    assert comment.action == "skipped"
    assert comment.detail == (
        "the token may not comment on pull request #7 (403 Resource not accessible by integration); "
        "the workflow needs `permissions: pull-requests: write`"
    )
    assert (inline.action, inline.detail) == ("skipped", comment.detail)
    assert (again.action, again.detail) == ("skipped", comment.detail)
    assert len(gh.requests) == sent  # nothing more was sent
    assert gh.issue_comments(7) == []


def test_401_skips_everything_after_it(gh):
    run = platform(ctx(gh, token="ghp_WrongToken000000000000000000000000"))

    comment = run.upsert_comment(KEY, "report")
    sent = len(gh.requests)
    inline = run.sync_inline(KEY, [])
    sarif = run.upload_sarif('{"version": "2.1.0", "runs": []}')

    assert (comment.action, comment.detail) == ("skipped", "the token was rejected (401 Bad credentials)")
    assert inline.detail == sarif.detail == comment.detail
    assert len(gh.requests) == sent == 1


def test_missing_pull_request_is_one_failed_line(gh):
    run = platform(ctx(gh, change=99))

    comment = run.upsert_comment(KEY, "report")
    inline = run.sync_inline(KEY, [])

    assert comment.action == "failed"
    assert comment.line("comment") == "comment failed: 404 pull request #99 not found in octo-org/app"
    assert (inline.action, inline.detail) == ("failed", comment.detail)
    assert [r.status for r in gh.sent("GET", "pulls/get")] == [404]  # a 404 is final, not retried


def test_connection_refused_is_a_failed_outcome():
    sleeps: list[float] = []
    context = CiContext(
        platform="github",
        api_url=refused_port(),
        repository="octo-org/app",
        change=7,
        head_sha="1" * 40,
        sha=MERGE_SHA,
        ref="refs/pull/7/merge",
        event="pull_request",
        token="ghs_SecretThatMustNotLeak",
    )
    run = platform(context, sleeps)

    comment = run.upsert_comment(KEY, "report")
    inline = run.sync_inline(KEY, [InlineComment(fingerprint="a", path="Dockerfile", line=3, body="x")])
    sarif = run.upload_sarif('{"version": "2.1.0", "runs": []}')

    for detail in (comment.detail, inline.detail, sarif.detail):
        assert "after 5 attempts" in detail
        assert "ghs_SecretThatMustNotLeak" not in detail
    assert (comment.action, inline.action, sarif.action) == ("failed", "failed", "failed")
    assert len(sleeps) == 12  # 4 waits for each of the three actions


def test_token_never_appears_in_outcomes_or_logs(gh, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="github")  # PyGithub logs every request and answer at DEBUG
    token = gh.token
    lines: list[str] = []

    run = platform(ctx(gh))
    lines.append(run.upsert_comment(KEY, "report").line("comment"))
    lines.append(str(run.sync_inline(KEY, [finding("a", 3)])))
    lines.append(run.upload_sarif(json.dumps(SARIF)).line("sarif"))
    gh.fail("*", r".*", 500, times=10)
    lines.append(platform(ctx(gh)).upsert_comment(KEY, "again").line("comment"))
    lines.append(platform(ctx(gh, api_url=refused_port())).upsert_comment(KEY, "x").line("comment"))
    lines.append(platform(ctx(gh, token=token + "-revoked")).upsert_comment(KEY, "x").line("comment"))

    assert "GET /user" in caplog.text or "/user" in caplog.text  # the requests were logged…
    assert "Authorization" in caplog.text  # …with their headers, masked
    for line in lines:
        assert token not in line
    assert token not in caplog.text
    assert token not in repr(ctx(gh))


def test_a_token_echoed_by_the_server_is_scrubbed_from_outcomes(gh):
    gh.fail("*", r".*", 500, times=100, message=f"echo of the request: token {gh.token}")

    comment = platform(ctx(gh)).upsert_comment(KEY, "again")
    sarif = platform(ctx(gh)).upload_sarif(json.dumps(SARIF))

    assert comment.detail == "500 echo of the request: token *** (after 5 attempts)"
    assert gh.token not in sarif.detail
    assert "***" in sarif.detail


# -- inline review comments --------------------------------------------------------------------------


def finding(fingerprint: str, line: int, body: str = "", path: str = "Dockerfile") -> InlineComment:
    return InlineComment(fingerprint=fingerprint, path=path, line=line, body=body or f"finding {fingerprint}")


def review(gh: GitHubStandIn) -> dict[str, dict]:
    prefix = f"<!-- ci-security:{KEY}:finding:"
    return {
        c["body"].rsplit(prefix, 1)[1].removesuffix(" -->"): c
        for c in gh.review_comments(7)
        if prefix in c["body"]
    }


def test_inline_new_updated_unchanged_and_fixed(gh):
    first = platform(ctx(gh)).sync_inline(
        KEY,
        [
            finding("root", 3, "runs as root"),
            finding("apt", 2, "apt lists kept"),
            finding("pod", 3, path="deploy/app.yaml"),
        ],
    )
    assert (first.posted, first.updated, first.resolved, first.action) == (3, 0, 0, "done")
    posted = gh.sent("POST", "pulls/create-review-comment")
    assert [(r.body["path"], r.body["line"], r.body["side"]) for r in posted] == [
        ("Dockerfile", 3, "RIGHT"),
        ("Dockerfile", 2, "RIGHT"),
        ("deploy/app.yaml", 3, "RIGHT"),
    ]
    assert {r.body["commit_id"] for r in posted} == {gh.pulls[7].head_sha}
    assert review(gh)["root"]["body"] == f"runs as root\n\n{inline_marker(KEY, 'root')}"

    # root changes wording, apt is gone, pod stays as it was, tls is new
    second_findings = [
        finding("root", 3, "runs as root (uid 0)"),
        finding("pod", 3, path="deploy/app.yaml"),
        finding("tls", 23),
    ]
    second = platform(ctx(gh)).sync_inline(KEY, second_findings)

    assert (second.posted, second.updated, second.resolved, second.outside_diff) == (1, 1, 1, 0)
    comments = review(gh)
    assert len(gh.review_comments(7)) == 4
    assert comments["root"]["body"].startswith("runs as root (uid 0)\n\n")
    # A finding that is gone keeps its text, struck through, and says since which commit.
    assert comments["apt"]["body"] == (
        f"~~apt lists kept~~\n\n✅ No longer reported in {gh.pulls[7].head_sha} (ci-security).\n\n"
        f"{inline_marker(KEY, 'apt')}"
    )
    assert comments["tls"]["line"] == 23

    writes = len(gh.sent("POST")) + len(gh.sent("PATCH"))
    third = platform(ctx(gh)).sync_inline(KEY, second_findings)
    assert (third.posted, third.updated, third.resolved) == (0, 0, 0)
    assert len(gh.sent("POST")) + len(gh.sent("PATCH")) == writes  # nothing to do, nothing sent

    # When it comes back, its comment gets its text back (no second comment).
    back = platform(ctx(gh)).sync_inline(KEY, [*second_findings, finding("apt", 2, "apt lists kept")])
    assert (back.posted, back.updated, back.resolved) == (0, 1, 0)
    assert review(gh)["apt"]["body"] == f"apt lists kept\n\n{inline_marker(KEY, 'apt')}"


def test_inline_comment_outside_the_diff_is_not_sent(gh):
    outcome = platform(ctx(gh)).sync_inline(
        KEY,
        [
            finding("in-diff", 5),
            finding("unchanged-line", 12),  # between the hunks
            finding("deleted-file", 1, path="old.txt"),
            finding("binary", 1, path="logo.png"),
            finding("not-in-pr", 1, path="README.md"),
            finding("renamed", 5, path="k8s/new.yaml"),
        ],
    )

    assert (outcome.posted, outcome.outside_diff, outcome.action) == (2, 4, "done")
    sent = [(r.body["path"], r.body["line"]) for r in gh.sent("POST", "pulls/create-review-comment")]
    assert sent == [("Dockerfile", 5), ("k8s/new.yaml", 5)]


def test_inline_anchors_come_from_every_page_of_files():
    with GitHubStandIn() as gh:
        padding = [PullFile(f"src/f{n}.py", patch="@@ -1 +1 @@\n-a\n+b") for n in range(120)]
        gh.add_pull(7, files=[*padding, PullFile("Dockerfile", patch=DOCKERFILE_PATCH)])

        outcome = platform(ctx(gh)).sync_inline(KEY, [finding("late", 23)])

        assert (outcome.posted, outcome.outside_diff) == (1, 0)
        pages = [r.query.get("page", ["1"])[0] for r in gh.sent("GET", "pulls/list-files")]
        assert pages == ["1", "2"]


def test_inline_comments_are_capped_per_run(gh):
    many = [finding(f"f{n}", line) for n, line in enumerate([1, 2, 3, 4, 5, 6, 22])]

    outcome = platform(ctx(gh), inline_cap=4).sync_inline(KEY, many)

    assert outcome.posted == 4
    assert outcome.detail == "3 new inline comment(s) left out: at most 4 are posted per run"
    assert len(gh.review_comments(7)) == 4


def test_inline_comment_rejected_by_github_does_not_stop_the_others(gh):
    gh.fail(
        "POST",
        r".*/pulls/7/comments",
        422,
        message="Validation Failed",
    )

    outcome = platform(ctx(gh)).sync_inline(KEY, [finding("a", 2), finding("b", 3)])

    assert (outcome.posted, outcome.action) == (1, "failed")
    assert outcome.detail == "1 inline comment(s) failed, first: 422 Validation Failed"


def test_inline_5xx_after_the_write_makes_no_duplicate(gh):
    gh.fail("POST", r".*/pulls/7/comments", 500, after_apply=True)

    outcome = platform(ctx(gh)).sync_inline(KEY, [finding("a", 2)])

    assert (outcome.posted, outcome.action) == (1, "done")
    assert len(gh.review_comments(7)) == 1


def test_inline_leaves_other_peoples_review_comments_alone(gh):
    gh.add_review_comment(7, path="Dockerfile", line=2, body=f"quoting\n\n{inline_marker(KEY, 'gone')}")

    outcome = platform(ctx(gh)).sync_inline(KEY, [])

    assert outcome.resolved == 0
    assert gh.review_comments(7)[0]["body"].startswith("quoting")


def test_writes_are_paced(gh):
    sleeps: list[float] = []
    run = GitHubPlatform(ctx(gh), sleep=sleeps.append)

    run.sync_inline(KEY, [finding("a", 2), finding("b", 3), finding("c", 4)])

    assert len(sleeps) == 2
    assert all(0.5 < s <= 1.0 for s in sleeps)


# -- code scanning -----------------------------------------------------------------------------------

SARIF = {
    "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
    "version": "2.1.0",
    "runs": [{"tool": {"driver": {"name": "ci-security", "rules": []}}, "results": []}],
}


def test_sarif_upload_payload_decodes_back_to_the_document(gh):
    outcome = platform(ctx(gh)).upload_sarif(json.dumps(SARIF))

    assert outcome.action == "created"
    assert outcome.detail.startswith("analysis ")
    (upload,) = gh.sarif_uploads
    assert upload["document"] == SARIF
    assert (upload["commit_sha"], upload["ref"], upload["tool_name"]) == (
        MERGE_SHA,
        "refs/pull/7/merge",
        "ci-security",
    )
    raw = gh.sent("POST", "code-scanning/upload-sarif")[0].body["sarif"]
    assert json.loads(gzip.decompress(base64.b64decode(raw))) == SARIF


def test_sarif_over_the_size_limit_is_skipped(gh, monkeypatch):
    monkeypatch.setattr(github_platform, "SARIF_LIMIT", 50)

    outcome = platform(ctx(gh)).upload_sarif(json.dumps(SARIF))

    assert outcome.action == "skipped"
    assert "too large for code scanning" in outcome.detail
    assert gh.requests == []


def test_sarif_without_advanced_security_is_skipped_and_comments_still_work(gh):
    gh.code_scanning = "disabled"
    run = platform(ctx(gh))

    sarif = run.upload_sarif(json.dumps(SARIF))
    comment = run.upsert_comment(KEY, "report")

    assert sarif.action == "skipped"
    assert sarif.detail.startswith(
        "code scanning is not enabled in this repository (Advanced Security must be"
    )
    assert comment.action == "created"


def test_sarif_forbidden_names_the_permission_and_does_not_block_comments(gh):
    gh.fail("POST", r".*/code-scanning/sarifs", 403, message="Resource not accessible by integration")
    run = platform(ctx(gh))

    first = run.upload_sarif(json.dumps(SARIF))
    second = run.upload_sarif(json.dumps(SARIF))
    comment = run.upsert_comment(KEY, "report")

    assert first.action == second.action == "skipped"
    assert "security-events: write" in first.detail
    assert second.detail == first.detail
    assert len(gh.sent("POST", "code-scanning/upload-sarif")) == 1
    assert comment.action == "created"


def test_sarif_upload_retries_a_503(gh):
    gh.fail("POST", r".*/code-scanning/sarifs", 503)

    assert platform(ctx(gh)).upload_sarif(json.dumps(SARIF)).action == "created"
    assert len(gh.sarif_uploads) == 1


# -- pieces ------------------------------------------------------------------------------------------


# -- the stand-in and its OpenAPI subset -------------------------------------------------------------


def test_standin_rejects_and_records_requests_outside_the_description():
    with GitHubStandIn() as gh:
        gh.add_pull(7, files=FILES)
        auth = {"Authorization": f"token {gh.token}"}
        bad_body = requests.post(
            f"{gh.url}/repos/octo-org/app/issues/7/comments", json={"text": "x"}, headers=auth
        )
        bad_query = requests.get(f"{gh.url}/repos/octo-org/app/pulls/7/files?per_page=many", headers=auth)
        unknown = requests.get(f"{gh.url}/repos/octo-org/app/pulls/7/reviews", headers=auth)
        bad_sarif = requests.post(
            f"{gh.url}/repos/octo-org/app/code-scanning/sarifs",
            json={"commit_sha": "abc", "ref": "main", "sarif": "x"},
            headers=auth,
        )

        assert (bad_body.status_code, bad_query.status_code, unknown.status_code) == (422, 422, 404)
        assert bad_sarif.status_code == 422
        text = "\n".join(gh.violations)
        assert "'body' is a required property" in text
        assert "per_page" in text
        assert "no such operation" in text
        assert "commit_sha" in text and "ref" in text
        assert gh.issue_comments(7) == []
        with pytest.raises(AssertionError, match="OpenAPI violations"):
            gh.check()
        gh.violations.clear()  # seen; leaving the block would raise them again


def test_standin_answers_are_valid_for_every_operation():
    with GitHubStandIn(identity="user") as gh:
        gh.add_pull(7, files=FILES)
        auth = {"Authorization": f"token {gh.token}"}
        comment = gh.add_comment(7, "hi")
        note = gh.add_review_comment(7, path="Dockerfile", line=2, body="hello")
        for path in (
            "/user",
            "/repos/octo-org/app",
            "/repos/octo-org/app/pulls/7",
            "/repos/octo-org/app/pulls/7/files",
            f"/repos/octo-org/app/issues/comments/{comment['id']}",
            f"/repos/octo-org/app/pulls/comments/{note['id']}",
        ):
            assert requests.get(gh.url + path, headers=auth).status_code == 200, path
        gh.check()


def test_openapi_subset_is_complete_and_traced_to_its_source():
    source = shared_path(*github_openapi.SOURCE)
    document = github_openapi.shared_subset()
    info = document["x-ci-security-subset"]
    assert info["source"] == source.name
    assert info["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    served = sorted(
        (method, template)
        for template, item in document["paths"].items()
        for method in item
        if method not in ("parameters", "summary")
    )
    assert served == sorted(github_openapi.OPERATIONS)
    # The closure is complete (every reference resolves inside the subset) and holds nothing else.
    reached = set(github_openapi.refs(document["paths"]))
    pending = list(reached)
    while pending:
        for ref in github_openapi.refs(github_openapi.pointer(document, pending.pop())):
            if ref not in reached:
                reached.add(ref)
                pending.append(ref)
    kept = {f"#/components/{kind}/{name}" for kind, items in document["components"].items() for name in items}
    assert kept == reached
    assert {
        "#/components/schemas/pull-request",
        "#/components/schemas/issue-comment",
        "#/components/schemas/pull-request-review-comment",
        "#/components/schemas/code-scanning-sarifs-receipt",
    } <= kept


def test_openapi_subset_script_writes_what_the_stand_in_uses(tmp_path):
    source = shared_path(*github_openapi.SOURCE)
    out = tmp_path / "subset.json"
    env = {**os.environ, "CI_SECURITY_SHARED_DIR": str(source.parents[1])}
    script = ROOT / "scripts" / "github-openapi-subset.py"
    proc = subprocess.run(
        [sys.executable, str(script), str(out)], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text()) == github_openapi.shared_subset()
    assert proc.stderr.startswith(f"{out}: {len(github_openapi.OPERATIONS)} operations, ")
    assert len(github_openapi.OPERATIONS) == 26
    missing = subprocess.run(
        [sys.executable, str(script), "-"],
        env={**env, "CI_SECURITY_SHARED_DIR": str(tmp_path / "none")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2 and "no shared directory" in missing.stderr and not missing.stdout
