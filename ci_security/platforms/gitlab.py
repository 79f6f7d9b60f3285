"""GitLab: the sticky merge-request note and line discussions, on python-gitlab.

The summary is one merge-request note per scan key (`POST …/merge_requests/:iid/notes`, edited with
`PUT …/notes/:note_id`), found again among all pages of the MR's notes by its hidden marker and by
its author: only notes written by the token's own user (`GET /user`, which project and group access
tokens can read) are ever edited, so a note someone else wrote or quoted with our marker in it is left
alone. `/user` is asked only when some note carries the marker. Bodies are limited to GitLab's
1,000,000 characters, cut at a line boundary with a footer that points at the job.

Inline comments are MR discussions anchored with a `text` position whose SHAs are the MR's
`diff_refs` (`GET …/merge_requests/:iid`) and whose line is checked first against the hunks of
`GET …/merge_requests/:iid/diffs` (all pages): an added line gets `new_line`, an unchanged context
line `new_line` and `old_line` (GitLab rejects a context line without it), and `old_path` is the
path before a rename. Lines outside the diff are counted, never sent. Each discussion's first note
carries the finding's marker: it is edited when the body changed; when the finding is gone its text
is kept, struck through, with "No longer reported in <commit>", and the discussion is resolved; when
it comes back the text is restored and the discussion re-opened. At most `INLINE_CAP` new discussions are
started per run; the summary note lists every finding anyway.

Bodies are compared without the job link (`text.comparable`), so a run that changes nothing but the
job edits nothing. Every body sent passes `sanitize.gitlab_note`: a line starting with `/` would be
a quick action GitLab runs as the token's user.

Tokens: only `CI_SECURITY_GITLAB_TOKEN`, sent as `PRIVATE-TOKEN`. `CI_JOB_TOKEN` cannot post notes
(GitLab answers 401), so a 401 anywhere, or a 403 before any write has succeeded, ends the writes of
the run with one notice naming the variable and what it needs (scope `api`, role Reporter or
higher); a 403 on resolving a thread after other writes went through only fails that thread
(resolving needs the Developer role). The project is opened lazily: a job token cannot read a
private project, and the read is not needed.

Retries: python-gitlab retries 429 on its own (with real sleeps) and 5xx when told to; both are
turned off on every call and `retry.attempt` decides, with the response headers (`Retry-After`)
taken from the HTTP session because python-gitlab's exceptions drop them. Creating a note or a
discussion is retried only after looking for its marker again, so a write the server applied before
failing is not repeated.

Merge requests from forks: GitLab runs their pipelines in the fork's project unless a maintainer runs
them in the parent, and in the fork `CI_PROJECT_ID` names the fork, where the iid means nothing (or
another merge request). So when the context says fork and the merge request found there is not a
cross-project one (or there is none), the run's writes are skipped with a notice; a pipeline run in
the parent project for a fork's merge request comments as usual.

GitLab reads scan results from the pipeline's `container_scanning` and `codequality` report artifacts,
so there is no SARIF upload.

Fix merge requests (`propose_change`, see `base.py` for the rules): `GET /projects/:id` names the
default branch, `GET …/repository/branches/:branch` its head, `GET …/repository/files/:path?ref=`
each file's `blob_id` there, `GET …/merge_requests?source_branch=&state=all` the branch's merge
requests, `GET …/repository/compare?from=&to=` the commits the branch holds; the commit is one
`POST …/repository/commits` with `actions` (with `start_sha` for a new branch, plus `force` to
rewrite a branch whose commits are all ours, without both to add a commit on top); the merge request
is `POST …/merge_requests` (`remove_source_branch`, labels) or `PUT …/merge_requests/:iid`. They need
a token with the `api` scope and the Developer role (`CI_SECURITY_FIX_TOKEN`, else
`CI_SECURITY_GITLAB_TOKEN`): a 401 or 403 says so once and the later fixes are skipped.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

import requests
from gitlab.client import Gitlab
from gitlab.exceptions import GitlabError
from gitlab.v4.objects import ProjectMergeRequest

from ci_security.http import USER_AGENT, short_reason
from ci_security.platforms.base import (
    FIX_BRANCH_PREFIX,
    FIX_TRAILER,
    MARKER_PREFIX,
    ChangeRequest,
    DeclinedError,
    InlineComment,
    InlineOutcome,
    InlineTally,
    Outcome,
    check_planned_files,
    git_blob_id,
    inline_marker,
    marker,
)
from ci_security.platforms.context import CiContext
from ci_security.platforms.retry import ApiError, attempt
from ci_security.platforms.text import comparable, diff_lines, fit, is_gone, struck
from ci_security.sanitize import gitlab_note

T = TypeVar("T")

COMMENT_LIMIT = 1_000_000  # characters of a note
INLINE_CAP = 30  # new discussions per run
TIMEOUT = 60.0  # seconds per request
TOKEN_VARIABLE = "CI_SECURITY_GITLAB_TOKEN"  # noqa: S105 (a variable name, not a secret)
SARIF_NOTICE = "GitLab reads the container-scanning and code-quality report artifacts instead"
# python-gitlab retries 429 by default (obey_rate_limit) whatever the client says; off on every call.
_NO_RETRY: dict[str, Any] = {"obey_rate_limit": False, "retry_transient_errors": False}


class _SkipError(Exception):
    """The rest of the run's writes are skipped; the notice is in `GitLabPlatform._blocked`."""


@dataclass(frozen=True, slots=True)
class _FileDiff:
    old_path: str
    new_path: str
    lines: dict[int, int | None]  # new line → old line, None for an added line


@dataclass(frozen=True, slots=True)
class _Thread:
    discussion_id: str
    note_id: int
    body: str
    resolved: bool


def server_url(api_url: str) -> str:
    """The instance root python-gitlab wants, from `CI_API_V4_URL` (it appends `/api/v4` itself)."""
    return api_url.rstrip("/").removesuffix("/api/v4")


def _same(old: Any, new: str) -> bool:
    return isinstance(old, str) and comparable(old) == comparable(new)


def _repo_path(path: str) -> str:
    return path.removeprefix("./").lstrip("/")


def _message(exc: GitlabError) -> str:
    """GitLab's error message on one line: a string, or a hash of field errors."""
    raw: Any = exc.error_message
    if isinstance(raw, dict):
        text = "; ".join(f"{k} {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in raw.items())
    else:
        text = str(raw)
    text = " ".join(text.split())
    code = str(exc.response_code or "")
    return (text.removeprefix(code).strip() if code else text)[:200] or "error"


def read_only_reason(context: CiContext) -> str | None:
    """Why writes cannot work in this run, or None when they might: no token (`CI_JOB_TOKEN` cannot
    post notes, so it is never used).
    """
    return None if context.token else f"no token ({TOKEN_VARIABLE} is not set)"


class GitLabPlatform:
    """The merge request of a GitLab CI pipeline (or none, on a branch pipeline)."""

    name: ClassVar[str] = "gitlab"

    def __init__(
        self,
        context: CiContext,
        *,
        sleep: Callable[[float], None] = time.sleep,
        inline_cap: int = INLINE_CAP,
    ) -> None:
        self._context = context
        self._sleep = sleep
        self._inline_cap = inline_cap
        self._client: Gitlab | None = None
        self._mr: ProjectMergeRequest | None = None
        self._me: int | None = None
        self._blocked: str | None = None
        self._wrote = False
        self._headers: Mapping[str, str] | None = None
        self._fixing = False  # refusals are worded for fix merge requests
        self._open_fixes: int | None = None

    # --- Platform -----------------------------------------------------------------------------------

    def upsert_comment(self, key: str, body: str) -> Outcome:
        early = self._precheck()
        if early is not None:
            return Outcome(action=early[0], detail=early[1])
        try:
            return self._upsert(key, body)
        except _SkipError:
            return Outcome(action="skipped", detail=self._blocked or "")
        except ApiError as err:
            return Outcome(action="failed", detail=self._scrub(str(err)))

    def sync_inline(self, key: str, comments: Sequence[InlineComment]) -> InlineOutcome:
        early = self._precheck()
        if early is not None:
            return InlineOutcome(action=early[0], detail=early[1])
        tally = InlineTally()
        try:
            return self._sync(key, comments, tally)
        except _SkipError:
            return tally.outcome(self._inline_cap, "skipped", self._blocked or "")
        except ApiError as err:
            return tally.outcome(self._inline_cap, "failed", self._scrub(str(err)))

    def upload_sarif(self, sarif: str) -> Outcome:
        return Outcome(action="skipped", detail=SARIF_NOTICE)

    def propose_change(self, change: ChangeRequest, *, max_open: int) -> Outcome:
        if self._blocked is not None:
            return Outcome(action="skipped", detail=self._blocked)
        if not self._context.token:
            return Outcome(
                action="skipped",
                detail=f"no token (set CI_SECURITY_FIX_TOKEN or {TOKEN_VARIABLE}: api scope, Developer role)",
            )
        if not self._context.api_url or not self._context.project_id:
            return Outcome(action="failed", detail="CI_API_V4_URL or CI_PROJECT_ID is not set")
        self._fixing = True
        try:
            return self._propose(change, max_open)
        except _SkipError:
            return Outcome(action="skipped", detail=self._blocked or "")
        except DeclinedError as declined:
            return Outcome(action="skipped", detail=self._scrub(str(declined)))
        except ApiError as err:
            return Outcome(action="failed", detail=self._scrub(str(err)))

    # --- fix merge requests -------------------------------------------------------------------------

    def _propose(self, change: ChangeRequest, max_open: int) -> Outcome:
        project = self._call(lambda: self._gitlab().projects.get(self._context.project_id, **_NO_RETRY))
        base = str(project.attributes.get("default_branch") or "")
        if not base:
            raise DeclinedError("the project has no default branch (an empty repository)")
        base_sha = self._head(project, base)
        if base_sha is None:
            raise DeclinedError(f"the default branch {base} does not exist")
        check_planned_files(change, base, lambda path: self._blob(project, path, base_sha), "a pipeline")
        requests_of = self._call(
            lambda: [
                m.asdict()
                for m in project.mergerequests.list(
                    source_branch=change.branch, state="all", get_all=True, per_page=100, **_NO_RETRY
                )
            ]
        )
        current = next((m for m in requests_of if m.get("state") == "opened"), None)
        if current is None:
            closed = next(
                (m for m in requests_of if m.get("state") == "closed" and m.get("title") == change.title),
                None,
            )
            if closed is not None:
                raise DeclinedError(
                    f"!{closed.get('iid')} proposed this and was closed without merging: not opened again"
                )
            if self._count_open_fixes(project) >= max_open:
                raise DeclinedError(f"{max_open} fix merge request(s) are open already (fix.max_open_prs)")
        pushed = self._push(project, change, base_sha)
        body = gitlab_note(f"{change.body.rstrip()}\n\n{marker(f'fix:{change.branch}')}")
        body = body if len(body) <= COMMENT_LIMIT else body[: COMMENT_LIMIT - 200] + "\n\n…cut: see the job."
        if current is not None:
            iid = int(current["iid"])
            update: dict[str, Any] = {}
            if current.get("title") != change.title:
                update["title"] = change.title
            if not _same(current.get("description"), body):
                update["description"] = body
            have = set(current.get("labels") or [])
            missing = [label for label in change.labels if label not in have]
            if missing:
                update["add_labels"] = ",".join(missing)
            if update:
                self._call(lambda: project.mergerequests.update(iid, update, **_NO_RETRY), write=True)
            changed = pushed != "unchanged" or bool(update.keys() - {"add_labels"})
            detail = (
                "new commit" if pushed == "commit" else "branch rewritten" if pushed == "rewritten" else ""
            )
            return Outcome(
                action="updated" if changed else "unchanged", url=current.get("web_url"), detail=detail
            )
        payload = {
            "source_branch": change.branch,
            "target_branch": base,
            "title": change.title,
            "description": body,
            "labels": ",".join(change.labels),
            "remove_source_branch": True,
        }

        def recheck() -> dict[str, Any] | None:
            found = [
                m.asdict()
                for m in project.mergerequests.list(source_branch=change.branch, state="opened", **_NO_RETRY)
            ]
            return found[0] if found else None

        created = self._call(
            lambda: project.mergerequests.create(payload, **_NO_RETRY).asdict(), write=True, recheck=recheck
        )
        self._open_fixes = (self._open_fixes or 0) + 1
        return Outcome(action="created", url=created.get("web_url"))

    def _head(self, project: Any, branch: str) -> str | None:
        try:
            found = self._call(lambda: project.branches.get(branch, **_NO_RETRY))
        except ApiError as err:
            if err.status == 404:
                return None
            raise
        commit = found.attributes.get("commit")
        return str(commit["id"]) if isinstance(commit, dict) and commit.get("id") else None

    def _blob(self, project: Any, path: str, ref: str) -> str | None:
        try:
            found = self._call(lambda: project.files.get(path, ref=ref, **_NO_RETRY))
        except ApiError as err:
            if err.status == 404:
                return None
            raise
        blob = found.attributes.get("blob_id")
        return str(blob) if blob else None

    def _count_open_fixes(self, project: Any) -> int:
        if self._open_fixes is None:
            opened = self._call(
                lambda: [
                    m.asdict()
                    for m in project.mergerequests.list(
                        state="opened", get_all=True, per_page=100, **_NO_RETRY
                    )
                ]
            )
            self._open_fixes = sum(
                1 for m in opened if str(m.get("source_branch", "")).startswith(FIX_BRANCH_PREFIX)
            )
        return self._open_fixes

    def _commits(self, project: Any, base_sha: str, head: str) -> list[tuple[str, str]]:
        """(id, message) of the commits on the branch that the base does not have, oldest first."""
        found = self._call(lambda: project.repository_compare(base_sha, head, **_NO_RETRY))
        commits = found.get("commits") if isinstance(found, dict) else None
        return [(str(c.get("id")), str(c.get("message") or "")) for c in commits or [] if isinstance(c, dict)]

    def _push(self, project: Any, change: ChangeRequest, base_sha: str) -> str:
        """As `GitHubPlatform._push`: created, rewritten, commit or unchanged."""
        head = self._head(project, change.branch)
        actions = [
            {
                "action": "update",
                "file_path": item.path,
                "content": item.content,
                "execute_filemode": item.executable,
            }
            for item in change.files
        ]

        def landed() -> dict[str, Any] | None:
            now = self._head(project, change.branch)
            done = bool(now) and any(
                change.trailer in m for _, m in self._commits(project, base_sha, str(now))
            )
            return {"id": now} if done else None

        if head is None:
            payload = {
                "branch": change.branch,
                "start_sha": base_sha,
                "commit_message": change.commit_message,
                "actions": actions,
            }
            self._call(
                lambda: project.commits.create(payload, **_NO_RETRY).asdict(), write=True, recheck=landed
            )
            return "created"
        commits = self._commits(project, base_sha, head)
        if any(change.trailer in message for _, message in commits):
            return "unchanged"
        if all(FIX_TRAILER in message for _, message in commits):
            rewrite: dict[str, Any] = {
                "branch": change.branch,
                "start_sha": base_sha,
                "force": True,
                "commit_message": change.commit_message,
                "actions": actions,
            }
            self._call(
                lambda: project.commits.create(rewrite, **_NO_RETRY).asdict(), write=True, recheck=landed
            )
            return "rewritten"
        # Someone else pushed: the files must be as the last commit of ours (or the base) left them.
        ours = [sha for sha, message in commits if FIX_TRAILER in message]
        for item in change.files:
            expected = self._blob(project, item.path, ours[-1]) if ours else git_blob_id(item.original)
            if self._blob(project, item.path, head) != expected:
                raise DeclinedError(
                    f"someone else pushed to {change.branch} and changed {item.path}: left alone "
                    "(ci-security never force-pushes over other people's commits)"
                )
        payload = {"branch": change.branch, "commit_message": change.commit_message, "actions": actions}
        self._call(lambda: project.commits.create(payload, **_NO_RETRY).asdict(), write=True, recheck=landed)
        return "commit"

    # --- the summary note ---------------------------------------------------------------------------

    def _upsert(self, key: str, body: str) -> Outcome:
        mr = self._merge_request()
        text, cut = fit(gitlab_note(body), marker(key), limit=COMMENT_LIMIT, job_url=self._context.job_url)
        detail = f"cut to GitLab's {COMMENT_LIMIT:,} characters" if cut else ""
        existing = self._find_note(mr, key)
        if existing is not None:
            found = int(existing["id"])
            if _same(existing.get("body"), text):
                return Outcome(action="unchanged", url=self._note_url(mr, found))
            self._call(lambda: mr.notes.update(found, {"body": text}, **_NO_RETRY), write=True)
            return Outcome(action="updated", detail=detail, url=self._note_url(mr, found))
        created = self._call(
            lambda: mr.notes.create({"body": text}, **_NO_RETRY).asdict(),
            write=True,
            recheck=lambda: self._find_note(mr, key),
        )
        note_id = created.get("id")
        url = self._note_url(mr, note_id) if isinstance(note_id, int) else None
        return Outcome(action="created", detail=detail, url=url)

    def _find_note(self, mr: ProjectMergeRequest, key: str) -> dict[str, Any] | None:
        tag = marker(key)
        notes = self._call(
            lambda: [
                n.asdict()
                for n in mr.notes.list(
                    get_all=True, per_page=100, sort="asc", order_by="created_at", **_NO_RETRY
                )
            ]
        )
        tagged = [n for n in notes if not n.get("system") and tag in str(n.get("body") or "")]
        if not tagged:
            return None
        me = self._user_id()
        mine = [
            n
            for n in tagged
            if isinstance(n.get("id"), int)
            and isinstance(n.get("author"), dict)
            and n["author"].get("id") == me
        ]
        return min(mine, key=lambda n: int(n["id"])) if mine else None

    @staticmethod
    def _note_url(mr: ProjectMergeRequest, note_id: int) -> str | None:
        web_url = mr.attributes.get("web_url")
        return f"{web_url}#note_{note_id}" if isinstance(web_url, str) and web_url else None

    # --- inline discussions -------------------------------------------------------------------------

    def _sync(self, key: str, comments: Sequence[InlineComment], tally: InlineTally) -> InlineOutcome:
        mr = self._merge_request()
        refs = mr.attributes.get("diff_refs")
        if not isinstance(refs, dict) or not all(refs.get(k) for k in ("base_sha", "start_sha", "head_sha")):
            return tally.outcome(
                self._inline_cap, "skipped", "the merge request has no diff yet (no diff_refs)"
            )
        files = self._diff_files(mr)
        threads = self._threads(mr, key)
        wanted: dict[str, InlineComment] = {}
        for comment in comments:
            wanted.setdefault(comment.fingerprint, comment)

        for fingerprint, comment in wanted.items():
            text, _ = fit(gitlab_note(comment.body), inline_marker(key, fingerprint), limit=COMMENT_LIMIT)
            thread = threads.get(fingerprint)
            try:
                if thread is not None:
                    tally.updated += self._refresh(mr, thread, text)
                    continue
                where = files.get(_repo_path(comment.path))
                if where is None or comment.line not in where.lines:
                    tally.outside_diff += 1
                    continue
                if tally.posted >= self._inline_cap:
                    tally.capped += 1
                    continue
                self._start(mr, key, fingerprint, text, self._position(refs, where, comment.line))
                tally.posted += 1
            except ApiError as err:
                reopening = thread is not None and thread.resolved and err.status == 403
                hint = " (re-opening threads needs the Developer role)" if reopening else ""
                tally.fail(self._scrub(f"{comment.path}:{comment.line}: {err}{hint}"))

        for fingerprint, thread in threads.items():
            if fingerprint in wanted or thread.resolved:
                continue
            try:
                if not is_gone(thread.body):
                    gone = struck(thread.body, inline_marker(key, fingerprint), self._context.head_sha)
                    self._edit_note(mr, thread, gone)
                self._set_resolved(mr, thread, True)
                tally.resolved += 1
            except ApiError as err:
                hint = " (resolving threads needs the Developer role)" if err.status == 403 else ""
                tally.fail(self._scrub(f"resolving a fixed finding's thread: {err}{hint}"))

        return tally.outcome(self._inline_cap)

    def _refresh(self, mr: ProjectMergeRequest, thread: _Thread, text: str) -> int:
        """Bring an existing thread up to date; 1 when anything changed."""
        changed = 0
        if not _same(thread.body, text):
            self._edit_note(mr, thread, text)
            changed = 1
        if thread.resolved:
            self._set_resolved(mr, thread, False)
            changed = 1
        return changed

    def _edit_note(self, mr: ProjectMergeRequest, thread: _Thread, text: str) -> None:
        discussion = mr.discussions.get(thread.discussion_id, lazy=True)
        self._call(
            lambda: discussion.notes.update(thread.note_id, {"body": text}, **_NO_RETRY),
            write=True,
        )

    def _set_resolved(self, mr: ProjectMergeRequest, thread: _Thread, resolved: bool) -> None:
        self._call(
            lambda: mr.discussions.update(thread.discussion_id, {"resolved": resolved}, **_NO_RETRY),
            write=True,
            may_block=not self._wrote,
        )

    def _start(
        self, mr: ProjectMergeRequest, key: str, fingerprint: str, text: str, position: dict[str, Any]
    ) -> None:
        def recheck() -> dict[str, Any] | None:
            found = self._threads(mr, key).get(fingerprint)
            return {"id": found.discussion_id} if found is not None else None

        self._call(
            lambda: mr.discussions.create({"body": text, "position": position}, **_NO_RETRY).asdict(),
            write=True,
            recheck=recheck,
        )

    @staticmethod
    def _position(refs: Mapping[str, Any], where: _FileDiff, line: int) -> dict[str, Any]:
        position: dict[str, Any] = {
            "position_type": "text",
            "base_sha": refs["base_sha"],
            "start_sha": refs["start_sha"],
            "head_sha": refs["head_sha"],
            "old_path": where.old_path,
            "new_path": where.new_path,
            "new_line": line,
        }
        old_line = where.lines[line]
        if old_line is not None:
            position["old_line"] = old_line
        return position

    def _diff_files(self, mr: ProjectMergeRequest) -> dict[str, _FileDiff]:
        path = f"{mr.manager.path}/{mr.encoded_id}/diffs"
        client = self._gitlab()
        entries = self._call(lambda: client.http_list(path, get_all=True, per_page=100, **_NO_RETRY))
        files: dict[str, _FileDiff] = {}
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or entry.get("deleted_file") or not entry.get("new_path"):
                continue
            new_path = str(entry["new_path"])
            files[new_path] = _FileDiff(
                old_path=str(entry.get("old_path") or new_path),
                new_path=new_path,
                lines=diff_lines(str(entry.get("diff") or "")),
            )
        return files

    def _threads(self, mr: ProjectMergeRequest, key: str) -> dict[str, _Thread]:
        """Our discussions for scan `key`, by fingerprint (the oldest one when there are several)."""
        prefix = f"{MARKER_PREFIX}{key}:finding:"
        pattern = re.compile(re.escape(prefix) + r"(.+?) -->")
        discussions = self._call(
            lambda: [d.asdict() for d in mr.discussions.list(get_all=True, per_page=100, **_NO_RETRY)]
        )
        candidates: list[tuple[str, dict[str, Any], str]] = []
        for discussion in discussions:
            notes = discussion.get("notes")
            if not isinstance(notes, list) or not notes or not isinstance(notes[0], dict):
                continue
            found = pattern.search(str(notes[0].get("body") or ""))
            if found:
                candidates.append((str(discussion.get("id")), notes[0], found[1]))
        if not candidates:
            return {}
        me = self._user_id()
        threads: dict[str, _Thread] = {}
        for discussion_id, first, fingerprint in candidates:
            author, note_id = first.get("author"), first.get("id")
            if not isinstance(author, dict) or author.get("id") != me or not isinstance(note_id, int):
                continue
            if fingerprint in threads:
                continue
            threads[fingerprint] = _Thread(
                discussion_id=discussion_id,
                note_id=note_id,
                body=str(first.get("body") or ""),
                resolved=bool(first.get("resolved")),
            )
        return threads

    # --- plumbing -----------------------------------------------------------------------------------

    def _precheck(self) -> tuple[Literal["skipped", "failed"], str] | None:
        if self._blocked is not None:
            return "skipped", self._blocked
        if self._context.change is None:
            return "skipped", "not a merge request"
        reason = read_only_reason(self._context)
        if reason is not None:
            return "skipped", reason
        if not self._context.api_url or not self._context.project_id:
            return "failed", "CI_API_V4_URL or CI_PROJECT_ID is not set"
        return None

    def _gitlab(self) -> Gitlab:
        if self._client is None:
            session = requests.Session()
            session.hooks["response"].append(self._remember)
            self._client = Gitlab(
                url=server_url(self._context.api_url),
                private_token=self._context.token,
                retry_transient_errors=False,
                timeout=TIMEOUT,
                user_agent=USER_AGENT,
                # pagination links carry GitLab's external URL, which need not be the one CI reaches it by
                keep_base_url=True,
                session=session,
            )
        return self._client

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._headers = dict(response.headers)

    def _merge_request(self) -> ProjectMergeRequest:
        if self._mr is None:
            project = self._gitlab().projects.get(self._context.project_id, lazy=True)
            iid = self._context.change
            assert iid is not None  # _precheck skips runs without a merge request
            try:
                mr = self._call(lambda: project.mergerequests.get(iid, **_NO_RETRY))
            except ApiError as err:
                if err.status == 404:
                    if self._context.fork:
                        raise self._block(self._fork_notice()) from None
                    raise ApiError(
                        404, f"merge request !{iid} not found in project {self._context.project_id}"
                    ) from None
                raise
            source, target = mr.attributes.get("source_project_id"), mr.attributes.get("target_project_id")
            if self._context.fork and source == target:
                raise self._block(self._fork_notice())
            self._mr = mr
        return self._mr

    def _fork_notice(self) -> str:
        return (
            f"merge request !{self._context.change} comes from a fork and this pipeline runs in the fork's "
            "project, where that merge request does not exist; run it in the parent project to get comments"
        )

    def _user_id(self) -> int:
        if self._me is None:
            client = self._gitlab()
            user = self._call(lambda: client.http_get("/user", **_NO_RETRY))
            if not isinstance(user, dict) or not isinstance(user.get("id"), int):
                raise ApiError(0, "GET /user did not return a user")
            self._me = int(user["id"])
        return self._me

    def _call(
        self,
        call: Callable[[], T],
        *,
        write: bool = False,
        recheck: Callable[[], T | None] | None = None,
        may_block: bool = True,
    ) -> T:
        """Run one API call under the retry policy; a refused token ends the run's writes."""
        try:
            result = attempt(call, self._classify, before_retry=recheck, sleep=self._sleep)
        except ApiError as err:
            if may_block and (err.status == 401 or (err.status == 403 and not self._wrote)):
                raise self._block(
                    self._fix_refusal(err.status) if self._fixing else self._refusal(err.status)
                ) from None
            raise
        if write:
            self._wrote = True
        return result

    def _block(self, notice: str) -> _SkipError:
        self._blocked = self._scrub(notice)
        return _SkipError(self._blocked)

    @staticmethod
    def _refusal(status: int) -> str:
        if status == 401:
            return (
                f"GitLab refused the token (401): set {TOKEN_VARIABLE} to a project, group or personal "
                "access token with the api scope and at least the Reporter role "
                "(CI_JOB_TOKEN cannot post notes)"
            )
        return (
            f"the token may not comment on this merge request (403): {TOKEN_VARIABLE} needs the api scope "
            "and at least the Reporter role (Developer to resolve threads)"
        )

    @staticmethod
    def _fix_refusal(status: int) -> str:
        what = (
            "refused the token (401)"
            if status == 401
            else "did not let the token push or open merge requests (403)"
        )
        return (
            f"GitLab {what}: fix merge requests need CI_SECURITY_FIX_TOKEN or {TOKEN_VARIABLE} set to a "
            "project, group or personal access token with the api scope and at least the Developer role"
        )

    def _classify(self, exc: BaseException) -> tuple[int, Mapping[str, str] | None, str] | None:
        if isinstance(exc, GitlabError) and exc.response_code is not None:
            return exc.response_code, self._headers, self._scrub(_message(exc))
        if isinstance(exc, requests.RequestException):
            return 0, None, self._scrub(f"cannot reach GitLab: {short_reason(exc)}")
        if isinstance(exc, GitlabError):
            return 0, None, self._scrub(f"unexpected answer from GitLab: {_message(exc)}")
        return None

    def _scrub(self, text: str) -> str:
        token = self._context.token
        return text.replace(token, "***") if token else text
