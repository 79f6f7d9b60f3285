"""GitHub: the sticky pull-request comment, inline review comments and code-scanning uploads, on PyGithub.

Requests (REST, paths as in GitHub's OpenAPI description):

- `GET /repos/{o}/{r}/pulls/{n}` once, to know the pull request exists (a 404 says so in one line);
- the summary comment: `GET /repos/{o}/{r}/issues/{n}/comments` (every page), then
  `POST …/issues/{n}/comments` or `PATCH /repos/{o}/{r}/issues/comments/{id}`;
- inline comments: `GET /pulls/{n}/files` (every page; each file's `patch` gives the lines a comment may
  anchor to), `GET /pulls/{n}/comments`, then one `POST /pulls/{n}/comments` per new finding
  (`commit_id`, `path`, `line`, `side: RIGHT`) and `PATCH /pulls/comments/{id}` for changed or fixed
  ones. Comments are posted one by one: a review carrying many comments is all-or-nothing on GitHub;
- SARIF: `POST /repos/{o}/{r}/code-scanning/sarifs` with the document gzipped and base64-encoded.

Which comments are ours. A comment is ours when it ends with our marker *and* its author is the
token's own user. `GET /user` names that user for a personal access token; for `GITHUB_TOKEN` and
other GitHub App installation tokens it answers 403, and then any author whose `user.type` is "Bot"
counts (the token's comments are written by `github-actions[bot]` or the app's bot). Either way a
person's comment that quotes the marker is never edited: people are type "User" and, for a personal
token, have another user id.

A finding keeps the inline comment it got first: GitHub cannot move a comment, so when the finding's
line changes only the body is brought up to date. When the finding is gone, its comment keeps its
text, struck through, with "No longer reported in <commit>" (the REST API cannot resolve a review
thread); when it comes back, the text is restored. Bodies are compared without the job link
(`text.comparable`), so a run that changes nothing but the job edits nothing.

Retries go through `retry.attempt` with PyGithub's own retries and request throttling off. Creating a
comment is not idempotent, so before it is retried the comments are listed again and one carrying the
marker is taken as the result: a 5xx or a dropped connection after GitHub stored the comment does not
make a second one. Writes are paced `write_interval` apart (GitHub asks for a second between
content-creating requests) through the same injectable `sleep`.

Fix pull requests (`propose_change`, see `base.py` for the rules): `GET /repos/{o}/{r}` names the
default branch, `GET …/git/ref/heads/{base}` its head, `GET …/contents/{path}?ref=` each file's blob
there (compared with the plan's), `GET …/pulls?head={owner}:{branch}&state=all` the branch's pull
requests, `GET …/git/ref/heads/{branch}` and `GET …/compare/{base}...{branch}` whose commits the branch
holds; the commit is `POST …/git/blobs` per file, `POST …/git/trees` on the base commit's tree,
`POST …/git/commits`, then `POST …/git/refs` (a new branch) or `PATCH …/git/refs/heads/{branch}`
(`force` only when every commit on the branch is ours); the pull request is `POST …/pulls` (or `PATCH
…/pulls/{n}` when title or body changed) and `POST …/issues/{n}/labels`. Creating a pull request or a
ref is retried only after looking for it again (a 5xx after GitHub stored it makes no second one).
A 403 on these writes says which permission is missing (`contents: write`, `pull-requests: write`)
or that the repository does not let GitHub Actions create pull requests, once; the later fixes are
skipped with the same notice.

A 401 makes every later action a skip with one notice. A 403 on comments makes the later comment and
inline actions skips (they share the `pull-requests: write` permission); a 403 on the SARIF upload is
reported for code scanning alone (`security-events: write`, or Advanced Security not enabled), so a
workflow that may upload but not comment still uploads, and the other way round.
"""

from __future__ import annotations

import base64
import functools
import gzip
import http
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import requests
from github import Auth, Github, GithubException
from github.GithubObject import NotSet
from github.IssueComment import IssueComment
from github.NamedUser import NamedUser
from github.Organization import Organization
from github.PullRequest import PullRequest
from github.PullRequestComment import PullRequestComment

from ci_security.http import USER_AGENT, short_reason
from ci_security.platforms.base import (
    FIX_BRANCH_PREFIX,
    FIX_TRAILER,
    MARKER_PREFIX,
    ChangeRequest,
    DeclinedError,
    InlineAction,
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

T = TypeVar("T")

COMMENT_LIMIT = 65_536  # characters; GitHub answers 422 "Body is too long" above it
SARIF_LIMIT = 10_000_000  # bytes of gzipped SARIF; GitHub's documented 10 MB
INLINE_CAP = 30  # new inline comments per run
WRITE_INTERVAL = 1.0  # seconds between writes
TIMEOUT = 30  # seconds per request (PyGithub takes an int)
PER_PAGE = 100

_COMMENTS = "comments"
_CODE_SCANNING = "code scanning"
_FIXES = "fix pull requests"
BODY_LIMIT = 65_536


def _loaded(ref: Any) -> Any:
    """A git ref fetched now (PyGithub's lazy one would PATCH the `git/ref/…` read URL, not `git/refs/…`)."""
    _ = ref.object.sha
    return ref


def _fingerprint(body: str | None, prefix: str) -> str | None:
    """The fingerprint in an inline marker `prefix<fingerprint> -->` ending `body`, if any."""
    text = (body or "").rstrip()
    start = text.rfind(prefix)
    if start < 0 or not text.endswith(" -->"):
        return None
    fingerprint = text[start + len(prefix) : -len(" -->")]
    return fingerprint if fingerprint and "\n" not in fingerprint else None


def _message(exc: GithubException) -> str:
    data = exc.data
    text = ""
    if isinstance(data, dict):
        text = str(data.get("message") or "")
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            first = errors[0]
            detail = first.get("message") or first.get("code") if isinstance(first, dict) else first
            if detail:
                text = f"{text}: {detail}" if text else str(detail)
    elif isinstance(data, str):
        text = data
    if not text:
        try:
            text = http.HTTPStatus(exc.status).phrase
        except ValueError:
            text = "error"
    return " ".join(text.split())[:200]


def _rate_limited(reason: str) -> bool:
    # GitHub's rate limits answer 403 too; they say nothing about the token's permissions.
    return "rate limit" in reason.lower()


def _classify(exc: BaseException) -> tuple[int, Mapping[str, str] | None, str] | None:
    if isinstance(exc, GithubException):
        headers = {str(k): str(v) for k, v in (exc.headers or {}).items()}
        return exc.status, headers, _message(exc)
    if isinstance(exc, requests.RequestException):
        return 0, None, short_reason(exc)
    return None


@dataclass(frozen=True, slots=True)
class _Identity:
    """Whose comments are ours: the token's user id, or None when GitHub would not say (an
    installation token), in which case bots are.
    """

    user_id: int | None

    def owns(self, user: NamedUser | Organization | None) -> bool:
        if user is None:
            return False
        if self.user_id is not None:
            return bool(user.id == self.user_id)
        return bool(user.type == "Bot")


def read_only_reason(context: CiContext) -> str | None:
    """Why writes cannot work in this run, or None when they might: no token, or the read-only token
    GitHub gives a `pull_request` run from a fork.
    """
    if not context.token:
        return "no token (GITHUB_TOKEN is not set)"
    if context.fork and context.event == "pull_request":
        return "the token is read-only (pull request from a fork)"
    return None


class GitHubPlatform:
    """GitHub, bound to the pull request of `context` (or to none, on a branch build)."""

    name: ClassVar[str] = "github"

    def __init__(
        self,
        context: CiContext,
        *,
        sleep: Callable[[float], None] = time.sleep,
        inline_cap: int = INLINE_CAP,
        write_interval: float = WRITE_INTERVAL,
    ) -> None:
        self._context = context
        self._sleep = sleep
        self._inline_cap = inline_cap
        self._write_interval = write_interval
        self._github: Github | None = None
        self._pull: PullRequest | None = None
        self._missing: ApiError | None = None  # the pull request's 404, said once
        self._identity: _Identity | None = None
        self._refused: dict[str, str] = {}  # scope ("*" for all) -> the notice later writes are skipped with
        self._last_write: float | None = None
        self._open_fixes: int | None = None  # open fix pull requests, counted once per run

    # -- the Platform protocol ---------------------------------------------------------------------

    def upsert_comment(self, key: str, body: str) -> Outcome:
        notice = self._skip_reason(_COMMENTS, needs_change=True)
        if notice:
            return Outcome(action="skipped", detail=notice)
        text, _ = fit(body, marker(key), limit=COMMENT_LIMIT, job_url=self._context.job_url)
        try:
            return self._upsert(key, text)
        except ApiError as exc:
            return self._failure(_COMMENTS, exc)

    def sync_inline(self, key: str, comments: Sequence[InlineComment]) -> InlineOutcome:
        notice = self._skip_reason(_COMMENTS, needs_change=True)
        if notice:
            return InlineOutcome(action="skipped", detail=notice)
        tally = InlineTally()
        try:
            self._sync(key, comments, tally)
        except ApiError as exc:
            failure = self._failure(_COMMENTS, exc)
            action: InlineAction = "skipped" if failure.action == "skipped" else "failed"
            return tally.outcome(self._inline_cap, action, failure.detail)
        return tally.outcome(self._inline_cap)

    def upload_sarif(self, sarif: str) -> Outcome:
        notice = self._skip_reason(_CODE_SCANNING, needs_change=False)
        if notice:
            return Outcome(action="skipped", detail=notice)
        if not self._context.sha or not self._context.ref:
            return Outcome(
                action="skipped", detail="no commit or ref to attach it to (GITHUB_SHA/GITHUB_REF)"
            )
        data = gzip.compress(sarif.encode("utf-8"), mtime=0)
        if len(data) > SARIF_LIMIT:
            size = len(data) / 1_000_000
            return Outcome(
                action="skipped",
                detail=f"the SARIF is too large for code scanning ({size:.1f} MB gzipped, over 10 MB)",
            )
        payload = {
            "commit_sha": self._context.sha,
            "ref": self._context.ref,
            "sarif": base64.b64encode(data).decode("ascii"),
            "tool_name": "ci-security",
        }
        try:
            result = self._upload(payload)
        except ApiError as exc:
            return self._sarif_failure(exc)
        upload_id = result.get("id") if isinstance(result, dict) else None
        return Outcome(action="created", detail=f"analysis {upload_id} is processing" if upload_id else "")

    def propose_change(self, change: ChangeRequest, *, max_open: int) -> Outcome:
        notice = self._skip_reason(_FIXES, needs_change=False)
        if notice:
            return Outcome(action="skipped", detail=notice)
        try:
            return self._propose(change, max_open)
        except DeclinedError as declined:
            return Outcome(action="skipped", detail=self._scrub(str(declined)))
        except ApiError as exc:
            return self._fix_failure(exc)

    # -- fix pull requests ---------------------------------------------------------------------------

    def _propose(self, change: ChangeRequest, max_open: int) -> Outcome:
        repo = self._client().get_repo(self._context.repository)
        base = str(self._read(lambda: repo.default_branch))
        base_sha = str(self._read(lambda: _loaded(repo.get_git_ref(f"heads/{base}")).object.sha))
        check_planned_files(change, base, lambda path: self._blob(repo, path, base_sha), "a build")
        owner = self._context.repository.split("/", 1)[0]
        pulls = self._read(lambda: list(repo.get_pulls(state="all", head=f"{owner}:{change.branch}")))
        current = next((p for p in pulls if p.state == "open"), None)
        if current is None:
            closed = next(
                (p for p in pulls if p.state == "closed" and p.merged_at is None and p.title == change.title),
                None,
            )
            if closed is not None:
                raise DeclinedError(
                    f"#{closed.number} proposed this and was closed without merging: not opened again"
                )
            if self._count_open_fixes(repo) >= max_open:
                raise DeclinedError(f"{max_open} fix pull request(s) are open already (fix.max_open_prs)")
        pushed = self._push(repo, change, base_sha)
        body = f"{change.body.rstrip()}\n\n{marker(f'fix:{change.branch}')}"
        body = body if len(body) <= BODY_LIMIT else body[: BODY_LIMIT - 200] + "\n\n…cut: see the job."
        if current is not None:
            new_title = change.title if current.title != change.title else None
            new_body = body if comparable(current.body) != comparable(body) else None
            edits = new_title is not None or new_body is not None
            if edits:
                self._write(
                    lambda: current.edit(
                        title=new_title if new_title is not None else NotSet,
                        body=new_body if new_body is not None else NotSet,
                    )
                )
            have = {label.name for label in current.labels}
            missing = [label for label in change.labels if label not in have]
            if missing:
                self._add_labels(current, missing)
            changed = pushed != "unchanged" or edits
            detail = (
                "new commit" if pushed == "commit" else "branch rewritten" if pushed == "rewritten" else ""
            )
            return Outcome(action="updated" if changed else "unchanged", url=current.html_url, detail=detail)
        created = self._write(
            lambda: repo.create_pull(base=base, head=change.branch, title=change.title, body=body),
            before_retry=lambda: next(
                (p for p in repo.get_pulls(state="open", head=f"{owner}:{change.branch}")), None
            ),
        )
        if change.labels:
            self._add_labels(created, list(change.labels))
        self._open_fixes = (self._open_fixes or 0) + 1
        return Outcome(action="created", url=created.html_url)

    def _add_labels(self, pull: PullRequest, labels: list[str]) -> None:
        """`POST …/issues/{n}/labels` with `{"labels": […]}`, the form GitHub documents (PyGithub's
        `add_to_labels` sends a bare array); GitHub creates a label that does not exist yet.
        """
        requester = self._client().requester
        path = f"/repos/{self._context.repository}/issues/{pull.number}/labels"
        self._write(lambda: requester.requestJsonAndCheck("POST", path, input={"labels": labels}))

    def _blob(self, repo: Any, path: str, ref: str) -> str | None:
        """The blob id of `path` at `ref`, or None when there is no such file."""
        try:
            found = self._read(lambda: repo.get_contents(path, ref=ref))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return None if isinstance(found, list) else str(found.sha)

    def _count_open_fixes(self, repo: Any) -> int:
        if self._open_fixes is None:
            pulls = self._read(lambda: list(repo.get_pulls(state="open")))
            self._open_fixes = sum(1 for p in pulls if str(p.head.ref).startswith(FIX_BRANCH_PREFIX))
        return self._open_fixes

    def _push(self, repo: Any, change: ChangeRequest, base_sha: str) -> str:
        """Put the proposal's commit on the branch: "created" (a new branch), "rewritten" (every
        commit was ours), "commit" (on top of someone else's), or "unchanged".
        """
        try:
            ref = self._read(lambda: _loaded(repo.get_git_ref(f"heads/{change.branch}")))
        except ApiError as exc:
            if exc.status != 404:
                raise
            ref = None
        head = str(ref.object.sha) if ref is not None else ""
        if not head:
            sha = self._commit(repo, change, base_sha)
            self._write(
                lambda: repo.create_git_ref(f"refs/heads/{change.branch}", sha),
                before_retry=lambda: self._ref_at(repo, change.branch, sha),
            )
            return "created"
        comparison = self._read(lambda: repo.compare(base_sha, head))
        commits = self._read(lambda: [(str(c.sha), str(c.commit.message)) for c in comparison.commits])
        if any(change.trailer in message for _, message in commits):
            return "unchanged"
        assert ref is not None
        if all(FIX_TRAILER in message for _, message in commits):
            sha = self._commit(repo, change, base_sha)
            self._write(lambda: ref.edit(sha, force=True))
            return "rewritten"
        # Someone else pushed: the files must be as the last commit of ours (or the base) left them.
        ours = [sha for sha, message in commits if FIX_TRAILER in message]
        for item in change.files:
            expected = self._blob(repo, item.path, ours[-1]) if ours else git_blob_id(item.original)
            if self._blob(repo, item.path, head) != expected:
                raise DeclinedError(
                    f"someone else pushed to {change.branch} and changed {item.path}: left alone "
                    "(ci-security never force-pushes over other people's commits)"
                )
        sha = self._commit(repo, change, head)
        self._write(lambda: ref.edit(sha, force=False))
        return "commit"

    def _ref_at(self, repo: Any, branch: str, sha: str) -> Any:
        try:
            ref = self._read(lambda: _loaded(repo.get_git_ref(f"heads/{branch}")))
        except ApiError:
            return None
        return ref if ref.object.sha == sha else None

    def _commit(self, repo: Any, change: ChangeRequest, parent_sha: str) -> str:
        from github.InputGitTreeElement import InputGitTreeElement

        parent = self._read(lambda: repo.get_git_commit(parent_sha))
        self._read(lambda: parent.tree.sha)  # a lazy client reads the commit here, under the retry policy
        elements = []
        for item in change.files:
            blob = self._write(functools.partial(repo.create_git_blob, item.content, "utf-8"))
            mode = "100755" if item.executable else "100644"
            elements.append(InputGitTreeElement(path=item.path, mode=mode, type="blob", sha=blob.sha))
        tree = self._write(lambda: repo.create_git_tree(elements, base_tree=parent.tree))
        commit = self._write(lambda: repo.create_git_commit(change.commit_message, tree, [parent]))
        return str(commit.sha)

    def _fix_failure(self, exc: ApiError) -> Outcome:
        reason = self._scrub(exc.reason)
        if exc.status == 401:
            notice = f"the token was rejected ({exc.status} {reason})"
            self._refused["*"] = notice
            return Outcome(action="skipped", detail=notice)
        if exc.status == 403 and not _rate_limited(reason):
            if "not permitted to create or approve pull requests" in reason.lower():
                notice = (
                    f"GitHub does not let this workflow open pull requests ({reason}): enable "
                    'Settings → Actions → General → "Allow GitHub Actions to create and approve pull '
                    'requests", or give the step a fix-token'
                )
            else:
                notice = (
                    f"the token may not push branches or open pull requests ({exc.status} {reason}); the "
                    "workflow needs `permissions: contents: write` and `pull-requests: write`"
                )
            self._refused[_FIXES] = notice
            return Outcome(action="skipped", detail=notice)
        return Outcome(action="failed", detail=self._scrub(str(exc)))

    # -- comments ----------------------------------------------------------------------------------

    def _upsert(self, key: str, text: str) -> Outcome:
        identity = self._whoami()
        pull = self._pull_request()
        existing = self._find_comment(pull, key, identity)
        if existing is not None:
            if comparable(existing.body) == comparable(text):
                return Outcome(action="unchanged", url=existing.html_url)
            self._edit(existing, text)
            return Outcome(action="updated", url=existing.html_url)
        created = self._write(
            lambda: pull.create_issue_comment(text),
            before_retry=lambda: self._find_comment(pull, key, identity),
        )
        return Outcome(action="created", url=created.html_url)

    def _find_comment(self, pull: PullRequest, key: str, identity: _Identity) -> IssueComment | None:
        mark = marker(key)
        for comment in self._read(lambda: list(pull.get_issue_comments())):
            if (comment.body or "").rstrip().endswith(mark) and identity.owns(comment.user):
                return comment
        return None

    def _sync(self, key: str, comments: Sequence[InlineComment], tally: InlineTally) -> None:
        identity = self._whoami()
        pull = self._pull_request()
        files = self._read(lambda: list(pull.get_files()))
        anchors = {f.filename: frozenset(diff_lines(f.patch)) for f in files if f.status != "removed"}
        prefix = f"{MARKER_PREFIX}{key}:finding:"
        existing: dict[str, PullRequestComment] = {}
        for comment in self._read(lambda: list(pull.get_review_comments())):
            fingerprint = _fingerprint(comment.body, prefix)
            # Replies in our threads are people's; only the thread's first comment can be ours.
            if fingerprint and not comment.in_reply_to_id and identity.owns(comment.user):
                existing.setdefault(fingerprint, comment)

        wanted: dict[str, InlineComment] = {}
        for item in comments:
            wanted.setdefault(item.fingerprint, item)
        head = self._context.head_sha or pull.head.sha
        for fingerprint, item in wanted.items():
            text, _ = fit(
                item.body, inline_marker(key, fingerprint), limit=COMMENT_LIMIT, job_url=self._context.job_url
            )
            current = existing.get(fingerprint)
            path = item.path.removeprefix("./")
            if current is not None:
                changed = comparable(current.body) != comparable(text)
                if changed and self._per_comment(tally, self._edit, current, text):
                    tally.updated += 1
                continue
            if item.line not in anchors.get(path, frozenset()):
                tally.outside_diff += 1
                continue
            if tally.posted >= self._inline_cap:
                tally.capped += 1
                continue
            if self._per_comment(tally, self._post_inline, pull, identity, head, item.line, path, text):
                tally.posted += 1

        for fingerprint, current in existing.items():
            if fingerprint in wanted or is_gone(current.body):
                continue
            text = struck(current.body or "", inline_marker(key, fingerprint), head)
            if self._per_comment(tally, self._edit, current, text):
                tally.resolved += 1

    def _per_comment(self, tally: InlineTally, call: Callable[..., object], *args: Any) -> bool:
        """Run one inline write; a 404/422 for that one comment is counted and the rest go on."""
        try:
            call(*args)
        except ApiError as exc:
            if exc.status not in (404, 422):
                raise
            tally.fail(self._scrub(str(exc)))
            return False
        return True

    def _post_inline(
        self, pull: PullRequest, identity: _Identity, head: str, line: int, path: str, text: str
    ) -> None:
        mark = text.rsplit("\n\n", 1)[-1]
        self._write(
            lambda: pull.create_review_comment(text, head, path, line=line, side="RIGHT"),
            before_retry=lambda: self._find_review_comment(pull, mark, identity),
        )

    def _find_review_comment(
        self, pull: PullRequest, mark: str, identity: _Identity
    ) -> PullRequestComment | None:
        for comment in self._read(lambda: list(pull.get_review_comments())):
            if (comment.body or "").rstrip().endswith(mark) and identity.owns(comment.user):
                return comment
        return None

    def _edit(self, comment: IssueComment | PullRequestComment, text: str) -> None:
        self._write(lambda: comment.edit(text))

    # -- code scanning -----------------------------------------------------------------------------

    def _upload(self, payload: dict[str, Any]) -> Any:
        requester = self._client().requester
        path = f"/repos/{self._context.repository}/code-scanning/sarifs"
        _, result = self._write(lambda: requester.requestJsonAndCheck("POST", path, input=payload))
        return result

    def _sarif_failure(self, exc: ApiError) -> Outcome:
        reason = self._scrub(exc.reason)
        if exc.status == 403 and "advanced security" in reason.lower():
            return Outcome(
                action="skipped", detail=f"code scanning is not enabled in this repository ({reason})"
            )
        if exc.status == 403 and not _rate_limited(reason):
            notice = (
                f"the token may not upload code scanning results ({exc.status} {reason}); "
                "the workflow needs `permissions: security-events: write`"
            )
            self._refused[_CODE_SCANNING] = notice
            return Outcome(action="skipped", detail=notice)
        if exc.status == 413:
            return Outcome(action="skipped", detail=f"the SARIF is too large for code scanning ({reason})")
        return self._failure(_CODE_SCANNING, exc)

    # -- plumbing ----------------------------------------------------------------------------------

    def _skip_reason(self, scope: str, *, needs_change: bool) -> str | None:
        reason = read_only_reason(self._context)
        if reason:
            return reason
        refused = self._refused.get("*") or self._refused.get(scope)
        if refused:
            return refused
        if needs_change and self._context.change is None:
            return "not a pull request"
        if "/" not in self._context.repository:
            return "no repository (GITHUB_REPOSITORY is not set)"
        return None

    def _failure(self, scope: str, exc: ApiError) -> Outcome:
        reason = self._scrub(exc.reason)
        if exc.status == 401:
            notice = f"the token was rejected ({exc.status} {reason})"
            self._refused["*"] = notice
            return Outcome(action="skipped", detail=notice)
        if exc.status == 403 and scope == _COMMENTS and not _rate_limited(reason):
            notice = (
                f"the token may not comment on pull request #{self._context.change} ({exc.status} {reason}); "
                "the workflow needs `permissions: pull-requests: write`"
            )
            self._refused[scope] = notice
            return Outcome(action="skipped", detail=notice)
        return Outcome(action="failed", detail=self._scrub(str(exc)))

    def _scrub(self, text: str) -> str:
        token = self._context.token
        return text.replace(token, "***") if token else text

    def _client(self) -> Github:
        if self._github is None:
            self._github = Github(
                auth=Auth.Token(self._context.token),
                base_url=self._context.api_url or "https://api.github.com",
                timeout=TIMEOUT,
                user_agent=USER_AGENT,
                per_page=PER_PAGE,
                retry=None,
                seconds_between_requests=None,
                seconds_between_writes=None,
                lazy=True,
            )
        return self._github

    def _whoami(self) -> _Identity:
        if self._identity is None:
            client = self._client()
            try:
                user_id: int | None = self._read(lambda: client.get_user().id)
            except ApiError as exc:
                # An installation token (GITHUB_TOKEN, GitHub Apps) may not read /user.
                if exc.status not in (403, 404):
                    raise
                user_id = None
            self._identity = _Identity(user_id)
        return self._identity

    def _pull_request(self) -> PullRequest:
        if self._missing is not None:
            raise self._missing
        if self._pull is None:
            number = self._context.change
            assert number is not None
            pull = self._client().get_repo(self._context.repository).get_pull(number)
            try:
                self._read(pull.complete)
            except ApiError as exc:
                if exc.status == 404:
                    where = self._context.repository
                    self._missing = ApiError(404, f"pull request #{number} not found in {where}")
                    raise self._missing from None
                raise
            self._pull = pull
        return self._pull

    def _read(self, call: Callable[[], T]) -> T:
        return attempt(call, _classify, sleep=self._sleep)

    def _write(self, call: Callable[[], T], *, before_retry: Callable[[], T | None] | None = None) -> T:
        if self._last_write is not None:
            wait = self._write_interval - (time.monotonic() - self._last_write)
            if wait > 0:
                self._sleep(wait)
        try:
            return attempt(call, _classify, before_retry=before_retry, sleep=self._sleep)
        finally:
            self._last_write = time.monotonic()
