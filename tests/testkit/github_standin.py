"""A GitHub REST API stand-in on 127.0.0.1 that checks every request against GitHub's OpenAPI description.

It serves the operations of `testkit.github_openapi.OPERATIONS`, checked against the part of GitHub's
official description they need (cut out of `../shared/schemas/` once per session; without ../shared the
test is skipped), and keeps state: pull requests with their
files and patches, issue comments, review comments and SARIF uploads, so a test asserts what the
server holds after a run.

Every request is validated before it is served: the method and path must match an operation of the
subset, required path and query parameters must be present and every parameter must fit its schema
(unknown query parameters count as errors), and a JSON body must validate against the operation's
`requestBody` schema (OAS 3.0, with `openapi-schema-validator`'s `OAS30Validator`). A request that
does not validate gets a 404/422 and is recorded in `violations`. The JSON bodies the stand-in sends
are validated against the operation's response schema as well, so its answers are shaped like
GitHub's (a failure there is a stand-in bug, recorded the same way). `check()` raises when anything
was recorded; leaving the `with` block without an exception calls it.

Beyond the schema it behaves as GitHub does where the platform code depends on it: pagination with
`Link` headers (`per_page` up to 100), 401 for a wrong token, `GET /user` answering 403 for an
installation token, 403 "Resource not accessible by integration" on writes with a read-only token,
422 for a comment body over 65,536 characters and for a review comment whose line is not in the diff,
403 "Advanced Security must be enabled" when code scanning is off.

Faults: `fail(method, path_regex, status, times=N, headers=…)` answers the next N matching requests
with `status` (0 drops the connection without an answer); with `after_apply=True` the request is
served first (the comment is stored) and the answer is then replaced by the fault.

Usage::

    with GitHubStandIn() as gh:
        gh.add_pull(7, files=[PullFile("Dockerfile", patch="@@ -1,2 +1,3 @@\\n FROM x\\n+USER app\\n")])
        ...  # point CiContext.api_url at gh.url, token gh.token
        assert len(gh.issue_comments(7)) == 1
    # leaving the block stops the server and raises if any request broke the OpenAPI description
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from testkit.github_openapi import shared_subset

_URN = "urn:ci-security:github-openapi-subset"
_FAULT_MESSAGES = {429: "API rate limit exceeded", 502: "Bad Gateway", 503: "Service Unavailable"}
_DOCS = "https://docs.github.com/rest"
MAX_BODY = 16 * 1024 * 1024
COMMENT_LIMIT = 65_536
HEAD_SHA = "1111111111111111111111111111111111111111"
BASE_SHA = "2222222222222222222222222222222222222222"


# Path parameters GitHub documents as holding slashes: a ref (`heads/feature/x`), a file path, and
# `base...head` of a comparison; every other one is a single path segment.
_SLASHED = frozenset({"ref", "path", "basehead"})


def _parameter(match: re.Match[str]) -> str:
    name = match[1]
    return f"(?P<{name}>.+)" if name in _SLASHED else f"(?P<{name}>[^/]+)"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def right_side_lines(patch: str | None) -> set[int]:
    """New-file lines of a unified-diff patch a review comment may use (written independently of the
    platform's parser, so the two check each other).
    """
    lines: set[int] = set()
    current: int | None = None
    for raw in (patch or "").splitlines():
        if raw.startswith("@@"):
            match = re.match(r"@@ -\S+ \+(\d+)", raw)
            current = int(match.group(1)) if match else None
        elif current is not None and not raw.startswith(("-", "\\")):
            lines.add(current)
            current += 1
    return lines


@dataclass
class PullFile:
    """One file of a pull request as `GET /pulls/{n}/files` lists it."""

    filename: str
    patch: str | None = None
    status: str = "modified"  # added, removed, modified, renamed, …
    previous_filename: str | None = None


@dataclass
class Pull:
    number: int
    head_sha: str
    base_sha: str
    files: list[PullFile]
    title: str = ""
    body: str | None = None
    state: str = "open"
    merged_at: str | None = None
    head_ref: str = "feature"
    base_ref: str = "main"
    labels: list[str] = field(default_factory=list)
    author: str = "alice"


@dataclass
class Recorded:
    """One request as received: `body` is the parsed JSON (or the raw text when it is not JSON)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    operation: str = ""  # operationId, "" when nothing matched
    status: int = 0


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    message: str
    after_apply: bool


@dataclass
class _Operation:
    method: str
    template: str
    regex: re.Pattern[str]
    pointer: str
    spec: dict[str, Any]
    parameters: list[tuple[str, dict[str, Any]]]  # (pointer to the parameter, the parameter)

    @property
    def operation_id(self) -> str:
        return str(self.spec.get("operationId", ""))


class _ReplyError(Exception):
    """Raised by a handler to answer with an error status."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "documentation_url": _DOCS, **extra}


class OpenApi:
    """The subset: operations to match requests against, validators, and sample instances."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(self.document, default_specification=DRAFT4)
        self.registry = Registry().with_resource(_URN, resource)
        self._validators: dict[str, OAS30Validator] = {}
        self.operations: list[_Operation] = []
        for template, item in self.document["paths"].items():
            base = f"#/paths/{_escape(template)}"
            shared = [(f"{base}/parameters/{i}", p) for i, p in enumerate(item.get("parameters", []))]
            regex = re.compile("^" + re.sub(r"\\\{(\w+)\\\}", _parameter, re.escape(template)) + "$")
            for method, spec in item.items():
                if method in ("parameters", "summary"):
                    continue
                own = [
                    (f"{base}/{method}/parameters/{i}", p) for i, p in enumerate(spec.get("parameters", []))
                ]
                params: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
                for pointer, param in shared + own:
                    pointer, param = self.follow(pointer, param)
                    params[(param["name"], param["in"])] = (pointer, param)
                self.operations.append(
                    _Operation(
                        method.upper(), template, regex, f"{base}/{method}", spec, list(params.values())
                    )
                )
        # a literal segment beats a template one: /pulls/comments/{id} before /pulls/{pull_number}
        self.operations.sort(key=lambda op: -len(re.sub(r"\{\w+\}", "", op.template)))

    @classmethod
    def default(cls) -> OpenApi:
        """The subset of the description in ../shared, loaded once (its validators are reused)."""
        global _DEFAULT
        if _DEFAULT is None:
            _DEFAULT = cls(shared_subset())
        return _DEFAULT

    def node(self, pointer: str) -> Any:
        value: Any = self.document
        for token in pointer.removeprefix("#/").split("/"):
            value = value[token.replace("~1", "/").replace("~0", "~")]
        return value

    def follow(self, pointer: str, node: Any) -> tuple[str, Any]:
        while isinstance(node, dict) and "$ref" in node:
            pointer = node["$ref"]
            node = self.node(pointer)
        return pointer, node

    def match(self, method: str, path: str) -> tuple[_Operation, dict[str, str]] | None:
        for op in self.operations:
            found = op.regex.match(path)
            if found and op.method == method:
                return op, found.groupdict()
        return None

    def errors(self, pointer: str, instance: Any) -> list[str]:
        validator = self._validators.get(pointer)
        if validator is None:
            validator = OAS30Validator(
                {"$ref": f"{_URN}{pointer}"}, registry=self.registry, format_checker=oas30_format_checker
            )
            self._validators[pointer] = validator
        return [
            f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {_short(error.message)}"
            for error in validator.iter_errors(instance)
        ]

    def json_schema_pointer(self, pointer: str) -> str | None:
        """The pointer to the `application/json` schema of a requestBody or response at `pointer`."""
        pointer, node = self.follow(pointer, self.node(pointer))
        if "application/json" not in node.get("content", {}):
            return None
        return f"{pointer}/content/application~1json/schema"

    def sample(self, schema: str, /, **overrides: Any) -> dict[str, Any]:
        """A minimal valid instance of component schema `name` (required properties only), with
        `overrides` merged in.
        """
        value = self._sample(self.node(f"#/components/schemas/{schema}"), frozenset())
        assert isinstance(value, dict)
        return _merge(value, overrides)

    def _sample(self, schema: Any, seen: frozenset[str]) -> Any:
        if not isinstance(schema, dict):
            return None
        if "$ref" in schema:
            ref = schema["$ref"]
            return None if ref in seen else self._sample(self.node(ref), seen | {ref})
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                value = self._sample(part, seen)
                if isinstance(value, dict):
                    merged.update(value)
            return merged
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return self._sample(schema[key][0], seen)
        if "enum" in schema:
            return next((v for v in schema["enum"] if v is not None), None)
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            props = schema.get("properties", {})
            return {name: self._sample(props.get(name, {}), seen) for name in schema.get("required", [])}
        if kind == "array":
            return [self._sample(schema.get("items", {}), seen) for _ in range(schema.get("minItems", 0))]
        if kind == "string":
            return _sample_string(schema)
        if kind == "integer":
            return int(schema.get("minimum", 1))
        if kind == "number":
            return float(schema.get("minimum", 1))
        if kind == "boolean":
            return False
        return None


_DEFAULT: OpenApi | None = None


def _short(message: str) -> str:
    return message if len(message) <= 300 else f"{message[:140]} … {message[-140:]}"


def _sample_string(schema: dict[str, Any]) -> str:
    fmt = schema.get("format")
    if fmt == "date-time":
        return "2024-05-01T12:00:00Z"
    if fmt == "date":
        return "2024-05-01"
    if fmt == "uri":
        return "https://github.example/placeholder"
    if fmt == "email":
        return "someone@example.com"
    if fmt == "uuid":
        return "00000000-0000-4000-8000-000000000000"
    if schema.get("pattern") == "^[0-9a-fA-F]+$":
        return "0" * int(schema.get("minLength", 40))
    return "x" * max(int(schema.get("minLength", 1)), 1)


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = value
    return result


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GitHubStandIn:
    """The server and its state. `identity` is "installation" (a `GITHUB_TOKEN`: `GET /user` answers
    403, comments are written by `github-actions[bot]`) or "user" (a personal access token of
    `ci-bot`, type "User").
    """

    def __init__(
        self,
        *,
        owner: str = "octo-org",
        repo: str = "app",
        token: str = "ghs_StandInToken0123456789abcdefghijklmn",
        identity: str = "installation",
        spec: OpenApi | None = None,
    ) -> None:
        self.owner = owner
        self.repo = repo
        self.token = token
        self.identity = identity
        self.read_only = False
        self.code_scanning = "enabled"  # enabled | disabled (Advanced Security off)
        self.spec = spec or OpenApi.default()
        self.pulls: dict[int, Pull] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.review_comments_by_pull: dict[int, list[dict[str, Any]]] = {}
        self.sarif_uploads: list[dict[str, Any]] = []
        # the repository's git objects and refs, for fix pull requests
        self.default_branch = "main"
        self.actions_may_open_pulls = True  # the repository setting GITHUB_TOKEN needs to open pull requests
        self.blobs: dict[str, bytes] = {}
        self.trees: dict[str, dict[str, tuple[str, str]]] = {}  # sha -> path -> (mode, blob sha)
        self.commits: dict[str, dict[str, Any]] = {}
        self.refs: dict[str, str] = {}  # "heads/main" -> commit sha
        self._commit_clock = itertools.count(1)
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self._faults: list[Fault] = []
        self._ids = itertools.count(1001)
        self._user_ids: dict[str, int] = {}
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> GitHubStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()

    def __enter__(self) -> GitHubStandIn:
        return self.start()

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.stop()
        if exc_type is None:
            self.check()

    def check(self) -> None:
        """Raise when any request (or answer) did not validate against the OpenAPI subset."""
        if self.violations:
            raise AssertionError("GitHub stand-in: OpenAPI violations:\n" + "\n".join(self.violations))

    # -- the test's side ---------------------------------------------------------------------------

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.repo}"

    def add_pull(
        self,
        number: int,
        *,
        files: list[PullFile] | None = None,
        head_sha: str = HEAD_SHA,
        base_sha: str = BASE_SHA,
    ) -> Pull:
        pull = Pull(number, head_sha, base_sha, list(files or []))
        with self._lock:
            self.pulls[number] = pull
            self.comments.setdefault(number, [])
            self.review_comments_by_pull.setdefault(number, [])
        return pull

    def user(self, login: str, *, user_type: str = "User") -> dict[str, Any]:
        """A `simple-user` for `login`; the same login always gets the same id."""
        uid = self._user_ids.setdefault(
            login, 41898282 if login == "github-actions[bot]" else 5001 + len(self._user_ids)
        )
        quoted = quote(login)
        return self.spec.sample(
            "simple-user",
            login=login,
            id=uid,
            node_id=f"U_{uid}",
            avatar_url=f"https://avatars.githubusercontent.com/u/{uid}",
            url=f"{self.url}/users/{quoted}",
            html_url=f"https://github.com/{quoted}",
            type=user_type,
            site_admin=False,
        )

    def own_user(self) -> dict[str, Any]:
        """The author of comments written with the token."""
        if self.identity == "installation":
            return self.user("github-actions[bot]", user_type="Bot")
        return self.user("ci-bot", user_type="User")

    def add_comment(self, number: int, body: str, *, user: dict[str, Any] | None = None) -> dict[str, Any]:
        """Store an issue comment on pull request `number` (by `alice` unless `user` is given)."""
        with self._lock:
            comment = self._new_comment(number, body, user or self.user("alice"))
            self.comments[number].append(comment)
            return comment

    def add_review_comment(
        self, number: int, *, path: str, line: int, body: str, user: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        with self._lock:
            pull = self.pulls[number]
            comment = self._new_review_comment(pull, path, line, body, user or self.user("alice"), None)
            self.review_comments_by_pull[number].append(comment)
            return comment

    def issue_comments(self, number: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.comments.get(number, []))

    def review_comments(self, number: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.review_comments_by_pull.get(number, []))

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        message: str | None = None,
        after_apply: bool = False,
    ) -> None:
        """Answer the next `times` requests `method` (or "*") whose path fully matches the regex `path`
        with `status` (0: drop the connection). `after_apply` serves the request first.
        """
        with self._lock:
            self._faults.append(
                Fault(
                    method.upper(),
                    re.compile(path),
                    status,
                    times,
                    dict(headers or {}),
                    message or _FAULT_MESSAGES.get(status, "Server Error"),
                    after_apply,
                )
            )

    def sent(self, method: str | None = None, operation: str | None = None) -> list[Recorded]:
        """The requests received, optionally only those of `method` and/or `operation` (operationId)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method.upper())
                and (operation is None or r.operation == operation)
            ]

    # -- HTTP --------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 30

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                standin._serve(self)

            def do_POST(self) -> None:
                standin._serve(self)

            def do_PATCH(self) -> None:
                standin._serve(self)

            def do_PUT(self) -> None:
                standin._serve(self)

            def do_DELETE(self) -> None:
                standin._serve(self)

        return Handler

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        split = urlsplit(request.path)
        path = split.path
        query = parse_qs(split.query, keep_blank_values=True)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(min(length, MAX_BODY)) if length else b""
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        record = Recorded(request.command, path, query, dict(request.headers.items()), body)
        with self._lock:
            self.requests.append(record)
            try:
                status, headers, payload = self._respond(record, raw)
            except Exception as exc:
                self.violations.append(f"{record.method} {record.path}: stand-in error {exc!r}")
                status, headers, payload = 500, {}, {"message": "stand-in error", "documentation_url": _DOCS}
        record.status = status
        if status == 0:
            request.close_connection = True
            return
        data = json.dumps(payload).encode() if payload is not None else b""
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        if data:
            request.wfile.write(data)

    def _respond(self, record: Recorded, raw: bytes) -> tuple[int, dict[str, str], Any]:
        found = self.spec.match(record.method, record.path)
        if found is None:
            self.violations.append(f"{record.method} {record.path}: no such operation in the OpenAPI subset")
            return 404, {}, {"message": "Not Found", "documentation_url": _DOCS}
        op, path_params = found
        record.operation = op.operation_id
        problems = self._validate(op, path_params, record, raw)
        if problems:
            self.violations.extend(
                f"{record.method} {record.path} ({op.operation_id}): {p}" for p in problems
            )
            return 422, {}, {"message": "Validation Failed", "errors": problems, "documentation_url": _DOCS}
        auth = record.headers.get("Authorization", "")
        if auth not in (f"token {self.token}", f"Bearer {self.token}"):
            return 401, {}, {"message": "Bad credentials", "documentation_url": _DOCS}

        fault = self._take_fault(record)
        if fault is not None and not fault.after_apply:
            return self._fault_reply(fault)
        try:
            status, headers, payload = self._dispatch(op, path_params, record)
        except _ReplyError as reply:
            status, headers, payload = reply.status, {}, reply.body
        if fault is not None:
            return self._fault_reply(fault)
        self._validate_response(op, record, status, payload)
        return status, headers, payload

    def _take_fault(self, record: Recorded) -> Fault | None:
        for fault in self._faults:
            if (
                fault.times > 0
                and fault.method in ("*", record.method)
                and fault.pattern.fullmatch(record.path)
            ):
                fault.times -= 1
                return fault
        return None

    @staticmethod
    def _fault_reply(fault: Fault) -> tuple[int, dict[str, str], Any]:
        return fault.status, fault.headers, {"message": fault.message, "documentation_url": _DOCS}

    def _validate(
        self, op: _Operation, path_params: dict[str, str], record: Recorded, raw: bytes
    ) -> list[str]:
        problems: list[str] = []
        known: set[str] = set()
        for pointer, param in op.parameters:
            name, where = param["name"], param["in"]
            if where == "path":
                value: Any = path_params.get(name)
            elif where == "query":
                known.add(name)
                values = record.query.get(name)
                if values is None:
                    if param.get("required"):
                        problems.append(f"query parameter {name!r} is required")
                    continue
                if len(values) > 1 and param.get("schema", {}).get("type") != "array":
                    problems.append(f"query parameter {name!r} is given {len(values)} times")
                value = values[0]
            else:
                continue
            if value is None:
                problems.append(f"{where} parameter {name!r} is required")
                continue
            schema = self.spec.follow(pointer + "/schema", param.get("schema", {}))[1]
            converted = _convert(value, schema)
            if converted is _INVALID:
                problems.append(f"{where} parameter {name!r}={value!r} is not a {schema.get('type')}")
                continue
            problems.extend(
                f"{where} parameter {name!r}: {e}" for e in self.spec.errors(f"{pointer}/schema", converted)
            )
        for name in record.query:
            if name not in known:
                problems.append(f"query parameter {name!r} is not defined for this operation")

        body_spec = op.spec.get("requestBody")
        if body_spec is None:
            if raw.strip():
                problems.append("a request body was sent to an operation that takes none")
            return problems
        _, resolved = self.spec.follow(f"{op.pointer}/requestBody", body_spec)
        if not raw.strip():
            if resolved.get("required"):
                problems.append("the request body is required")
            return problems
        content_type = record.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type != "application/json":
            problems.append(f"Content-Type {content_type!r} is not application/json")
        if isinstance(record.body, str):
            problems.append("the request body is not JSON")
            return problems
        schema = self.spec.json_schema_pointer(f"{op.pointer}/requestBody")
        if schema is None:
            problems.append("the operation takes no JSON body")
            return problems
        problems.extend(f"body {e}" for e in self.spec.errors(schema, record.body))
        return problems

    def _validate_response(self, op: _Operation, record: Recorded, status: int, payload: Any) -> None:
        responses = op.spec.get("responses", {})
        if str(status) not in responses:
            if status < 400:
                self.violations.append(
                    f"{record.method} {record.path}: the stand-in answered {status}, not documented"
                )
            return
        pointer = self.spec.json_schema_pointer(f"{op.pointer}/responses/{status}")
        if pointer is None or payload is None:
            return
        self.violations.extend(
            f"response {status} to {record.method} {record.path}: {e}"
            for e in self.spec.errors(pointer, payload)
        )

    # -- operations --------------------------------------------------------------------------------

    def _dispatch(
        self, op: _Operation, params: dict[str, str], record: Recorded
    ) -> tuple[int, dict[str, str], Any]:
        if "owner" in params and (params["owner"], params["repo"]) != (self.owner, self.repo):
            raise _ReplyError(404, "Not Found")
        handler = getattr(self, "_op_" + op.operation_id.replace("/", "_").replace("-", "_"), None)
        if handler is None:
            raise _ReplyError(501, f"the stand-in does not serve {op.operation_id}")
        result: tuple[int, dict[str, str], Any] = handler(params, record)
        return result

    def _pull(self, params: dict[str, str], key: str = "pull_number") -> Pull:
        pull = self.pulls.get(int(params[key]))
        if pull is None:
            raise _ReplyError(404, "Not Found")
        return pull

    def _check_write(self) -> None:
        if self.read_only:
            raise _ReplyError(403, "Resource not accessible by integration")

    def _page(self, record: Recorded, items: list[dict[str, Any]]) -> tuple[int, dict[str, str], Any]:
        per_page = min(int(record.query.get("per_page", ["30"])[0]), 100)
        page = max(int(record.query.get("page", ["1"])[0]), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []

        def link(number: int, rel: str) -> str:
            query = {k: v[0] for k, v in record.query.items()}
            query.update(per_page=str(per_page), page=str(number))
            return f'<{self.url}{record.path}?{urlencode(query)}>; rel="{rel}"'

        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        return 200, ({"Link": ", ".join(links)} if links else {}), chunk

    def _repo_url(self) -> str:
        return f"{self.url}/repos/{self.owner}/{self.repo}"

    def _repository(self) -> dict[str, Any]:
        owner = self.user(self.owner, user_type="Organization")
        return self.spec.sample(
            "repository",
            id=4242,
            node_id="R_4242",
            name=self.repo,
            full_name=self.repository,
            owner=owner,
            private=False,
            html_url=f"https://github.com/{self.repository}",
            url=self._repo_url(),
            default_branch="main",
        )

    def _new_comment(self, number: int, body: str, user: dict[str, Any]) -> dict[str, Any]:
        cid = next(self._ids)
        now = _now()
        return self.spec.sample(
            "issue-comment",
            id=cid,
            node_id=f"IC_{cid}",
            url=f"{self._repo_url()}/issues/comments/{cid}",
            html_url=f"https://github.com/{self.repository}/pull/{number}#issuecomment-{cid}",
            body=body,
            user=user,
            created_at=now,
            updated_at=now,
            issue_url=f"{self._repo_url()}/issues/{number}",
            author_association="CONTRIBUTOR",
        )

    def _new_review_comment(
        self, pull: Pull, path: str, line: int, body: str, user: dict[str, Any], commit: str | None
    ) -> dict[str, Any]:
        cid = next(self._ids)
        now = _now()
        url = f"{self._repo_url()}/pulls/comments/{cid}"
        html = f"https://github.com/{self.repository}/pull/{pull.number}#discussion_r{cid}"
        pull_url = f"{self._repo_url()}/pulls/{pull.number}"
        return self.spec.sample(
            "pull-request-review-comment",
            url=url,
            pull_request_review_id=cid + 500000,
            id=cid,
            node_id=f"PRRC_{cid}",
            diff_hunk="@@ -1 +1 @@",
            path=path,
            position=1,
            original_position=1,
            commit_id=commit or pull.head_sha,
            original_commit_id=commit or pull.head_sha,
            user=user,
            body=body,
            created_at=now,
            updated_at=now,
            html_url=html,
            pull_request_url=pull_url,
            author_association="CONTRIBUTOR",
            _links={"self": {"href": url}, "html": {"href": html}, "pull_request": {"href": pull_url}},
            line=line,
            original_line=line,
            side="RIGHT",
            subject_type="line",
        )

    def _find(self, table: dict[int, list[dict[str, Any]]], cid: int) -> dict[str, Any]:
        for comments in table.values():
            for comment in comments:
                if comment["id"] == cid:
                    return comment
        raise _ReplyError(404, "Not Found")

    def _body(self, record: Recorded) -> str:
        body = str(record.body["body"])
        if len(body) > COMMENT_LIMIT:
            raise _ReplyError(
                422,
                "Validation Failed",
                errors=[
                    {
                        "resource": "IssueComment",
                        "code": "unprocessable",
                        "field": "data",
                        "message": f"Body is too long (maximum is {COMMENT_LIMIT} characters)",
                    }
                ],
            )
        return body

    def _op_users_get_authenticated(self, params: dict[str, str], record: Recorded) -> Any:
        if self.identity == "installation":
            raise _ReplyError(403, "Resource not accessible by integration")
        user = self.own_user()
        return (
            200,
            {},
            self.spec.sample(
                "private-user", **user, created_at=_now(), updated_at=_now(), user_view_type="private"
            ),
        )

    def _op_repos_get(self, params: dict[str, str], record: Recorded) -> Any:
        return 200, {}, self.spec.sample("full-repository", **self._repository())

    def _op_pulls_get(self, params: dict[str, str], record: Recorded) -> Any:
        return 200, {}, self._pull_json(self._pull(params), "pull-request")

    def _pull_json(self, pull: Pull, schema: str) -> dict[str, Any]:
        repository = self._repository()
        url = f"{self._repo_url()}/pulls/{pull.number}"
        extra: dict[str, Any] = {"changed_files": len(pull.files)} if schema == "pull-request" else {}
        labels = [
            self.spec.sample(
                "label",
                id=7000 + i,
                node_id=f"LA_{i}",
                url=f"{self._repo_url()}/labels/{quote(name)}",
                name=name,
                color="ededed",
                default=False,
                description="",
            )
            for i, name in enumerate(pull.labels)
        ]
        head_owner = pull.author if pull.head_ref == "feature" else self.owner
        return self.spec.sample(
            schema,
            url=url,
            id=900000 + pull.number,
            node_id=f"PR_{pull.number}",
            html_url=f"https://github.com/{self.repository}/pull/{pull.number}",
            issue_url=f"{self._repo_url()}/issues/{pull.number}",
            comments_url=f"{self._repo_url()}/issues/{pull.number}/comments",
            review_comments_url=f"{url}/comments",
            number=pull.number,
            state=pull.state,
            title=pull.title or f"Pull request {pull.number}",
            body=pull.body,
            user=self.user(pull.author) if pull.author != "bot" else self.own_user(),
            labels=labels,
            merged_at=pull.merged_at,
            closed_at=_now() if pull.state == "closed" else None,
            head={
                "label": f"{head_owner}:{pull.head_ref}",
                "ref": pull.head_ref,
                "sha": pull.head_sha,
                "repo": repository,
                "user": self.user(head_owner, user_type="User"),
            },
            base={
                "label": f"{self.owner}:{pull.base_ref}",
                "ref": pull.base_ref,
                "sha": pull.base_sha,
                "repo": repository,
                "user": self.user(self.owner, user_type="Organization"),
            },
            **extra,
        )

    def _op_pulls_list_files(self, params: dict[str, str], record: Recorded) -> Any:
        pull = self._pull(params)
        entries = []
        for index, item in enumerate(pull.files):
            entry = self.spec.sample(
                "diff-entry",
                sha=f"{index:040x}",
                filename=item.filename,
                status=item.status,
                additions=sum(1 for x in (item.patch or "").splitlines() if x.startswith("+")),
                deletions=sum(1 for x in (item.patch or "").splitlines() if x.startswith("-")),
                blob_url=f"https://github.com/{self.repository}/blob/{pull.head_sha}/{item.filename}",
                raw_url=f"https://github.com/{self.repository}/raw/{pull.head_sha}/{item.filename}",
                contents_url=f"{self._repo_url()}/contents/{item.filename}?ref={pull.head_sha}",
            )
            entry["changes"] = entry["additions"] + entry["deletions"]
            if item.patch is not None:
                entry["patch"] = item.patch
            if item.previous_filename is not None:
                entry["previous_filename"] = item.previous_filename
            entries.append(entry)
        return self._page(record, entries)

    def _op_issues_list_comments(self, params: dict[str, str], record: Recorded) -> Any:
        pull = self._pull(params, "issue_number")
        return self._page(record, self.comments[pull.number])

    def _op_issues_create_comment(self, params: dict[str, str], record: Recorded) -> Any:
        pull = self._pull(params, "issue_number")
        self._check_write()
        comment = self._new_comment(pull.number, self._body(record), self.own_user())
        self.comments[pull.number].append(comment)
        return 201, {"Location": comment["url"]}, comment

    def _op_issues_get_comment(self, params: dict[str, str], record: Recorded) -> Any:
        return 200, {}, self._find(self.comments, int(params["comment_id"]))

    def _op_issues_update_comment(self, params: dict[str, str], record: Recorded) -> Any:
        comment = self._find(self.comments, int(params["comment_id"]))
        self._check_write()
        comment["body"] = self._body(record)
        comment["updated_at"] = _now()
        return 200, {}, comment

    def _op_pulls_list_review_comments(self, params: dict[str, str], record: Recorded) -> Any:
        pull = self._pull(params)
        return self._page(record, self.review_comments_by_pull[pull.number])

    def _op_pulls_create_review_comment(self, params: dict[str, str], record: Recorded) -> Any:
        pull = self._pull(params)
        self._check_write()
        body = self._body(record)
        request = record.body
        path, line = request["path"], request.get("line")
        files = {f.filename: f for f in pull.files}
        if request["commit_id"] != pull.head_sha:
            raise _ReplyError(422, "Validation Failed", errors=["commit_id is not part of the pull request"])
        if path not in files or line not in right_side_lines(files[path].patch):
            raise _ReplyError(
                422,
                "Validation Failed",
                errors=["pull_request_review_thread.line must be part of the diff"],
            )
        if request.get("side", "RIGHT") != "RIGHT":
            raise _ReplyError(422, "Validation Failed", errors=["pull_request_review_thread.side is invalid"])
        comment = self._new_review_comment(pull, path, line, body, self.own_user(), request["commit_id"])
        self.review_comments_by_pull[pull.number].append(comment)
        return 201, {"Location": comment["url"]}, comment

    def _op_pulls_get_review_comment(self, params: dict[str, str], record: Recorded) -> Any:
        return 200, {}, self._find(self.review_comments_by_pull, int(params["comment_id"]))

    def _op_pulls_update_review_comment(self, params: dict[str, str], record: Recorded) -> Any:
        comment = self._find(self.review_comments_by_pull, int(params["comment_id"]))
        self._check_write()
        comment["body"] = self._body(record)
        comment["updated_at"] = _now()
        return 200, {}, comment

    def _op_code_scanning_upload_sarif(self, params: dict[str, str], record: Recorded) -> Any:
        self._check_write()
        if self.code_scanning != "enabled":
            raise _ReplyError(
                403, "Advanced Security must be enabled for this repository to use code scanning."
            )
        request = record.body
        try:
            document = json.loads(gzip.decompress(base64.b64decode(request["sarif"], validate=True)))
        except (ValueError, OSError) as exc:
            raise _ReplyError(400, f"the sarif field is not gzipped, base64-encoded JSON: {exc}") from None
        upload_id = f"47177e22-5596-11eb-80a1-c1e54ef945c{len(self.sarif_uploads) % 10}"
        self.sarif_uploads.append(
            {**{k: v for k, v in request.items() if k != "sarif"}, "document": document}
        )
        return 202, {}, {"id": upload_id, "url": f"{self._repo_url()}/code-scanning/sarifs/{upload_id}"}

    # -- git data and fix pull requests ----------------------------------------------------------------

    def put_files(
        self,
        files: dict[str, str],
        *,
        branch: str | None = None,
        message: str = "Initial commit",
        author: str = "alice",
    ) -> str:
        """Commit `files` (path -> text; None deletes) on `branch` (default: the default branch), as
        a person would push them; returns the commit's sha.
        """
        with self._lock:
            name = branch or self.default_branch
            parent = self.refs.get(f"heads/{name}")
            entries = dict(self.trees[self.commits[parent]["tree"]]) if parent else {}
            for path, text in files.items():
                if text is None:
                    entries.pop(path, None)
                else:
                    entries[path] = ("100644", self._store_blob(text.encode()))
            sha = self._store_commit(self._store_tree(entries), [parent] if parent else [], message, author)
            self.refs[f"heads/{name}"] = sha
            return sha

    def files_at(self, ref: str) -> dict[str, str]:
        """The files of a branch or commit, as text."""
        with self._lock:
            sha = self.refs.get(f"heads/{ref}", ref)
            tree = self.trees[self.commits[sha]["tree"]]
            return {path: self.blobs[blob].decode() for path, (_, blob) in tree.items()}

    def branch_commits(self, branch: str) -> list[dict[str, Any]]:
        """The commits on `branch` that the default branch does not have, oldest first."""
        with self._lock:
            base = self._ancestors(self.refs[f"heads/{self.default_branch}"])
            return [
                self.commits[sha] | {"sha": sha} for sha in self._walk(self.refs[f"heads/{branch}"], base)
            ]

    def fix_pulls(self) -> list[Pull]:
        with self._lock:
            return [p for p in self.pulls.values() if p.head_ref.startswith("ci-security/")]

    def close_pull(self, number: int, *, merged: bool = False) -> None:
        with self._lock:
            pull = self.pulls[number]
            pull.state = "closed"
            pull.merged_at = _now() if merged else None

    def _store_blob(self, data: bytes) -> str:
        sha = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
        self.blobs[sha] = data
        return sha

    def _store_tree(self, entries: dict[str, tuple[str, str]]) -> str:
        text = "\n".join(f"{mode} {blob} {path}" for path, (mode, blob) in sorted(entries.items()))
        sha = hashlib.sha1(b"tree " + text.encode(), usedforsecurity=False).hexdigest()
        self.trees[sha] = dict(entries)
        return sha

    def _store_commit(self, tree: str, parents: list[str], message: str, author: str) -> str:
        stamp = next(self._commit_clock)
        raw = f"commit {tree} {' '.join(parents)} {stamp}\n{message}".encode()
        sha = hashlib.sha1(raw, usedforsecurity=False).hexdigest()
        self.commits[sha] = {"tree": tree, "parents": parents, "message": message, "author": author}
        return sha

    def _ancestors(self, sha: str) -> set[str]:
        seen, stack = set(), [sha]
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self.commits[current]["parents"])
        return seen

    def _walk(self, head: str, exclude: set[str]) -> list[str]:
        """Commits reachable from `head` and not in `exclude`, oldest first (first parents)."""
        out = []
        current: str | None = head
        while current is not None and current not in exclude:
            out.append(current)
            parents = self.commits[current]["parents"]
            current = parents[0] if parents else None
        return list(reversed(out))

    def _ref_json(self, name: str) -> dict[str, Any]:
        sha = self.refs[name]
        return self.spec.sample(
            "git-ref",
            ref=f"refs/{name}",
            node_id=f"REF_{sha[:8]}",
            url=f"{self._repo_url()}/git/refs/{name}",
            object={"type": "commit", "sha": sha, "url": f"{self._repo_url()}/git/commits/{sha}"},
        )

    def _git_commit_json(self, sha: str) -> dict[str, Any]:
        commit = self.commits[sha]
        person = {
            "name": commit["author"],
            "email": f"{commit['author']}@example.com",
            "date": "2026-01-05T09:00:00Z",
        }
        return self.spec.sample(
            "git-commit",
            sha=sha,
            node_id=f"C_{sha[:8]}",
            url=f"{self._repo_url()}/git/commits/{sha}",
            html_url=f"https://github.com/{self.repository}/commit/{sha}",
            author=person,
            committer=person,
            message=commit["message"],
            tree={"sha": commit["tree"], "url": f"{self._repo_url()}/git/trees/{commit['tree']}"},
            parents=[
                {
                    "sha": p,
                    "url": f"{self._repo_url()}/git/commits/{p}",
                    "html_url": f"https://github.com/{self.repository}/commit/{p}",
                }
                for p in commit["parents"]
            ],
            verification={
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        )

    def _commit_json(self, sha: str) -> dict[str, Any]:
        """A `commit` (the REST commits API's shape, as compare lists them)."""
        commit = self.commits[sha]
        person = {
            "name": commit["author"],
            "email": f"{commit['author']}@example.com",
            "date": "2026-01-05T09:00:00Z",
        }
        return self.spec.sample(
            "commit",
            url=f"{self._repo_url()}/commits/{sha}",
            sha=sha,
            node_id=f"C_{sha[:8]}",
            html_url=f"https://github.com/{self.repository}/commit/{sha}",
            comments_url=f"{self._repo_url()}/commits/{sha}/comments",
            commit={
                "url": f"{self._repo_url()}/git/commits/{sha}",
                "author": person,
                "committer": person,
                "message": commit["message"],
                "comment_count": 0,
                "tree": {"sha": commit["tree"], "url": f"{self._repo_url()}/git/trees/{commit['tree']}"},
            },
            author={},  # no GitHub account behind the commit's email (`empty-object`)
            committer={},
            parents=[
                {
                    "sha": p,
                    "url": f"{self._repo_url()}/commits/{p}",
                    "html_url": f"https://github.com/{self.repository}/commit/{p}",
                }
                for p in commit["parents"]
            ],
        )

    def _resolve(self, ref: str) -> str:
        sha = self.refs.get(f"heads/{ref}", ref)
        if sha not in self.commits:
            raise _ReplyError(404, "Not Found")
        return sha

    def _op_git_get_ref(self, params: dict[str, str], record: Recorded) -> Any:
        name = params["ref"]
        if name not in self.refs:
            raise _ReplyError(404, "Not Found")
        return 200, {}, self._ref_json(name)

    def _op_git_create_ref(self, params: dict[str, str], record: Recorded) -> Any:
        self._check_write()
        ref, sha = str(record.body["ref"]), str(record.body["sha"])
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise _ReplyError(422, "Reference name must start with 'refs/' and have at least two slashes.")
        name = ref.removeprefix("refs/")
        if name in self.refs:
            raise _ReplyError(422, "Reference already exists")
        if sha not in self.commits:
            raise _ReplyError(422, "Object does not exist")
        self.refs[name] = sha
        return 201, {"Location": f"{self._repo_url()}/git/refs/{name}"}, self._ref_json(name)

    def _op_git_update_ref(self, params: dict[str, str], record: Recorded) -> Any:
        self._check_write()
        name = params["ref"]
        if name not in self.refs:
            raise _ReplyError(422, "Reference does not exist")
        sha = str(record.body["sha"])
        if sha not in self.commits:
            raise _ReplyError(422, "Object does not exist")
        if not record.body.get("force") and self.refs[name] not in self._ancestors(sha):
            raise _ReplyError(422, "Update is not a fast forward")
        self.refs[name] = sha
        return 200, {}, self._ref_json(name)

    def _op_git_create_blob(self, params: dict[str, str], record: Recorded) -> Any:
        self._check_write()
        content = str(record.body["content"])
        encoding = record.body.get("encoding", "utf-8")
        data = base64.b64decode(content) if encoding == "base64" else content.encode()
        sha = self._store_blob(data)
        return (
            201,
            {"Location": f"{self._repo_url()}/git/blobs/{sha}"},
            {
                "url": f"{self._repo_url()}/git/blobs/{sha}",
                "sha": sha,
            },
        )

    def _op_git_create_tree(self, params: dict[str, str], record: Recorded) -> Any:
        self._check_write()
        base = record.body.get("base_tree")
        if base is not None and base not in self.trees:
            raise _ReplyError(422, "base_tree is not a valid tree oid")
        entries = dict(self.trees[base]) if base else {}
        for item in record.body["tree"]:
            path = str(item["path"])
            if item.get("sha") is None and "content" not in item:
                entries.pop(path, None)
                continue
            if item.get("type") != "blob" or item.get("mode") not in ("100644", "100755"):
                raise _ReplyError(422, f"the stand-in stores files only: {item}")
            blob = item.get("sha") or self._store_blob(str(item["content"]).encode())
            if blob not in self.blobs:
                raise _ReplyError(422, f"tree.sha {blob} is not a valid blob")
            entries[path] = (str(item["mode"]), str(blob))
        sha = self._store_tree(entries)
        tree = [
            {
                "path": path,
                "mode": mode,
                "type": "blob",
                "sha": blob,
                "size": len(self.blobs[blob]),
                "url": f"{self._repo_url()}/git/blobs/{blob}",
            }
            for path, (mode, blob) in sorted(entries.items())
        ]
        body = self.spec.sample(
            "git-tree", sha=sha, url=f"{self._repo_url()}/git/trees/{sha}", truncated=False, tree=tree
        )
        return 201, {"Location": body["url"]}, body

    def _op_git_create_commit(self, params: dict[str, str], record: Recorded) -> Any:
        self._check_write()
        tree = str(record.body["tree"])
        parents = [str(p) for p in record.body.get("parents", [])]
        if tree not in self.trees or any(p not in self.commits for p in parents):
            raise _ReplyError(422, "Tree or parent does not exist")
        login = self.own_user()["login"]
        sha = self._store_commit(tree, parents, str(record.body["message"]), login)
        body = self._git_commit_json(sha)
        return 201, {"Location": body["url"]}, body

    def _op_git_get_commit(self, params: dict[str, str], record: Recorded) -> Any:
        sha = params["commit_sha"]
        if sha not in self.commits:
            raise _ReplyError(404, "Not Found")
        return 200, {}, self._git_commit_json(sha)

    def _op_repos_get_content(self, params: dict[str, str], record: Recorded) -> Any:
        ref = record.query.get("ref", [self.default_branch])[0]
        sha = self._resolve(ref)
        path = params["path"]
        entry = self.trees[self.commits[sha]["tree"]].get(path)
        if entry is None:
            raise _ReplyError(404, "Not Found")
        data = self.blobs[entry[1]]
        url = f"{self._repo_url()}/contents/{path}?ref={ref}"
        git_url = f"{self._repo_url()}/git/blobs/{entry[1]}"
        html_url = f"https://github.com/{self.repository}/blob/{ref}/{path}"
        return (
            200,
            {},
            self.spec.sample(
                "content-file",
                type="file",
                encoding="base64",
                size=len(data),
                name=path.rsplit("/", 1)[-1],
                path=path,
                content=base64.b64encode(data).decode(),
                sha=entry[1],
                url=url,
                git_url=git_url,
                html_url=html_url,
                download_url=f"https://raw.githubusercontent.com/{self.repository}/{ref}/{path}",
                _links={"git": git_url, "html": html_url, "self": url},
            ),
        )

    def _op_repos_compare_commits_with_basehead(self, params: dict[str, str], record: Recorded) -> Any:
        base_ref, sep, head_ref = params["basehead"].partition("...")
        if not sep:
            raise _ReplyError(404, "Not Found")
        base, head = self._resolve(base_ref), self._resolve(head_ref)
        base_set = self._ancestors(base)
        ahead = self._walk(head, base_set)
        behind = [c for c in self._ancestors(base) if c not in self._ancestors(head)]
        merge_base = next((c for c in reversed(self._walk(head, set())) if c in base_set), base)
        status = (
            "identical" if base == head else "ahead" if not behind else "behind" if not ahead else "diverged"
        )
        url = f"{self._repo_url()}/compare/{params['basehead']}"
        return (
            200,
            {},
            self.spec.sample(
                "commit-comparison",
                url=url,
                html_url=f"https://github.com/{self.repository}/compare/{params['basehead']}",
                permalink_url=f"https://github.com/{self.repository}/compare/{base}...{head}",
                diff_url=f"https://github.com/{self.repository}/compare/{params['basehead']}.diff",
                patch_url=f"https://github.com/{self.repository}/compare/{params['basehead']}.patch",
                base_commit=self._commit_json(base),
                merge_base_commit=self._commit_json(merge_base),
                status=status,
                ahead_by=len(ahead),
                behind_by=len(behind),
                total_commits=len(ahead),
                commits=[self._commit_json(c) for c in ahead],
            ),
        )

    def _op_pulls_list(self, params: dict[str, str], record: Recorded) -> Any:
        state = record.query.get("state", ["open"])[0]
        head = record.query.get("head", [""])[0]
        base = record.query.get("base", [""])[0]
        found = []
        for pull in sorted(self.pulls.values(), key=lambda p: -p.number):
            owner = pull.author if pull.head_ref == "feature" else self.owner
            if state != "all" and pull.state != state:
                continue
            if head and head != f"{owner}:{pull.head_ref}":
                continue
            if base and base != pull.base_ref:
                continue
            found.append(self._pull_json(pull, "pull-request-simple"))
        return self._page(record, found)

    def _op_pulls_create(self, params: dict[str, str], record: Recorded) -> Any:
        self._check_write()
        if self.identity == "installation" and not self.actions_may_open_pulls:
            raise _ReplyError(403, "GitHub Actions is not permitted to create or approve pull requests.")
        request = record.body
        head, base = str(request["head"]), str(request["base"])
        if f"heads/{head}" not in self.refs or f"heads/{base}" not in self.refs:
            raise _ReplyError(
                422,
                "Validation Failed",
                errors=[{"resource": "PullRequest", "field": "head", "code": "invalid"}],
            )
        if any(p.head_ref == head and p.state == "open" for p in self.pulls.values()):
            raise _ReplyError(
                422,
                "Validation Failed",
                errors=[
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for {self.owner}:{head}.",
                    }
                ],
            )
        number = max(self.pulls, default=0) + 1
        pull = Pull(
            number,
            self.refs[f"heads/{head}"],
            self.refs[f"heads/{base}"],
            [],
            title=str(request.get("title") or ""),
            body=request.get("body"),
            head_ref=head,
            base_ref=base,
            author="bot",
        )
        self.pulls[number] = pull
        self.comments.setdefault(number, [])
        self.review_comments_by_pull.setdefault(number, [])
        body = self._pull_json(pull, "pull-request")
        return 201, {"Location": body["url"]}, body

    def _op_pulls_update(self, params: dict[str, str], record: Recorded) -> Any:
        pull = self._pull(params)
        self._check_write()
        for key in ("title", "body", "state"):
            if key in record.body:
                setattr(pull, key, record.body[key])
        return 200, {}, self._pull_json(pull, "pull-request")

    def _op_issues_add_labels(self, params: dict[str, str], record: Recorded) -> Any:
        pull = self._pull(params, "issue_number")
        self._check_write()
        names = record.body["labels"] if isinstance(record.body, dict) else record.body
        for name in names:
            label = name["name"] if isinstance(name, dict) else str(name)
            if label not in pull.labels:
                pull.labels.append(label)
        labels = self._pull_json(pull, "pull-request")["labels"]
        return 200, {}, labels


_INVALID = object()


def _convert(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return _INVALID
    if kind == "boolean":
        return {"true": True, "false": False}.get(value, _INVALID)
    return value
