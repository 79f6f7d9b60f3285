"""GitLabPlatform against the GitLab stand-in (tests/testkit/gitlab_standin.py): what the server holds
after each scenario, and what was sent. The stand-in rejects (and records) any request GitLab's
documented API would reject, and leaving it asserts there were none.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
import requests
from testkit.diffs import APP_DIFF
from testkit.gitlab_standin import GitLabStandIn, file_diff, merge_request_setup

from ci_security.platforms.base import InlineComment, Outcome, inline_marker, marker
from ci_security.platforms.context import CiContext
from ci_security.platforms.gitlab import (
    COMMENT_LIMIT,
    INLINE_CAP,
    SARIF_NOTICE,
    GitLabPlatform,
    server_url,
)

TOKEN = "glpat-SeCrEt-0123456789abcdef"
ALICE_TOKEN = "glpat-alice-token-000000000000"
READ_ONLY_TOKEN = "glpat-read-api-only-0000000000"
JOB_TOKEN = "glcbt-64_CiJobTokenValue-0000000000"
PID = 5
IID = 7
KEY = "image:registry.example/shop"
JOB_URL = "https://gitlab.example/acme/shop/-/jobs/4242"
REFS = {"base_sha": "1" * 40, "start_sha": "2" * 40, "head_sha": "3" * 40}

# deploy/app.yaml: new lines 1-3 context, 4-5 added, 6-7 context; a second hunk 20-22 with 21 added.
RENAMED_DIFF = "@@ -3,3 +3,4 @@\n kind: Service\n metadata:\n+  name: shop\n   labels: {}\n"
NEW_FILE_DIFF = "@@ -0,0 +1,2 @@\n+FROM python:3.12\n+USER root\n"


@dataclass
class World:
    server: GitLabStandIn
    bot: int
    alice: int
    sleeps: list[float] = field(default_factory=list)

    def context(self, **changes: Any) -> CiContext:
        base = CiContext(
            platform="gitlab",
            api_url=self.server.api_url,
            repository="acme/shop",
            project_id=str(PID),
            change=IID,
            head_sha=REFS["head_sha"],
            sha=REFS["head_sha"],
            event="merge_request_event",
            job_url=JOB_URL,
            token=TOKEN,
        )
        return replace(base, **changes)

    def platform(self, **changes: Any) -> GitLabPlatform:
        return GitLabPlatform(self.context(**changes), sleep=self.sleeps.append)

    def notes(self) -> list[dict[str, Any]]:
        return [n for n in self.server.notes(PID, IID) if not n["system"] and n["type"] is None]

    def threads(self) -> list[dict[str, Any]]:
        return [d for d in self.server.discussions(PID, IID) if not d["individual_note"]]

    def sent(self, method: str, suffix: str) -> list[Any]:
        return [r for r in self.server.requests if r.method == method and r.path.endswith(suffix)]


def _world(
    server: GitLabStandIn, *, bot_role: str = "developer", source_project_id: int | None = None
) -> World:
    bot = server.add_user("project_5_bot_3f1a", bot=True)
    alice = server.add_user("alice")
    server.add_token(TOKEN, bot)
    server.add_token(ALICE_TOKEN, alice)
    server.add_token(READ_ONLY_TOKEN, bot, scopes=("read_api",))
    server.add_project("acme/shop", project_id=PID, members={bot: bot_role, alice: "maintainer"})
    server.add_merge_request(
        PID,
        IID,
        author_id=alice,
        diff_refs=REFS,
        source_project_id=source_project_id,
        diffs=[
            file_diff("deploy/app.yaml", APP_DIFF),
            file_diff("k8s/service.yaml", RENAMED_DIFF, old_path="k8s/svc.yaml", renamed_file=True),
            file_diff("Dockerfile", NEW_FILE_DIFF, new_file=True),
            file_diff("old.txt", "@@ -1 +0,0 @@\n-gone\n", deleted_file=True),
        ],
    )
    server.add_note(PID, IID, alice, "added 1 commit", system=True)
    return World(server, bot, alice)


@pytest.fixture
def world() -> Iterator[World]:
    with GitLabStandIn() as server:
        yield _world(server)


def _comment(fingerprint: str, line: int, body: str = "", path: str = "deploy/app.yaml") -> InlineComment:
    return InlineComment(fingerprint=fingerprint, path=path, line=line, body=body or f"finding {fingerprint}")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the summary note -------------------------------------------------------------------------------


def test_first_run_creates_one_note_second_edits_it_third_leaves_it(world: World) -> None:
    first = world.platform().upsert_comment(KEY, "## ci-security\n\n2 critical")
    assert first.action == "created"
    notes = world.notes()
    assert len(notes) == 1
    assert notes[0]["body"] == f"## ci-security\n\n2 critical\n\n{marker(KEY)}"
    assert notes[0]["author"]["id"] == world.bot
    assert first.url == f"{world.server.url}/acme/shop/-/merge_requests/{IID}#note_{notes[0]['id']}"

    second = world.platform().upsert_comment(KEY, "## ci-security\n\n1 critical")
    assert (second.action, second.url) == ("updated", first.url)
    notes = world.notes()
    assert len(notes) == 1
    assert notes[0]["body"].startswith("## ci-security\n\n1 critical")

    puts = len(world.sent("PUT", f"/notes/{notes[0]['id']}"))
    third = world.platform().upsert_comment(KEY, "## ci-security\n\n1 critical")
    assert third.action == "unchanged"
    assert len(world.sent("PUT", f"/notes/{notes[0]['id']}")) == puts
    assert len(world.notes()) == 1


def test_project_given_by_path_works(world: World) -> None:
    platform = world.platform(project_id="acme/shop")
    assert platform.upsert_comment(KEY, "report").action == "created"
    assert platform.sync_inline(KEY, [_comment("a", 4)]).posted == 1
    assert world.sent("GET", "/projects/acme/shop/merge_requests/7/diffs")


def test_each_scan_key_has_its_own_note(world: World) -> None:
    platform = world.platform()
    assert platform.upsert_comment("image:a", "A").action == "created"
    assert platform.upsert_comment("image:b", "B").action == "created"
    assert platform.upsert_comment("image:a", "A2").action == "updated"
    bodies = sorted(n["body"] for n in world.notes())
    assert bodies == [f"A2\n\n{marker('image:a')}", f"B\n\n{marker('image:b')}"]


def test_note_with_the_marker_on_the_second_page_is_found(world: World) -> None:
    for number in range(130):
        world.server.add_note(PID, IID, world.alice, f"review comment {number}")
    ours = world.server.add_note(PID, IID, world.bot, f"old report\n\n{marker(KEY)}")

    outcome = world.platform().upsert_comment(KEY, "new report")

    assert outcome.action == "updated"
    assert [n["body"] for n in world.notes() if n["author"]["id"] == world.bot] == [
        f"new report\n\n{marker(KEY)}"
    ]
    assert len(world.sent("PUT", f"/notes/{ours}")) == 1
    pages = [r.query.get("page", "1") for r in world.sent("GET", f"/merge_requests/{IID}/notes")]
    assert pages == ["1", "2"]
    assert not world.sent("POST", "/notes")


def test_another_users_note_carrying_the_marker_is_never_edited(world: World) -> None:
    quoted = f"> copied from the bot\n\n{marker(KEY)}"
    theirs = world.server.add_note(PID, IID, world.alice, quoted)

    outcome = world.platform().upsert_comment(KEY, "report")

    assert outcome.action == "created"
    assert not world.sent("PUT", f"/notes/{theirs}")
    by_author = {n["author"]["id"]: n["body"] for n in world.notes()}
    assert by_author == {world.alice: quoted, world.bot: f"report\n\n{marker(KEY)}"}
    assert len(world.sent("GET", "/user")) == 1


def test_a_new_job_link_alone_does_not_edit_the_note(world: World) -> None:
    body = "2 findings\n\n<sub>[ci-security job]({url})</sub>"
    first = world.platform().upsert_comment(KEY, body.format(url="https://gl/jobs/1"))
    again = world.platform(job_url="https://gl/jobs/2").upsert_comment(
        KEY, body.format(url="https://gl/jobs/2")
    )
    assert (first.action, again.action) == ("created", "unchanged")
    assert not [r for r in world.server.writes() if r.method == "PUT"]


def test_no_line_of_a_note_is_a_quick_action(world: World) -> None:
    world.platform().upsert_comment(KEY, "summary\n/merge\n  /close\n```\n/code stays\n```")
    assert world.notes()[0]["body"].startswith("summary\n\\/merge\n  \\/close\n```\n/code stays\n```")


def test_body_over_the_limit_is_cut_at_a_line_with_a_footer(world: World) -> None:
    line = "| CVE-2026-0001 | openssl | 3.0.1 | 3.0.2 | critical |\n"
    body = "## ci-security\n\n<details><summary>all</summary>\n\n" + line * (COMMENT_LIMIT // len(line) + 500)

    outcome = world.platform().upsert_comment(KEY, body)

    assert outcome.action == "created"
    assert "1,000,000" in outcome.detail
    stored = world.notes()[0]["body"]
    assert len(stored) <= COMMENT_LIMIT
    assert stored.endswith(f"…truncated: the full report is in the job ({JOB_URL})\n\n{marker(KEY)}")
    kept = stored.split("\n</details>")[0]
    assert kept.endswith(line.rstrip("\n"))  # cut at a line boundary
    assert "</details>" in stored  # the open block is closed so the footer shows

    assert world.platform().upsert_comment(KEY, body).action == "unchanged"


# --- when not to write --------------------------------------------------------------------------------


def test_branch_pipeline_is_skipped_without_a_request(world: World) -> None:
    platform = world.platform(change=None)
    assert platform.upsert_comment(KEY, "x") == Outcome(action="skipped", detail="not a merge request")
    assert platform.sync_inline(KEY, [_comment("a", 4)]).action == "skipped"
    assert world.server.requests == []


def test_missing_token_is_skipped_without_a_request(world: World) -> None:
    platform = world.platform(token="")
    outcome = platform.upsert_comment(KEY, "x")
    assert outcome == Outcome(action="skipped", detail="no token (CI_SECURITY_GITLAB_TOKEN is not set)")
    assert platform.sync_inline(KEY, [_comment("a", 4)]).detail == outcome.detail
    assert world.server.requests == []


def test_fork_pipeline_running_in_the_fork_is_skipped() -> None:
    with GitLabStandIn() as server:
        world = _world(server)  # the fork's own !7 is not a cross-project merge request
        platform = world.platform(fork=True)
        outcome = platform.upsert_comment(KEY, "x")
        assert outcome.action == "skipped"
        assert "fork" in outcome.detail
        assert platform.sync_inline(KEY, [_comment("a", 4)]).detail == outcome.detail
        assert server.writes() == []


def test_fork_merge_request_in_the_parent_project_gets_its_note() -> None:
    with GitLabStandIn() as server:
        world = _world(server, source_project_id=99)
        assert world.platform(fork=True).upsert_comment(KEY, "x").action == "created"
        assert len(world.notes()) == 1


def test_read_only_token_403_turns_the_rest_into_skips(world: World) -> None:
    platform = world.platform(token=READ_ONLY_TOKEN)

    outcome = platform.upsert_comment(KEY, "report")
    inline = platform.sync_inline(KEY, [_comment("a", 4)])

    assert outcome.action == "skipped"
    assert "403" in outcome.detail
    assert "CI_SECURITY_GITLAB_TOKEN" in outcome.detail
    assert "api scope" in outcome.detail
    assert "Reporter" in outcome.detail
    assert (inline.action, inline.detail, inline.posted) == ("skipped", outcome.detail, 0)
    assert [(r.method, r.status) for r in world.server.writes()] == [("POST", 403)]
    assert world.notes() == []


def test_job_token_is_refused_with_one_notice_naming_the_variable(world: World) -> None:
    platform = world.platform(token=JOB_TOKEN)

    outcome = platform.upsert_comment(KEY, "report")
    inline = platform.sync_inline(KEY, [_comment("a", 4)])
    again = platform.upsert_comment(KEY, "report")

    assert outcome.action == "skipped"
    for words in ("401", "CI_SECURITY_GITLAB_TOKEN", "api scope", "Reporter", "CI_JOB_TOKEN"):
        assert words in outcome.detail
    assert inline.detail == again.detail == outcome.detail
    assert len(world.server.requests) == 1  # the first 401 ends the run's API calls
    assert world.server.requests[0].status == 401
    assert world.sleeps == []


def test_merge_request_not_found_fails_with_one_line(world: World) -> None:
    outcome = world.platform(change=99).upsert_comment(KEY, "x")
    assert outcome.action == "failed"
    assert outcome.detail == "404 merge request !99 not found in project 5"
    assert world.server.writes() == []


# --- retries --------------------------------------------------------------------------------------------


def test_500_then_success_posts_once(world: World) -> None:
    world.server.fault("POST", rf"/merge_requests/{IID}/notes$", 500)
    outcome = world.platform().upsert_comment(KEY, "report")
    assert outcome.action == "created"
    assert len(world.notes()) == 1
    assert world.sleeps == [0.5]


def test_500_after_the_server_stored_the_note_does_not_duplicate_it(world: World) -> None:
    world.server.fault("POST", rf"/merge_requests/{IID}/notes$", 500, after=True)
    outcome = world.platform().upsert_comment(KEY, "report")
    assert outcome.action == "created"
    assert len(world.notes()) == 1
    assert len(world.sent("POST", "/notes")) == 1
    assert outcome.url is not None
    assert outcome.url.endswith(f"#note_{world.notes()[0]['id']}")


def test_429_waits_what_retry_after_says(world: World) -> None:
    world.server.fault("GET", rf"/merge_requests/{IID}/notes$", 429, headers={"Retry-After": "7"})
    world.server.fault("PUT", r"/notes/\d+$", 429, headers={"Retry-After": "3"})
    world.server.add_note(PID, IID, world.bot, f"old\n\n{marker(KEY)}")

    outcome = world.platform().upsert_comment(KEY, "new")

    assert outcome.action == "updated"
    assert world.sleeps == [7.0, 3.0]
    assert world.notes()[-1]["body"].startswith("new")


def test_persistent_5xx_fails_after_the_attempts(world: World) -> None:
    world.server.fault("POST", r"/notes$", 502, times=10, body={"message": "502 Bad Gateway"})
    outcome = world.platform().upsert_comment(KEY, "report")
    assert outcome.action == "failed"
    assert outcome.detail == "502 Bad Gateway (after 5 attempts)"
    assert len(world.sleeps) == 4
    assert world.notes() == []


def test_connection_refused_fails_without_a_crash(world: World) -> None:
    api_url = f"http://127.0.0.1:{_closed_port()}/api/v4"
    platform = world.platform(api_url=api_url)
    outcome = platform.upsert_comment(KEY, "report")
    inline = platform.sync_inline(KEY, [_comment("a", 4)])
    assert outcome.action == "failed"
    assert outcome.detail.startswith("cannot reach GitLab: ")
    assert "Connection refused" in outcome.detail
    assert outcome.detail.endswith("(after 5 attempts)")
    assert inline.action == "failed"


def test_dropped_connection_is_retried(world: World) -> None:
    world.server.fault("GET", rf"/merge_requests/{IID}$", 0)
    assert world.platform().upsert_comment(KEY, "report").action == "created"
    assert len(world.sleeps) == 1


def test_token_never_reaches_outcomes_or_logs(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    world.server.fault("POST", r"/notes$", 500, after=True)
    world.server.fault("GET", r"/discussions$", 429, headers={"Retry-After": "1"})
    outcomes: list[object] = [
        world.platform().upsert_comment(KEY, "report"),
        world.platform().sync_inline(KEY, [_comment("a", 4), _comment("b", 99)]),
        world.platform(change=99).upsert_comment(KEY, "x"),
        world.platform(api_url=f"http://127.0.0.1:{_closed_port()}/api/v4").upsert_comment(KEY, "x"),
        world.platform(token=JOB_TOKEN).upsert_comment(KEY, "x"),
        world.platform(token=READ_ONLY_TOKEN).upsert_comment(KEY, "x"),
    ]
    for secret in (TOKEN, JOB_TOKEN, READ_ONLY_TOKEN):
        assert secret not in caplog.text
        assert all(secret not in repr(outcome) for outcome in outcomes)
        assert secret not in repr(world.context(token=secret))
    assert any(r.headers.get("PRIVATE-TOKEN") == TOKEN for r in world.server.requests)


def test_upload_sarif_is_skipped(world: World) -> None:
    assert world.platform().upload_sarif("{}") == Outcome(action="skipped", detail=SARIF_NOTICE)
    assert world.server.requests == []


# --- inline discussions ---------------------------------------------------------------------------------


def test_discussion_lifecycle_new_updated_unchanged_resolved_reopened(world: World) -> None:
    added, context = _comment("fp-added", 4, "privileged pod"), _comment("fp-context", 2, "kind check")

    first = world.platform().sync_inline(KEY, [added, context])
    assert (first.action, first.posted, first.updated, first.resolved, first.outside_diff) == (
        "done",
        2,
        0,
        0,
        0,
    )
    threads = {t["notes"][0]["body"]: t for t in world.threads()}
    assert set(threads) == {
        f"privileged pod\n\n{inline_marker(KEY, 'fp-added')}",
        f"kind check\n\n{inline_marker(KEY, 'fp-context')}",
    }

    changed = replace(added, body="privileged pod (now also hostPID)")
    second = world.platform().sync_inline(KEY, [changed, context])
    assert (second.posted, second.updated, second.resolved) == (0, 1, 0)
    note_puts = [r for r in world.server.writes() if r.method == "PUT" and "/notes/" in r.path]
    assert len(note_puts) == 1
    assert note_puts[0].params == {
        "body": f"privileged pod (now also hostPID)\n\n{inline_marker(KEY, 'fp-added')}"
    }

    writes = len(world.server.writes())
    same = world.platform().sync_inline(KEY, [changed, context])
    assert (same.posted, same.updated, same.resolved, same.action) == (0, 0, 0, "done")
    assert len(world.server.writes()) == writes

    gone = world.platform().sync_inline(KEY, [changed])
    assert (gone.posted, gone.updated, gone.resolved) == (0, 0, 1)
    resolved = {t["notes"][0]["body"].split("\n")[0]: t["notes"][0]["resolved"] for t in world.threads()}
    # The gone finding keeps its text, struck through, with the commit it is gone in.
    assert resolved == {"privileged pod (now also hostPID)": False, "~~kind check~~": True}
    gone_note = next(t["notes"][0]["body"] for t in world.threads() if t["notes"][0]["resolved"])
    assert f"\n\n✅ No longer reported in {world.context().head_sha} (ci-security).\n\n" in gone_note
    resolve = world.server.writes()[-1]
    assert (resolve.method, resolve.params) == ("PUT", {"resolved": True})
    assert resolve.path.endswith(f"/discussions/{_thread_id(world, 'fp-context')}")

    assert world.platform().sync_inline(KEY, [changed]).resolved == 0  # already resolved: left alone

    back = world.platform().sync_inline(KEY, [changed, context])
    assert (back.posted, back.updated, back.resolved) == (0, 1, 0)
    assert all(not t["notes"][0]["resolved"] for t in world.threads())
    assert world.server.writes()[-1].params == {"resolved": False}
    assert len(world.threads()) == 2
    assert {t["notes"][0]["body"].split("\n")[0] for t in world.threads()} == {
        "privileged pod (now also hostPID)",
        "kind check",
    }


def _thread_id(world: World, fingerprint: str) -> str:
    tag = inline_marker(KEY, fingerprint)
    return next(t["id"] for t in world.threads() if t["notes"][0]["body"].endswith(tag))


def test_position_payload_added_context_renamed_and_new_file(world: World) -> None:
    comments = [
        _comment("added", 21),
        _comment("context", 6),
        _comment("renamed", 6, path="k8s/service.yaml"),
        _comment("new-file", 2, path="./Dockerfile"),
    ]

    outcome = world.platform().sync_inline(KEY, comments)

    assert (outcome.action, outcome.posted) == ("done", 4)
    positions = [r.params["position"] for r in world.sent("POST", f"/merge_requests/{IID}/discussions")]
    shas = {"base_sha": "1" * 40, "start_sha": "2" * 40, "head_sha": "3" * 40, "position_type": "text"}
    assert positions == [
        {**shas, "old_path": "deploy/app.yaml", "new_path": "deploy/app.yaml", "new_line": 21},
        {**shas, "old_path": "deploy/app.yaml", "new_path": "deploy/app.yaml", "new_line": 6, "old_line": 4},
        {**shas, "old_path": "k8s/svc.yaml", "new_path": "k8s/service.yaml", "new_line": 6, "old_line": 5},
        {**shas, "old_path": "Dockerfile", "new_path": "Dockerfile", "new_line": 2},
    ]
    stored = [t["notes"][0] for t in world.threads()]
    assert all(n["type"] == "DiffNote" and n["resolvable"] for n in stored)


def test_lines_outside_the_diff_are_counted_and_never_sent(world: World) -> None:
    comments = [
        _comment("in", 4),
        _comment("between-hunks", 12),
        _comment("removed-side", 8),
        _comment("other-file", 1, path="README.md"),
        _comment("deleted-file", 1, path="old.txt"),
    ]

    outcome = world.platform().sync_inline(KEY, comments)

    assert (outcome.action, outcome.posted, outcome.outside_diff) == ("done", 1, 4)
    sent = world.sent("POST", "/discussions")
    assert [r.params["position"]["new_line"] for r in sent] == [4]


def test_new_discussions_are_capped_per_run(world: World) -> None:
    lines = [4, 5, 7, 21]
    comments = [_comment(f"fp{n}", lines[n % len(lines)]) for n in range(INLINE_CAP + 5)]
    outcome = world.platform().sync_inline(KEY, comments)
    assert outcome.posted == INLINE_CAP
    assert f"5 new inline comment(s) left out: at most {INLINE_CAP} are posted per run" in outcome.detail
    assert len(world.threads()) == INLINE_CAP


def test_discussion_500_after_it_was_stored_is_not_duplicated(world: World) -> None:
    world.server.fault("POST", rf"/merge_requests/{IID}/discussions$", 500, after=True)
    outcome = world.platform().sync_inline(KEY, [_comment("a", 4)])
    assert (outcome.action, outcome.posted) == ("done", 1)
    assert len(world.threads()) == 1
    assert len(world.sent("POST", "/discussions")) == 1


def test_other_users_threads_and_replies_are_left_alone(world: World) -> None:
    world.platform().sync_inline(KEY, [_comment("a", 4)])
    ours = _thread_id(world, "a")
    reply = requests.post(
        f"{world.server.api_url}/projects/{PID}/merge_requests/{IID}/discussions/{ours}/notes",
        headers={"PRIVATE-TOKEN": ALICE_TOKEN},
        json={"body": "agreed, fixing"},
        timeout=10,
    )
    assert reply.status_code == 201
    theirs = requests.post(
        f"{world.server.api_url}/projects/{PID}/merge_requests/{IID}/discussions",
        headers={"PRIVATE-TOKEN": ALICE_TOKEN},
        json={"body": f"quoting the bot\n\n{inline_marker(KEY, 'b')}"},
        timeout=10,
    )
    assert theirs.status_code == 201

    outcome = world.platform().sync_inline(KEY, [])

    assert outcome.resolved == 1
    by_id = {t["id"]: t for t in world.threads()}
    assert by_id[ours]["notes"][0]["resolved"] is True
    assert by_id[ours]["notes"][1]["body"] == "agreed, fixing"
    assert by_id[theirs.json()["id"]]["notes"][0]["resolved"] is False


def test_reporter_cannot_resolve_and_that_fails_one_thread_only() -> None:
    with GitLabStandIn() as server:
        world = _world(server, bot_role="reporter")
        assert world.platform().sync_inline(KEY, [_comment("a", 4), _comment("b", 5)]).posted == 2

        platform = world.platform()
        outcome = platform.sync_inline(KEY, [_comment("a", 4, "changed"), _comment("c", 21)])

        assert (outcome.action, outcome.posted, outcome.updated, outcome.resolved) == ("failed", 1, 1, 0)
        assert "403" in outcome.detail
        assert "Developer" in outcome.detail
        assert platform.upsert_comment(KEY, "summary").action == "created"


def test_merge_request_without_diff_refs_skips_inline() -> None:
    with GitLabStandIn() as server:
        world = _world(server)
        server.merge_requests[(PID, IID)].diff_refs = None
        outcome = world.platform().sync_inline(KEY, [_comment("a", 4)])
        assert (outcome.action, outcome.detail) == (
            "skipped",
            "the merge request has no diff yet (no diff_refs)",
        )
        assert server.writes() == []


def test_diff_pages_are_all_read() -> None:
    with GitLabStandIn() as server:
        world = _world(server)
        mr = server.merge_requests[(PID, IID)]
        mr.diffs = [file_diff(f"pad/{n}.txt", "@@ -1 +1 @@\n-a\n+b\n") for n in range(120)] + mr.diffs
        outcome = world.platform().sync_inline(KEY, [_comment("a", 4)])
        assert outcome.posted == 1
        pages = [r.query.get("page", "1") for r in world.sent("GET", "/diffs")]
        assert pages == ["1", "2"]


# --- pieces -------------------------------------------------------------------------------------------


def test_server_url_strips_the_api_suffix() -> None:
    assert server_url("https://gitlab.example.com/api/v4") == "https://gitlab.example.com"
    assert server_url("https://example.com/gitlab/api/v4/") == "https://example.com/gitlab"


# --- the stand-in itself ------------------------------------------------------------------------------


def test_standin_rejects_what_gitlab_would_and_records_it(world: World) -> None:
    api = world.server.api_url
    auth = {"PRIVATE-TOKEN": TOKEN}
    assert (
        requests.get(
            f"{api}/projects/{PID}/merge_requests/{IID}/comments", headers=auth, timeout=10
        ).status_code
        == 404
    )
    assert (
        requests.post(
            f"{api}/projects/{PID}/merge_requests/{IID}/notes", headers=auth, json={}, timeout=10
        ).status_code
        == 400
    )
    bad_line = {
        "body": "x",
        "position": {
            **REFS,
            "position_type": "text",
            "old_path": "deploy/app.yaml",
            "new_path": "deploy/app.yaml",
            "new_line": 12,
        },
    }
    url = f"{api}/projects/{PID}/merge_requests/{IID}/discussions"
    assert requests.post(url, headers=auth, json=bad_line, timeout=10).status_code == 400
    context_without_old = {**bad_line, "position": {**bad_line["position"], "new_line": 2}}
    assert requests.post(url, headers=auth, json=context_without_old, timeout=10).status_code == 400
    assert requests.get(f"{api}/user", timeout=10).status_code == 401
    violations = world.server.take_violations()
    assert len(violations) == 4
    assert "no such endpoint" in violations[0]
    assert "missing ['body']" in violations[1]
    assert "line 12 of deploy/app.yaml is not in the diff" in violations[2]
    assert "old_line must be 2" in violations[3]


def test_standin_paginates_as_gitlab_does(world: World) -> None:
    for number in range(45):
        world.server.add_note(PID, IID, world.alice, f"n{number}")
    url = f"{world.server.api_url}/projects/{PID}/merge_requests/{IID}/notes"
    first = requests.get(url, headers={"PRIVATE-TOKEN": TOKEN}, timeout=10)
    assert len(first.json()) == 20
    assert first.headers["X-Page"] == "1"
    assert first.headers["X-Next-Page"] == "2"
    assert first.headers["X-Prev-Page"] == ""
    assert first.headers["X-Total"] == "46"
    assert first.headers["X-Total-Pages"] == "3"
    assert first.links["next"]["url"] == f"{url}?page=2&per_page=20"
    assert first.json()[0]["body"] == "n44"  # newest first by default
    last = requests.get(first.links["last"]["url"], headers={"PRIVATE-TOKEN": TOKEN}, timeout=10)
    assert len(last.json()) == 6
    assert "next" not in last.links


def test_standin_merge_request_setup_is_ready_for_a_pipeline() -> None:
    with GitLabStandIn() as server:
        ids = merge_request_setup(server, token=TOKEN)
        platform = GitLabPlatform(
            CiContext(platform="gitlab", api_url=server.api_url, project_id="5", change=7, token=TOKEN),
            sleep=lambda _: None,
        )
        assert platform.upsert_comment(KEY, "report").action == "created"
        assert platform.sync_inline(KEY, [_comment("root", 2, path="Dockerfile")]).posted == 1
        assert [n["author"]["id"] for n in server.notes(ids["project"], ids["iid"])] == [ids["bot"]] * 2
