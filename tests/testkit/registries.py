"""Registries for tests, all bound to 127.0.0.1.

- `DockerRegistry`: Debian's `docker-registry` (CNCF distribution 2.8), optionally behind htpasswd
  basic auth, or behind bearer tokens from `DockerTokenServer` (`token_registry`: the JWTs
  docker-registry's `auth: token` verifies, signed by a key generated per run); images are pushed to
  it with `skopeo copy`.
- `RecordingProxy`: a reverse proxy in front of a registry that records every request (a test counts
  what a client downloaded) and can cut blob downloads short.
- `TokenRegistry`: a small distribution-API server that speaks the Docker bearer-token challenge
  (`401` + `WWW-Authenticate: Bearer realm=…`), serves an OCI layout, and can inject a bounded number
  of faults (5xx, 429 with Retry-After, a connection cut mid-blob, a blob that does not match its
  digest). docker-registry's own token auth needs a separate signing token server, so the protocol is
  spoken here instead.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DockerRegistry:
    host: str
    username: str | None
    password: str | None

    def push(self, layout: Path, tag: str, repo: str, dest_tag: str | None = None) -> None:
        cmd = ["skopeo", "copy", "--insecure-policy", "--dest-tls-verify=false"]
        if self.username:
            cmd += ["--dest-creds", f"{self.username}:{self.password}"]
        cmd += [f"oci:{layout}:{tag}", f"docker://{self.host}/{repo}:{dest_tag or tag}"]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)


@contextmanager
def docker_registry(
    workdir: Path, *, username: str | None = None, password: str | None = None, auth: str = ""
) -> Iterator[DockerRegistry]:
    exe = shutil.which("docker-registry")
    if exe is None:
        raise RuntimeError("docker-registry is not installed (run scripts/install-test-deps.sh)")
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    if username:
        htpasswd = subprocess.run(
            ["htpasswd", "-Bbn", username, password or ""], check=True, capture_output=True, text=True
        ).stdout
        (workdir / "htpasswd").write_text(htpasswd)
        auth = f"auth:\n  htpasswd:\n    realm: test\n    path: {workdir / 'htpasswd'}\n"
    config = workdir / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: test-secret\n" + auth
    )
    log = workdir / "registry.log"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen([exe, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=log_file)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"docker-registry did not start: {log.read_text()[-500:]}") from None
                time.sleep(0.1)
        yield DockerRegistry(f"127.0.0.1:{port}", username, password)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class Faults:
    """Bounded fault injection: each counter is consumed once per affected request."""

    status_5xx: int = 0
    status_429: int = 0
    retry_after: str = "0"
    cut_blob: int = 0
    corrupt_blob: bool = False
    log: list[str] = field(default_factory=list)


class TokenRegistry:
    """Serves one OCI layout as repository `repo` behind a bearer-token challenge."""

    def __init__(
        self,
        layout: Path,
        repo: str,
        *,
        username: str = "bob",
        password: str = "s3cret",
        anonymous: bool = False,
    ) -> None:
        self.layout = layout
        self.repo = repo
        self.username = username
        self.password = password
        self.anonymous = anonymous
        self.faults = Faults()
        self.token = "tok-" + base64.urlsafe_b64encode(f"{repo}".encode()).decode()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> TokenRegistry:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _manifests(self) -> dict[str, tuple[bytes, str]]:
        index = json.loads((self.layout / "index.json").read_text())
        out: dict[str, tuple[bytes, str]] = {}
        blobs = self.layout / "blobs" / "sha256"
        for desc in index["manifests"]:
            data = (blobs / desc["digest"].split(":")[1]).read_bytes()
            tag = desc.get("annotations", {}).get("org.opencontainers.image.ref.name", "latest")
            out[tag] = (data, desc["mediaType"])
            out[desc["digest"]] = (data, desc["mediaType"])
            doc = json.loads(data)
            for sub in doc.get("manifests", []):
                out[sub["digest"]] = ((blobs / sub["digest"].split(":")[1]).read_bytes(), sub["mediaType"])
        return out

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _send(self, code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(code)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                registry.requests.append((url.path, dict(self.headers)))
                if url.path == "/token":
                    return self._token(url.query)
                if registry.faults.status_429 > 0:
                    registry.faults.status_429 -= 1
                    registry.faults.log.append("429")
                    return self._send(429, b"slow down", {"Retry-After": registry.faults.retry_after})
                if registry.faults.status_5xx > 0:
                    registry.faults.status_5xx -= 1
                    registry.faults.log.append("503")
                    return self._send(503, b"unavailable")
                if not registry.anonymous and self.headers.get("Authorization") != f"Bearer {registry.token}":
                    realm = f"http://{registry.host}/token"
                    challenge = (
                        f'Bearer realm="{realm}",service="test-registry",'
                        f'scope="repository:{registry.repo}:pull"'
                    )
                    return self._send(
                        401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {"WWW-Authenticate": challenge}
                    )
                prefix = f"/v2/{registry.repo}/"
                if url.path == "/v2/":
                    return self._send(200, b"{}")
                if not url.path.startswith(prefix):
                    return self._send(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')
                rest = url.path[len(prefix) :]
                if rest.startswith("manifests/"):
                    found = registry._manifests().get(rest.split("/", 1)[1])
                    if found is None:
                        return self._send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
                    return self._send(200, found[0], {"Content-Type": found[1]})
                if rest.startswith("blobs/"):
                    digest = rest.split("/", 1)[1]
                    path = registry.layout / "blobs" / "sha256" / digest.split(":")[1]
                    if not path.is_file():
                        return self._send(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
                    data = path.read_bytes()
                    if registry.faults.corrupt_blob and len(data) > 1000:
                        data = data[:-1] + bytes([data[-1] ^ 0xFF])
                    if registry.faults.cut_blob > 0 and len(data) > 1000:
                        registry.faults.cut_blob -= 1
                        registry.faults.log.append("cut")
                        self.send_response(200)
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data[: len(data) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return None
                    return self._send(200, data, {"Content-Type": "application/octet-stream"})
                return self._send(404, b"")

            def _token(self, query: str) -> None:
                params = parse_qs(query)
                expected = (
                    "Basic " + base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
                )
                auth = self.headers.get("Authorization")
                if not registry.anonymous and auth != expected:
                    return self._send(401, b'{"details":"incorrect username or password"}')
                if params.get("scope") != [f"repository:{registry.repo}:pull"] or params.get("service") != [
                    "test-registry"
                ]:
                    return self._send(400, b'{"details":"bad scope"}')
                return self._send(
                    200, json.dumps({"token": registry.token}).encode(), {"Content-Type": "application/json"}
                )

        return Handler


# --- docker-registry behind bearer tokens -------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class DockerTokenServer:
    """Docker's token protocol for docker-registry's `auth: token` (127.0.0.1 only): `GET /token`
    with Basic credentials and `scope`/`service` parameters answers a JWT signed RS256 by a key
    whose self-signed certificate docker-registry trusts (`rootcertbundle`), carried in the
    token's `x5c` header, granting each requested action the user may have (`users`: name ->
    (password, actions)). Every request is recorded; passwords never are.
    """

    def __init__(
        self,
        workdir: Path,
        users: dict[str, tuple[str, frozenset[str]]],
        *,
        service: str = "test-registry",
        issuer: str = "ci-security-tests",
    ) -> None:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.users = users
        self.service = service
        self.issuer = issuer
        self.requests: list[dict[str, list[str]]] = []
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ci-security test token issuer")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.certificate = workdir / "token-root.pem"
        self.certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self._x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.realm = f"http://127.0.0.1:{self._server.server_address[1]}/token"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> DockerTokenServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def token(self, user: str, access: list[dict[str, Any]]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self._x5c]}
        claims = {
            "iss": self.issuer,
            "sub": user,
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": base64.b16encode(os.urandom(8)).decode(),
            "access": access,
        }
        signed = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self._key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signed}.{_b64url(signature)}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _send(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                params = parse_qs(url.query)
                owner.requests.append(params)
                if url.path != "/token" or params.get("service") != [owner.service]:
                    return self._send(400, b'{"details":"unknown service"}')
                given = self.headers.get("Authorization", "")
                user = None
                for name, (password, _) in owner.users.items():
                    if given == "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode():
                        user = name
                if user is None:
                    return self._send(401, b'{"details":"incorrect username or password"}')
                allowed = owner.users[user][1]
                access = []
                for scope in (s for value in params.get("scope", []) for s in value.split()):
                    kind, _, rest = scope.partition(":")
                    repo, _, actions = rest.rpartition(":")
                    granted = sorted(a for a in actions.split(",") if a in allowed)
                    if kind == "repository" and repo and granted:
                        access.append({"type": "repository", "name": repo, "actions": granted})
                token = owner.token(user, access)
                body = json.dumps({"token": token, "access_token": token, "expires_in": 300})
                return self._send(200, body.encode())

        return Handler


@contextmanager
def token_registry(
    workdir: Path, users: dict[str, tuple[str, frozenset[str]]]
) -> Iterator[tuple[DockerRegistry, DockerTokenServer]]:
    """docker-registry with `auth: token`, and the token server it trusts."""
    workdir.mkdir(parents=True, exist_ok=True)
    with DockerTokenServer(workdir, users) as tokens:
        auth = (
            "auth:\n  token:\n"
            f"    realm: {tokens.realm}\n    service: {tokens.service}\n    issuer: {tokens.issuer}\n"
            f"    rootcertbundle: {tokens.certificate}\n"
        )
        with docker_registry(workdir, auth=auth) as registry:
            yield registry, tokens


# --- a recording proxy in front of a registry ---------------------------------------------------


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (a keep-alive connection closed, a download given up) is no error."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            super().handle_error(request, client_address)


@dataclass(frozen=True)
class Forwarded:
    """One request the proxy forwarded: method, path with query, the upstream status, body bytes sent back."""

    method: str
    path: str
    status: int
    sent: int


class RecordingProxy:
    """A reverse proxy on 127.0.0.1 in front of `upstream` (host:port): every request is forwarded as
    it is (the registry builds upload URLs from the Host header, so they point back here) and
    recorded. A GET of a blob named in `cut` (digest -> count) answers the full Content-Length,
    half the body, and closes, `count` times.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.seen: list[Forwarded] = []
        self.cut: dict[str, int] = {}
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        import http.client

        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = http.client.HTTPConnection(proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                upstream.request(self.command, self.path, body=body, headers=headers)
                resp = upstream.getresponse()
                data = resp.read()
                upstream.close()
                blob = self.path.rsplit("/blobs/", 1)[-1] if "/blobs/sha256:" in self.path else ""
                cut = self.command == "GET" and resp.status == 200 and proxy.cut.get(blob, 0) > 0
                if cut:
                    proxy.cut[blob] -= 1
                proxy.seen.append(
                    Forwarded(self.command, self.path, resp.status, len(data) // 2 if cut else len(data))
                )
                self.send_response(resp.status)
                for key, value in resp.getheaders():
                    if key.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(key, value)
                announced = resp.getheader("Content-Length")
                self.send_header(
                    "Content-Length", announced if self.command == "HEAD" and announced else str(len(data))
                )
                self.end_headers()
                if self.command == "HEAD":
                    return
                if cut:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(data)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _forward  # noqa: N815

        return Handler
