"""A GitLab REST API v4 stand-in for tests, bound to 127.0.0.1, built from the GitLab API documentation
(docs.gitlab.com/api/notes, /api/discussions, /api/merge_requests, /api/rest "Pagination") for the
endpoints the CI step uses:

- `GET /user`; `GET /projects/:id`; `GET /projects/:id/merge_requests/:iid` (with `diff_refs`);
  `GET /projects/:id/merge_requests/:iid/diffs` (paginated);
- merge-request notes: `GET`/`POST …/notes`, `GET`/`PUT …/notes/:note_id`;
- merge-request discussions: `GET`/`POST …/discussions`, `GET`/`PUT …/discussions/:id` (`resolved`),
  `POST …/discussions/:id/notes`, `PUT …/discussions/:id/notes/:note_id` (`body` xor `resolved`).

It keeps state (users, access tokens with scopes, project roles, merge requests with their diffs, notes,
discussions) so that tests assert what the server holds, and behaves as GitLab does where it matters:
`PRIVATE-TOKEN` authentication (an unknown token, such as a `CI_JOB_TOKEN` sent as a private token,
gets 401), `read_api` tokens get 403 `insufficient_scope` on writes, only a note's author may edit it,
resolving needs the Developer role or the merge request's authorship, note bodies are limited to
1,000,000 characters, lists are paginated with the `X-Page`/`X-Per-Page`/`X-Total`/`X-Total-Pages`/
`X-Next-Page`/`X-Prev-Page` and `Link` headers (20 per page unless `per_page`, at most 100), notes are
listed newest first unless `sort=asc`, and parameters are read from the query string, a JSON body or a
form body (with `position[new_line]`-style keys), as Grape does.

Requests that do not match the documentation are answered as GitLab would (404 for an unknown route,
400 for missing, unknown or malformed parameters, including a diff position that does not point at a
line of the merge request's diff) and recorded in `violations`; leaving the context manager asserts
there are none. Faults are injected with `fault()`: the next N requests matching a method and a path
regex answer a status (0 drops the connection), either instead of or after applying the request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

NOTE_LIMIT = 1_000_000
ROLES = {"guest": 10, "reporter": 20, "developer": 30, "maintainer": 40, "owner": 50}
_EPOCH = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Received:
    """One request as the stand-in saw it: `path` is decoded and without the query string, `params`
    is what Grape would see (query, then JSON or form body), `status` is what was answered.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    params: dict[str, Any]
    status: int


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: Any
    remaining: int
    after: bool


@dataclass
class Token:
    user_id: int
    scopes: tuple[str, ...]


@dataclass
class MergeRequest:
    project_id: int
    iid: int
    id: int
    author_id: int
    title: str
    diffs: list[dict[str, Any]]
    diff_refs: dict[str, str] | None
    source_project_id: int
    created: str
    source_branch: str = "feature"
    target_branch: str = "main"
    discussions: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""
    state: str = "opened"  # opened, closed, merged
    labels: list[str] = field(default_factory=list)
    remove_source_branch: bool = False


@dataclass
class Repository:
    """A project's git repository: branches pointing at commits, each commit a full set of files."""

    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, dict[str, Any]] = field(default_factory=dict)  # sha -> files, parents, message, author


class _ReplyError(Exception):
    """Ends handling of a request with `status` and a JSON body (GitLab's error shapes)."""

    def __init__(self, status: int, body: Any, violation: str | None = None) -> None:
        super().__init__(f"{status}")
        self.status = status
        self.body = body
        self.violation = violation


def file_diff(
    new_path: str,
    diff: str,
    *,
    old_path: str | None = None,
    new_file: bool = False,
    renamed_file: bool = False,
    deleted_file: bool = False,
) -> dict[str, Any]:
    """One entry of `GET …/merge_requests/:iid/diffs`, as GitLab returns it."""
    return {
        "old_path": old_path or new_path,
        "new_path": new_path,
        "a_mode": "0" if new_file else "100644",
        "b_mode": "0" if deleted_file else "100644",
        "diff": diff,
        "new_file": new_file,
        "renamed_file": renamed_file,
        "deleted_file": deleted_file,
        "generated_file": False,
    }


def merge_request_setup(
    server: GitLabStandIn,
    *,
    token: str,
    project_path: str = "acme/shop",
    project_id: int = 5,
    iid: int = 7,
    diffs: list[dict[str, Any]] | None = None,
    diff_refs: dict[str, str] | None = None,
    role: str = "developer",
) -> dict[str, int]:
    """The usual world for a merge-request pipeline: a project access token's bot user (`token`, scope
    `api`, `role`), a human who opened merge request `iid` in `project_path`, and its diff (a Dockerfile
    added by default). Returns the ids: bot, author, project, iid.
    """
    bot = server.add_user(f"project_{project_id}_bot_e2e", bot=True)
    author = server.add_user("mr_author")
    server.add_token(token, bot)
    server.add_project(project_path, project_id=project_id, members={bot: role, author: "maintainer"})
    default = [
        file_diff(
            "Dockerfile", '@@ -0,0 +1,3 @@\n+FROM python:3.12\n+USER root\n+CMD ["app"]\n', new_file=True
        )
    ]
    server.add_merge_request(
        project_id, iid, author_id=author, diffs=diffs if diffs is not None else default, diff_refs=diff_refs
    )
    return {"bot": bot, "author": author, "project": project_id, "iid": iid}


def diff_lines(diff: str) -> dict[int, int | None]:
    """The new-side lines a unified diff shows: new line → old line (None for an added line). The
    stand-in's own parser, kept separate from the one under test.
    """
    lines: dict[int, int | None] = {}
    old = new = old_left = new_left = 0
    for text in diff.split("\n"):
        header = re.match(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", text)
        if header:
            old, new = int(header[1]), int(header[3])
            old_left = int(header[2]) if header[2] is not None else 1
            new_left = int(header[4]) if header[4] is not None else 1
            continue
        if old_left <= 0 and new_left <= 0:
            continue
        if text.startswith("+"):
            lines[new] = None
            new, new_left = new + 1, new_left - 1
        elif text.startswith("-"):
            old, old_left = old + 1, old_left - 1
        elif text.startswith("\\"):
            continue
        else:
            lines[new] = old
            old, new, old_left, new_left = old + 1, new + 1, old_left - 1, new_left - 1
    return lines


class GitLabStandIn:
    """The server and its state. Use as a context manager; `url` is the instance root, `api_url`
    what `CI_API_V4_URL` would be.
    """

    def __init__(self, *, request_limit: int = 2000) -> None:
        self.users: dict[int, dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self.projects: dict[int, dict[str, Any]] = {}
        self.members: dict[tuple[int, int], str] = {}
        self.merge_requests: dict[tuple[int, int], MergeRequest] = {}
        self.repositories: dict[int, Repository] = {}
        self._commit_counter = 0
        self.requests: list[Received] = []
        self.violations: list[str] = []
        self.request_limit = request_limit
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._ids = 1000
        self._clock = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.api_url = f"{self.url}/api/v4"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> GitLabStandIn:
        self._thread.start()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        if exc_type is None:
            assert not self.violations, "requests that GitLab's API would reject:\n" + "\n".join(
                self.violations
            )

    # --- state set-up -------------------------------------------------------------------------------

    def add_user(self, username: str, *, bot: bool = False) -> int:
        with self._lock:
            user_id = len(self.users) + 1
            self.users[user_id] = {
                "id": user_id,
                "username": username,
                "name": username.replace("_", " ").title(),
                "state": "active",
                "locked": False,
                "avatar_url": f"{self.url}/uploads/-/system/user/avatar/{user_id}/avatar.png",
                "web_url": f"{self.url}/{username}",
                "bot": bot,
            }
            return user_id

    def add_token(self, token: str, user_id: int, *, scopes: tuple[str, ...] = ("api",)) -> None:
        self.tokens[token] = Token(user_id, scopes)

    def add_project(self, path: str, *, project_id: int = 5, members: dict[int, str] | None = None) -> int:
        self.projects[project_id] = {
            "id": project_id,
            "path_with_namespace": path,
            "name": path.rsplit("/", 1)[-1],
            "visibility": "private",
            "web_url": f"{self.url}/{path}",
            "default_branch": "main",
        }
        self.repositories.setdefault(project_id, Repository())
        for user_id, role in (members or {}).items():
            self.members[(project_id, user_id)] = role
        return project_id

    def add_merge_request(
        self,
        project_id: int,
        iid: int,
        *,
        author_id: int,
        diffs: list[dict[str, Any]],
        diff_refs: dict[str, str] | None = None,
        source_project_id: int | None = None,
    ) -> MergeRequest:
        refs = (
            diff_refs
            if diff_refs is not None
            else {"base_sha": "b" * 40, "head_sha": "d" * 40, "start_sha": "c" * 40}
        )
        with self._lock:
            mr = MergeRequest(
                project_id=project_id,
                iid=iid,
                id=self._next_id(),
                author_id=author_id,
                title=f"Change {iid}",
                diffs=diffs,
                diff_refs=refs,
                source_project_id=source_project_id or project_id,
                created=self._now(),
            )
            self.merge_requests[(project_id, iid)] = mr
            return mr

    def add_note(self, project_id: int, iid: int, author_id: int, body: str, *, system: bool = False) -> int:
        """A plain note written by someone else (or a system note), straight into the state."""
        with self._lock:
            mr = self.merge_requests[(project_id, iid)]
            note = self._new_note(mr, author_id, body, kind=None, system=system)
            mr.discussions.append(self._new_discussion([note], individual=True))
            return int(note["id"])

    def fault(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int = 1,
        after: bool = False,
    ) -> None:
        """The next `times` requests whose method is `method` and whose path (after `/api/v4`)
        matches `path_regex` (searched) answer `status` with `headers` (0: the connection is closed
        without an answer). With `after`, the request is applied first, as when a server stores a
        note and then fails to answer.
        """
        default = {429: {"message": "Retry later"}, 500: {"message": "500 Internal Server Error"}}
        with self._lock:
            self._faults.append(
                Fault(
                    method=method.upper(),
                    pattern=re.compile(path_regex),
                    status=status,
                    headers=headers or {},
                    body=body if body is not None else default.get(status, {"message": f"{status}"}),
                    remaining=times,
                    after=after,
                )
            )

    # --- state read-out -----------------------------------------------------------------------------

    def notes(self, project_id: int, iid: int) -> list[dict[str, Any]]:
        """Every note of the merge request, oldest first (plain, discussion, diff and system notes)."""
        with self._lock:
            mr = self.merge_requests[(project_id, iid)]
            notes = [note for discussion in mr.discussions for note in discussion["notes"]]
            return json.loads(json.dumps(sorted(notes, key=lambda n: n["id"])))

    def discussions(self, project_id: int, iid: int) -> list[dict[str, Any]]:
        with self._lock:
            return json.loads(json.dumps(self.merge_requests[(project_id, iid)].discussions))

    def writes(self) -> list[Received]:
        return [r for r in self.requests if r.method in {"POST", "PUT", "DELETE"}]

    def take_violations(self) -> list[str]:
        with self._lock:
            taken, self.violations = self.violations, []
            return taken

    # --- internals ----------------------------------------------------------------------------------

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _now(self) -> str:
        self._clock += 1
        return (_EPOCH + timedelta(seconds=self._clock)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def _public_user(self, user_id: int) -> dict[str, Any]:
        user = self.users[user_id]
        return {k: user[k] for k in ("id", "username", "name", "state", "locked", "avatar_url", "web_url")}

    def _new_note(
        self,
        mr: MergeRequest,
        author_id: int,
        body: str,
        *,
        kind: str | None,
        system: bool = False,
        position: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        now = self._now()
        note: dict[str, Any] = {
            "id": self._next_id(),
            "type": kind,
            "body": body,
            "attachment": None,
            "author": self._public_user(author_id),
            "created_at": now,
            "updated_at": now,
            "system": system,
            "noteable_id": mr.id,
            "noteable_type": "MergeRequest",
            "project_id": mr.project_id,
            "noteable_iid": mr.iid,
            "resolvable": kind is not None,
            "confidential": False,
            "internal": False,
            "imported": False,
            "imported_from": "none",
        }
        if kind is not None:
            note.update(resolved=False, resolved_by=None, resolved_at=None)
        if position is not None:
            note["commit_id"] = None
            note["position"] = position
        return note

    def _new_discussion(self, notes: list[dict[str, Any]], *, individual: bool) -> dict[str, Any]:
        digest = hashlib.sha1(f"discussion-{notes[0]['id']}".encode(), usedforsecurity=False).hexdigest()
        return {"id": digest, "individual_note": individual, "notes": notes}

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.method == method and fault.pattern.search(path):
                    fault.remaining -= 1
                    return fault
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 30

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

            def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _serve(self, method: str) -> None:
                split = urlsplit(self.path)
                path = split.path
                query = dict(parse_qsl(split.query, keep_blank_values=True))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items()}
                with standin._lock:
                    if len(standin.requests) >= standin.request_limit:
                        standin.violations.append(f"more than {standin.request_limit} requests")
                        self.close_connection = True
                        return
                status, body, extra = 500, {"message": "500 Internal Server Error"}, {}
                params: dict[str, Any] = {}
                fault = standin._take_fault(method, path.removeprefix("/api/v4"))
                if fault is None or fault.after:
                    try:
                        params = _params(method, query, raw, self.headers.get("Content-Type", ""))
                        with standin._lock:
                            status, body, extra = standin._route(method, path, params, headers)
                    except _ReplyError as answer:
                        status, body, extra = answer.status, answer.body, {}
                        if answer.violation:
                            with standin._lock:
                                standin.violations.append(f"{method} {path}: {answer.violation}")
                if fault is not None:
                    status, body, extra = fault.status, fault.body, fault.headers
                with standin._lock:
                    standin.requests.append(Received(method, unquote(path), query, headers, params, status))
                if status == 0:
                    self.close_connection = True
                    return
                self._send(status, body, extra)

        return Handler

    # --- routing ------------------------------------------------------------------------------------

    def _route(
        self, method: str, path: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if not path.startswith("/api/v4/"):
            raise _ReplyError(404, {"error": "404 Not Found"}, "not an API v4 path")
        segments = [unquote(s) for s in path.removeprefix("/api/v4/").split("/")]
        routes: list[tuple[str, Callable[..., tuple[int, Any, dict[str, str]]]]] = [
            ("user", self._user),
            ("projects/*", self._project),
            ("projects/*/merge_requests/*", self._merge_request),
            ("projects/*/merge_requests/*/diffs", self._diffs),
            ("projects/*/merge_requests/*/notes", self._notes),
            ("projects/*/merge_requests/*/notes/*", self._note),
            ("projects/*/merge_requests/*/discussions", self._discussions),
            ("projects/*/merge_requests/*/discussions/*", self._discussion),
            ("projects/*/merge_requests/*/discussions/*/notes", self._discussion_notes),
            ("projects/*/merge_requests/*/discussions/*/notes/*", self._discussion_note),
            ("projects/*/merge_requests", self._merge_requests),
            ("projects/*/repository/branches/*", self._branch),
            ("projects/*/repository/files/*", self._file),
            ("projects/*/repository/commits", self._create_commit),
            ("projects/*/repository/compare", self._compare),
        ]
        for pattern, handler in routes:
            parts = pattern.split("/")
            if len(parts) == len(segments) and all(
                p in ("*", s) for p, s in zip(parts, segments, strict=True)
            ):
                args = [s for p, s in zip(parts, segments, strict=True) if p == "*"]
                user_id = self._authenticate(method, headers)
                return handler(method, user_id, params, *args)
        raise _ReplyError(404, {"error": "404 Not Found"}, "no such endpoint in GitLab's REST API")

    def _authenticate(self, method: str, headers: dict[str, str]) -> int:
        token = next((v for k, v in headers.items() if k.lower() == "private-token"), None)
        known = self.tokens.get(token) if token else None
        if known is None:
            raise _ReplyError(401, {"message": "401 Unauthorized"})
        if method != "GET" and "api" not in known.scopes:
            raise _ReplyError(
                403,
                {
                    "error": "insufficient_scope",
                    "error_description": "The request requires higher privileges than provided by the "
                    "access token.",
                    "scope": "api",
                },
            )
        return known.user_id

    def _allowed(
        self,
        method: str,
        params: dict[str, Any],
        allowed: set[str],
        required: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise _ReplyError(
                400, {"error": f"{', '.join(unknown)} does not have a valid value"}, f"unknown {unknown}"
            )
        missing = sorted(k for k in required if params.get(k) in (None, ""))
        if missing:
            raise _ReplyError(400, {"error": f"{', '.join(missing)} is missing"}, f"missing {missing}")

    def _project_of(self, user_id: int, project: str, minimum: str = "guest") -> dict[str, Any]:
        found = None
        if project.isdigit():
            found = self.projects.get(int(project))
        else:
            found = next((p for p in self.projects.values() if p["path_with_namespace"] == project), None)
        if found is None or (found["id"], user_id) not in self.members:
            raise _ReplyError(404, {"message": "404 Project Not Found"})
        if ROLES[self.members[(found["id"], user_id)]] < ROLES[minimum]:
            raise _ReplyError(403, {"message": "403 Forbidden"})
        return found

    def _mr_of(self, user_id: int, project: str, iid: str, minimum: str = "reporter") -> MergeRequest:
        found = self._project_of(user_id, project, "guest")
        if ROLES[self.members[(found["id"], user_id)]] < ROLES[minimum]:
            raise _ReplyError(403, {"message": "403 Forbidden"})
        if not iid.isdigit() or (found["id"], int(iid)) not in self.merge_requests:
            raise _ReplyError(404, {"message": "404 Not found"})
        return self.merge_requests[(found["id"], int(iid))]

    def _page(self, path: str, params: dict[str, Any], items: list[Any]) -> tuple[int, Any, dict[str, str]]:
        try:
            page = int(params.get("page", 1))
            per_page = int(params.get("per_page", 20))
        except (TypeError, ValueError):
            raise _ReplyError(400, {"error": "page is invalid"}, "page/per_page not integers") from None
        page = max(page, 1)
        per_page = min(max(per_page, 1), 100)
        total_pages = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(number: int) -> str:
            query = {k: v for k, v in params.items() if not isinstance(v, dict)}
            query.update(page=str(number), per_page=str(per_page))
            return f"{self.url}{path}?{urlencode(query)}"

        links = []
        if page > 1:
            links.append(f'<{link(page - 1)}>; rel="prev"')
        if page < total_pages:
            links.append(f'<{link(page + 1)}>; rel="next"')
        links += [f'<{link(1)}>; rel="first"', f'<{link(total_pages)}>; rel="last"']
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(items)),
            "X-Total-Pages": str(total_pages),
            "X-Next-Page": str(page + 1) if page < total_pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
            "Link": ", ".join(links),
        }
        return 200, chunk, headers

    def _mr_json(self, mr: MergeRequest) -> dict[str, Any]:
        project = self.projects[mr.project_id]
        notes = [n for d in mr.discussions for n in d["notes"] if not n["system"]]
        return {
            "id": mr.id,
            "iid": mr.iid,
            "project_id": mr.project_id,
            "title": mr.title,
            "description": mr.description,
            "state": mr.state,
            "labels": list(mr.labels),
            "created_at": mr.created,
            "updated_at": mr.created,
            "target_branch": mr.target_branch,
            "source_branch": mr.source_branch,
            "author": self._public_user(mr.author_id),
            "source_project_id": mr.source_project_id,
            "target_project_id": mr.project_id,
            "draft": False,
            "work_in_progress": False,
            "merge_status": "can_be_merged",
            "detailed_merge_status": "mergeable",
            "sha": mr.diff_refs["head_sha"] if mr.diff_refs else None,
            "merge_commit_sha": None,
            "squash_commit_sha": None,
            "user_notes_count": len(notes),
            "web_url": f"{project['web_url']}/-/merge_requests/{mr.iid}",
            "references": {
                "short": f"!{mr.iid}",
                "relative": f"!{mr.iid}",
                "full": f"{project['path_with_namespace']}!{mr.iid}",
            },
            "diff_refs": mr.diff_refs,
            "changes_count": str(len(mr.diffs)),
        }

    def _find_discussion(self, mr: MergeRequest, discussion_id: str) -> dict[str, Any]:
        found = next((d for d in mr.discussions if d["id"] == discussion_id), None)
        if found is None:
            raise _ReplyError(404, {"message": "404 Discussion Not Found"})
        return found

    def _check_body(self, body: Any) -> str:
        if not isinstance(body, str) or not body.strip():
            raise _ReplyError(400, {"error": "body is empty"}, "empty or non-string body")
        if len(body) > NOTE_LIMIT:
            raise _ReplyError(
                400,
                {"message": {"note": [f"is too long (maximum is {NOTE_LIMIT} characters)"]}},
                f"body of {len(body)} characters is over GitLab's {NOTE_LIMIT}",
            )
        return body

    def _resolve(self, mr: MergeRequest, user_id: int, notes: list[dict[str, Any]], resolved: Any) -> None:
        if not isinstance(resolved, bool):
            raise _ReplyError(
                400, {"error": "resolved is invalid"}, f"resolved={resolved!r} is not a boolean"
            )
        role = self.members[(mr.project_id, user_id)]
        if ROLES[role] < ROLES["developer"] and user_id != mr.author_id:
            raise _ReplyError(403, {"message": "403 Forbidden"})
        resolvable = [n for n in notes if n["resolvable"]]
        if not resolvable:
            raise _ReplyError(404, {"message": "404 Not found"}, "resolving a note that is not resolvable")
        now = self._now()
        for note in resolvable:
            note["resolved"] = resolved
            note["resolved_by"] = self._public_user(user_id) if resolved else None
            note["resolved_at"] = now if resolved else None

    def _edit(self, note: dict[str, Any], user_id: int, body: Any) -> None:
        if note["author"]["id"] != user_id:
            raise _ReplyError(403, {"message": "403 Forbidden"})
        note["body"] = self._check_body(body)
        note["updated_at"] = self._now()

    # --- endpoints ----------------------------------------------------------------------------------

    def _user(self, method: str, user_id: int, params: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        if method != "GET":
            raise _ReplyError(405, {"error": "405 Not Allowed"}, "method not allowed")
        self._allowed(method, params, set())
        user = dict(self.users[user_id])
        user.update(created_at=_EPOCH.strftime("%Y-%m-%dT%H:%M:%S.000Z"), bio="", two_factor_enabled=False)
        return 200, user, {}

    def _project(self, method: str, user_id: int, params: dict[str, Any], project: str) -> Any:
        if method != "GET":
            raise _ReplyError(405, {"error": "405 Not Allowed"}, "method not allowed")
        return 200, dict(self._project_of(user_id, project)), {}

    def _merge_request(
        self, method: str, user_id: int, params: dict[str, Any], project: str, iid: str
    ) -> Any:
        if method == "PUT":
            mr = self._mr_of(user_id, project, iid, "developer")
            self._allowed(
                method,
                params,
                {
                    "title",
                    "description",
                    "labels",
                    "add_labels",
                    "remove_labels",
                    "state_event",
                    "target_branch",
                    "remove_source_branch",
                },
            )
            for key in ("title", "description"):
                if key in params:
                    setattr(mr, key, str(params[key]))
            if "labels" in params:
                mr.labels = _labels(params["labels"])
            for label in _labels(params.get("add_labels", "")):
                if label not in mr.labels:
                    mr.labels.append(label)
            if params.get("state_event") == "close":
                mr.state = "closed"
            return 200, self._mr_json(mr), {}
        if method != "GET":
            raise _ReplyError(405, {"error": "405 Not Allowed"}, "method not allowed")
        self._allowed(
            method, params, {"render_html", "include_diverged_commits_count", "include_rebase_in_progress"}
        )
        return 200, self._mr_json(self._mr_of(user_id, project, iid)), {}

    # --- repository files, branches, commits, merge requests (fix merge requests) -----------------------

    def put_files(
        self,
        project_id: int,
        files: dict[str, str | None],
        *,
        branch: str = "main",
        message: str = "Initial commit",
        author_id: int | None = None,
    ) -> str:
        """Commit `files` (path -> text; None deletes) on `branch`, as a person would push them."""
        with self._lock:
            repo = self.repositories.setdefault(project_id, Repository())
            parent = repo.branches.get(branch)
            current = dict(repo.commits[parent]["files"]) if parent else {}
            for path, text in files.items():
                if text is None:
                    current.pop(path, None)
                else:
                    current[path] = (text, False)
            sha = self._store_commit(repo, current, [parent] if parent else [], message, author_id or 0)
            repo.branches[branch] = sha
            return sha

    def files_at(self, project_id: int, ref: str) -> dict[str, str]:
        with self._lock:
            repo = self.repositories[project_id]
            sha = repo.branches.get(ref, ref)
            return {path: text for path, (text, _) in repo.commits[sha]["files"].items()}

    def branch_commits(self, project_id: int, branch: str, base: str = "main") -> list[dict[str, Any]]:
        """Commits on `branch` that `base` does not have, oldest first."""
        with self._lock:
            repo = self.repositories[project_id]
            exclude = self._ancestors(repo, repo.branches[base])
            return [repo.commits[c] | {"id": c} for c in self._walk(repo, repo.branches[branch], exclude)]

    def fix_merge_requests(self, project_id: int) -> list[MergeRequest]:
        with self._lock:
            return [
                mr
                for (pid, _), mr in sorted(self.merge_requests.items())
                if pid == project_id and mr.source_branch.startswith("ci-security/")
            ]

    def close_merge_request(self, project_id: int, iid: int) -> None:
        with self._lock:
            self.merge_requests[(project_id, iid)].state = "closed"

    def _store_commit(
        self,
        repo: Repository,
        files: dict[str, tuple[str, bool]],
        parents: list[str],
        message: str,
        author_id: int,
    ) -> str:
        self._commit_counter += 1
        raw = f"{sorted(files.items())}{parents}{message}{self._commit_counter}".encode()
        sha = hashlib.sha1(raw, usedforsecurity=False).hexdigest()
        repo.commits[sha] = {
            "files": files,
            "parents": parents,
            "message": message,
            "author_id": author_id,
            "created": self._now(),
        }
        return sha

    def _ancestors(self, repo: Repository, sha: str) -> set[str]:
        seen, stack = set(), [sha]
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(repo.commits[current]["parents"])
        return seen

    def _walk(self, repo: Repository, head: str, exclude: set[str]) -> list[str]:
        out = []
        current: str | None = head
        while current is not None and current not in exclude:
            out.append(current)
            parents = repo.commits[current]["parents"]
            current = parents[0] if parents else None
        return list(reversed(out))

    def _commit_json(self, project_id: int, sha: str) -> dict[str, Any]:
        commit = self.repositories[project_id].commits[sha]
        author = self.users.get(commit["author_id"], {"name": "Someone", "username": "someone"})
        return {
            "id": sha,
            "short_id": sha[:8],
            "title": commit["message"].split("\n", 1)[0],
            "message": commit["message"],
            "author_name": author["name"],
            "author_email": f"{author['username']}@example.com",
            "authored_date": commit["created"],
            "committer_name": author["name"],
            "committer_email": f"{author['username']}@example.com",
            "committed_date": commit["created"],
            "created_at": commit["created"],
            "parent_ids": list(commit["parents"]),
            "web_url": f"{self.projects[project_id]['web_url']}/-/commit/{sha}",
        }

    def _resolve_ref(self, project_id: int, ref: str) -> str:
        repo = self.repositories.get(project_id, Repository())
        sha = repo.branches.get(ref, ref)
        if sha not in repo.commits:
            raise _ReplyError(404, {"message": "404 Commit Not Found"})
        return sha

    def _developer(self, user_id: int, project: str) -> dict[str, Any]:
        return self._project_of(user_id, project, "developer")

    def _branch(self, method: str, user_id: int, params: dict[str, Any], project: str, name: str) -> Any:
        if method != "GET":
            raise _ReplyError(405, {"error": "405 Not Allowed"}, "method not allowed")
        self._allowed(method, params, set())
        found = self._project_of(user_id, project, "reporter")
        repo = self.repositories.get(found["id"], Repository())
        if name not in repo.branches:
            raise _ReplyError(404, {"message": "404 Branch Not Found"})
        return (
            200,
            {
                "name": name,
                "merged": False,
                "protected": name == found["default_branch"],
                "default": name == found["default_branch"],
                "developers_can_push": False,
                "developers_can_merge": False,
                "can_push": True,
                "web_url": f"{found['web_url']}/-/tree/{quote(name, safe='')}",
                "commit": self._commit_json(found["id"], repo.branches[name]),
            },
            {},
        )

    def _file(self, method: str, user_id: int, params: dict[str, Any], project: str, path: str) -> Any:
        if method != "GET":
            raise _ReplyError(405, {"error": "405 Not Allowed"}, "method not allowed (only GET is used)")
        self._allowed(method, params, {"ref"}, {"ref"})
        found = self._project_of(user_id, project, "reporter")
        sha = self._resolve_ref(found["id"], str(params["ref"]))
        entry = self.repositories[found["id"]].commits[sha]["files"].get(path)
        if entry is None:
            raise _ReplyError(404, {"message": "404 File Not Found"})
        data = entry[0].encode()
        return (
            200,
            {
                "file_name": path.rsplit("/", 1)[-1],
                "file_path": path,
                "size": len(data),
                "encoding": "base64",
                "content": base64.b64encode(data).decode(),
                "content_sha256": hashlib.sha256(data).hexdigest(),
                "ref": params["ref"],
                "blob_id": hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest(),
                "commit_id": sha,
                "last_commit_id": sha,
                "execute_filemode": entry[1],
            },
            {},
        )

    def _create_commit(self, method: str, user_id: int, params: dict[str, Any], project: str) -> Any:
        if method != "POST":
            raise _ReplyError(405, {"error": "405 Not Allowed"}, "method not allowed (only POST is used)")
        self._allowed(
            method,
            params,
            {
                "branch",
                "commit_message",
                "start_branch",
                "start_sha",
                "start_project",
                "actions",
                "author_email",
                "author_name",
                "stats",
                "force",
            },
            {"branch", "commit_message", "actions"},
        )
        found = self._developer(user_id, project)
        repo = self.repositories.setdefault(found["id"], Repository())
        branch = str(params["branch"])
        start = params.get("start_sha") or (
            repo.branches.get(str(params["start_branch"])) if params.get("start_branch") else None
        )
        if params.get("start_sha") and params["start_sha"] not in repo.commits:
            raise _ReplyError(400, {"message": "Invalid start_sha"}, "start_sha is no commit")
        exists = branch in repo.branches
        if exists and start is not None and not params.get("force"):
            raise _ReplyError(
                400,
                {
                    "message": f"A branch called '{branch}' already exists. Switch to that branch in order "
                    "to make changes"
                },
            )
        parent = start if start is not None else repo.branches.get(branch)
        if parent is None:
            raise _ReplyError(400, {"message": "You can only create or edit files when you are on a branch"})
        files = dict(repo.commits[parent]["files"])
        actions = params["actions"]
        if not isinstance(actions, list) or not actions:
            raise _ReplyError(400, {"error": "actions is missing"}, "no actions")
        for action in actions:
            allowed = {
                "action",
                "file_path",
                "content",
                "encoding",
                "execute_filemode",
                "last_commit_id",
                "previous_path",
            }
            if not isinstance(action, dict) or set(action) - allowed or not action.get("file_path"):
                raise _ReplyError(400, {"error": "actions is invalid"}, f"bad action {action!r}")
            path = str(action["file_path"])
            kind = action.get("action")
            content = str(action.get("content", ""))
            if action.get("encoding") == "base64":
                content = base64.b64decode(content).decode()
            if kind == "update":
                if path not in files:
                    raise _ReplyError(400, {"message": "A file with this name doesn't exist"})
                files[path] = (content, bool(action.get("execute_filemode", files[path][1])))
            elif kind == "create":
                if path in files:
                    raise _ReplyError(400, {"message": "A file with this name already exists"})
                files[path] = (content, bool(action.get("execute_filemode", False)))
            else:
                raise _ReplyError(
                    400, {"error": "actions[action] does not have a valid value"}, f"action {kind!r}"
                )
        sha = self._store_commit(repo, files, [parent], str(params["commit_message"]), user_id)
        repo.branches[branch] = sha
        return 201, self._commit_json(found["id"], sha), {}

    def _compare(self, method: str, user_id: int, params: dict[str, Any], project: str) -> Any:
        if method != "GET":
            raise _ReplyError(405, {"error": "405 Not Allowed"}, "method not allowed")
        self._allowed(
            method, params, {"from", "to", "straight", "from_project_id", "unidiff"}, {"from", "to"}
        )
        found = self._project_of(user_id, project, "reporter")
        repo = self.repositories[found["id"]]
        old, new = (
            self._resolve_ref(found["id"], str(params["from"])),
            self._resolve_ref(found["id"], str(params["to"])),
        )
        commits = self._walk(repo, new, self._ancestors(repo, old))
        return (
            200,
            {
                "commit": self._commit_json(found["id"], new),
                "commits": [self._commit_json(found["id"], c) for c in commits],
                "diffs": [],
                "compare_timeout": False,
                "compare_same_ref": old == new,
                "web_url": f"{found['web_url']}/-/compare/{old}...{new}",
            },
            {},
        )

    def _merge_requests(self, method: str, user_id: int, params: dict[str, Any], project: str) -> Any:
        found = self._project_of(user_id, project, "reporter")
        if method == "GET":
            self._allowed(
                method,
                params,
                {"state", "source_branch", "target_branch", "page", "per_page", "order_by", "sort"},
            )
            state = params.get("state", "all")
            if state not in ("opened", "closed", "merged", "locked", "all"):
                raise _ReplyError(400, {"error": "state does not have a valid value"}, "bad state")
            items = [
                self._mr_json(mr)
                for (pid, _), mr in sorted(self.merge_requests.items(), key=lambda item: -item[0][1])
                if pid == found["id"]
                and (state == "all" or mr.state == state)
                and params.get("source_branch", mr.source_branch) == mr.source_branch
                and params.get("target_branch", mr.target_branch) == mr.target_branch
            ]
            return self._page(f"/api/v4/projects/{quote(project, safe='')}/merge_requests", params, items)
        if method != "POST":
            raise _ReplyError(405, {"error": "405 Not Allowed"}, "method not allowed")
        self._allowed(
            method,
            params,
            {
                "source_branch",
                "target_branch",
                "title",
                "description",
                "labels",
                "remove_source_branch",
                "squash",
                "assignee_id",
                "reviewer_ids",
                "target_project_id",
                "allow_collaboration",
            },
            {"source_branch", "target_branch", "title"},
        )
        self._developer(user_id, project)
        repo = self.repositories.get(found["id"], Repository())
        source, target = str(params["source_branch"]), str(params["target_branch"])
        if source not in repo.branches or target not in repo.branches:
            raise _ReplyError(400, {"message": ["Source branch does not exist"]}, "unknown branch")
        if any(
            mr.source_branch == source and mr.state == "opened"
            for (pid, _), mr in self.merge_requests.items()
            if pid == found["id"]
        ):
            raise _ReplyError(
                409, {"message": ["Another open merge request already exists for this source branch"]}
            )
        iid = max((i for (pid, i) in self.merge_requests if pid == found["id"]), default=0) + 1
        mr = MergeRequest(
            project_id=found["id"],
            iid=iid,
            id=self._next_id(),
            author_id=user_id,
            title=str(params["title"]),
            diffs=[],
            diff_refs={
                "base_sha": repo.branches[target],
                "head_sha": repo.branches[source],
                "start_sha": repo.branches[target],
            },
            source_project_id=found["id"],
            created=self._now(),
            source_branch=source,
            target_branch=target,
            description=str(params.get("description") or ""),
            labels=_labels(params.get("labels", "")),
            remove_source_branch=params.get("remove_source_branch") in (True, "true"),
        )
        self.merge_requests[(found["id"], iid)] = mr
        return 201, self._mr_json(mr), {}

    def _diffs(self, method: str, user_id: int, params: dict[str, Any], project: str, iid: str) -> Any:
        if method != "GET":
            raise _ReplyError(405, {"error": "405 Not Allowed"}, "method not allowed")
        self._allowed(method, params, {"page", "per_page", "unidiff"})
        mr = self._mr_of(user_id, project, iid)
        return self._page(
            f"/api/v4/projects/{quote(project, safe='')}/merge_requests/{iid}/diffs", params, mr.diffs
        )

    def _notes(self, method: str, user_id: int, params: dict[str, Any], project: str, iid: str) -> Any:
        mr = self._mr_of(user_id, project, iid)
        if method == "GET":
            self._allowed(method, params, {"page", "per_page", "sort", "order_by"})
            if params.get("sort", "desc") not in ("asc", "desc"):
                raise _ReplyError(400, {"error": "sort does not have a valid value"}, "bad sort")
            order = params.get("order_by", "created_at")
            if order not in ("created_at", "updated_at"):
                raise _ReplyError(400, {"error": "order_by does not have a valid value"}, "bad order_by")
            notes = [n for d in mr.discussions for n in d["notes"]]
            notes.sort(key=lambda n: (n[order], n["id"]), reverse=params.get("sort", "desc") == "desc")
            return self._page(
                f"/api/v4/projects/{quote(project, safe='')}/merge_requests/{iid}/notes", params, notes
            )
        if method == "POST":
            self._allowed(
                method, params, {"body", "created_at", "internal", "merge_request_diff_head_sha"}, {"body"}
            )
            note = self._new_note(mr, user_id, self._check_body(params["body"]), kind=None)
            mr.discussions.append(self._new_discussion([note], individual=True))
            return 201, note, {}
        raise _ReplyError(405, {"error": "405 Not Allowed"}, "method not allowed")

    def _note(
        self, method: str, user_id: int, params: dict[str, Any], project: str, iid: str, note_id: str
    ) -> Any:
        mr = self._mr_of(user_id, project, iid)
        note = next((n for d in mr.discussions for n in d["notes"] if str(n["id"]) == note_id), None)
        if note is None:
            raise _ReplyError(404, {"message": "404 Note Not Found"})
        if method == "GET":
            self._allowed(method, params, set())
            return 200, note, {}
        if method == "PUT":
            self._allowed(method, params, {"body", "confidential"}, {"body"})
            self._edit(note, user_id, params["body"])
            return 200, note, {}
        raise _ReplyError(405, {"error": "405 Not Allowed"}, "method not allowed")

    def _discussions(self, method: str, user_id: int, params: dict[str, Any], project: str, iid: str) -> Any:
        mr = self._mr_of(user_id, project, iid)
        if method == "GET":
            self._allowed(method, params, {"page", "per_page"})
            return self._page(
                f"/api/v4/projects/{quote(project, safe='')}/merge_requests/{iid}/discussions",
                params,
                mr.discussions,
            )
        if method == "POST":
            self._allowed(method, params, {"body", "position", "commit_id", "created_at"}, {"body"})
            body = self._check_body(params["body"])
            position = self._position(mr, params["position"]) if "position" in params else None
            note = self._new_note(
                mr, user_id, body, kind="DiffNote" if position else "DiscussionNote", position=position
            )
            discussion = self._new_discussion([note], individual=False)
            mr.discussions.append(discussion)
            return 201, discussion, {}
        raise _ReplyError(405, {"error": "405 Not Allowed"}, "method not allowed")

    def _discussion(
        self, method: str, user_id: int, params: dict[str, Any], project: str, iid: str, did: str
    ) -> Any:
        mr = self._mr_of(user_id, project, iid)
        discussion = self._find_discussion(mr, did)
        if method == "GET":
            self._allowed(method, params, set())
            return 200, discussion, {}
        if method == "PUT":
            self._allowed(method, params, {"resolved"}, {"resolved"})
            if discussion["individual_note"]:
                raise _ReplyError(400, {"message": "400 Bad request"}, "resolving an individual note")
            self._resolve(mr, user_id, discussion["notes"], params["resolved"])
            return 200, discussion, {}
        raise _ReplyError(405, {"error": "405 Not Allowed"}, "method not allowed")

    def _discussion_notes(
        self, method: str, user_id: int, params: dict[str, Any], project: str, iid: str, did: str
    ) -> Any:
        mr = self._mr_of(user_id, project, iid)
        discussion = self._find_discussion(mr, did)
        if method != "POST":
            raise _ReplyError(405, {"error": "405 Not Allowed"}, "method not allowed")
        self._allowed(method, params, {"body", "created_at"}, {"body"})
        kind = "DiffNote" if discussion["notes"][0]["type"] == "DiffNote" else "DiscussionNote"
        note = self._new_note(mr, user_id, self._check_body(params["body"]), kind=kind)
        if kind == "DiffNote":
            note["position"] = discussion["notes"][0]["position"]
        discussion["notes"].append(note)
        discussion["individual_note"] = False
        return 201, note, {}

    def _discussion_note(
        self,
        method: str,
        user_id: int,
        params: dict[str, Any],
        project: str,
        iid: str,
        did: str,
        note_id: str,
    ) -> Any:
        mr = self._mr_of(user_id, project, iid)
        discussion = self._find_discussion(mr, did)
        note = next((n for n in discussion["notes"] if str(n["id"]) == note_id), None)
        if note is None:
            raise _ReplyError(404, {"message": "404 Note Not Found"})
        if method != "PUT":
            raise _ReplyError(405, {"error": "405 Not Allowed"}, "method not allowed")
        self._allowed(method, params, {"body", "resolved"})
        if ("body" in params) == ("resolved" in params):
            raise _ReplyError(
                400, {"error": "body, resolved are mutually exclusive"}, "exactly one of body/resolved"
            )
        if "body" in params:
            self._edit(note, user_id, params["body"])
        else:
            self._resolve(mr, user_id, [note], params["resolved"])
        return 200, note, {}

    def _position(self, mr: MergeRequest, position: Any) -> dict[str, Any]:
        """A `text` position checked the way GitLab resolves it against the merge request's diff:
        the three SHAs are the MR's `diff_refs`, both paths name one diff entry, `new_line` is a line
        the diff shows, with `old_line` exactly when that line is unchanged context.
        """

        def bad(reason: str) -> _ReplyError:
            return _ReplyError(
                400,
                {
                    "message": "400 Bad request - Note {:line_code=>"
                    '["can\'t be blank", "must be a valid line code"]}'
                },
                f"position: {reason}",
            )

        if not isinstance(position, dict):
            raise bad("not a hash")
        known = {
            "base_sha",
            "start_sha",
            "head_sha",
            "position_type",
            "old_path",
            "new_path",
            "old_line",
            "new_line",
        }
        if set(position) - known - {"line_range", "width", "height", "x", "y"}:
            raise bad(f"unknown keys {sorted(set(position) - known)}")
        if position.get("position_type") != "text":
            raise bad(f"position_type {position.get('position_type')!r}, expected 'text'")
        if mr.diff_refs is None:
            raise bad("the merge request has no diff_refs")
        for sha in ("base_sha", "start_sha", "head_sha"):
            if position.get(sha) != mr.diff_refs[sha]:
                raise bad(f"{sha} {position.get(sha)!r} is not the merge request's {mr.diff_refs[sha]!r}")
        for key in ("old_path", "new_path"):
            if not isinstance(position.get(key), str) or not position[key]:
                raise bad(f"{key} is required for a text position")
        entry = next((d for d in mr.diffs if d["new_path"] == position["new_path"]), None)
        if entry is None:
            raise bad(f"{position['new_path']} is not in the merge request's diff")
        if entry["old_path"] != position["old_path"]:
            raise bad(f"old_path {position['old_path']!r} is not {entry['old_path']!r}")
        new_line, old_line = position.get("new_line"), position.get("old_line")
        if not isinstance(new_line, int) or isinstance(new_line, bool):
            raise bad(f"new_line {new_line!r} is not an integer")
        lines = diff_lines(entry["diff"])
        if new_line not in lines:
            raise bad(f"line {new_line} of {entry['new_path']} is not in the diff")
        if lines[new_line] is None and old_line is not None:
            raise bad(f"line {new_line} is added: old_line must be left out")
        if lines[new_line] is not None and old_line != lines[new_line]:
            raise bad(f"line {new_line} is unchanged context: old_line must be {lines[new_line]}")
        stored = {k: position.get(k) for k in ("base_sha", "start_sha", "head_sha", "old_path", "new_path")}
        stored.update(position_type="text", old_line=old_line, new_line=new_line, line_range=None)
        return stored


def _labels(value: Any) -> list[str]:
    """GitLab's labels parameter: a comma-separated string or a list."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _params(method: str, query: dict[str, str], raw: bytes, content_type: str) -> dict[str, Any]:
    """Request parameters as Grape sees them: the query string, then a JSON or form body; nested
    `a[b]` keys become hashes; "true"/"false" and digit strings are typed for the keys that need it.
    """
    params: dict[str, Any] = {}
    pairs = list(query.items())
    if raw and method != "GET":
        if content_type.startswith("application/json"):
            try:
                body = json.loads(raw)
            except ValueError:
                raise _ReplyError(
                    400, {"error": "The provided content-type 'application/json' is invalid"}, "bad JSON"
                ) from None
            if not isinstance(body, dict):
                raise _ReplyError(400, {"error": "body must be a JSON object"}, "JSON body is not an object")
            for key, value in pairs:
                _put(params, key, value)
            params.update(body)
            return params
        if content_type.startswith("application/x-www-form-urlencoded"):
            pairs += parse_qsl(raw.decode(), keep_blank_values=True)
        else:
            raise _ReplyError(415, {"error": "415 Unsupported Media Type"}, f"content type {content_type!r}")
    for key, value in pairs:
        _put(params, key, value)
    return params


def _put(params: dict[str, Any], key: str, value: str) -> None:
    names = re.findall(r"[^\[\]]+", key)
    target = params
    for name in names[:-1]:
        target = target.setdefault(name, {})
    typed: Any = value
    if names[-1] in ("resolved",) and value in ("true", "false"):
        typed = value == "true"
    elif names[-1] in ("new_line", "old_line") and value.isdigit():
        typed = int(value)
    target[names[-1]] = typed
