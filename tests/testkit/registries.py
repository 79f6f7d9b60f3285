"""Registries for tests, all bound to 127.0.0.1.

- `DockerRegistry`: Debian's `docker-registry` (CNCF distribution 2.8), optionally behind htpasswd
  basic auth; images are pushed to it with `skopeo copy`.
- `TokenRegistry`: a small distribution-API server that speaks the Docker bearer-token challenge
  (`401` + `WWW-Authenticate: Bearer realm=…`), serves an OCI layout, and can inject a bounded number
  of faults (5xx, 429 with Retry-After, a connection cut mid-blob, a blob that does not match its
  digest). docker-registry's own token auth needs a separate signing token server, so the protocol is
  spoken here instead.
"""

from __future__ import annotations

import base64
import json
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
    workdir: Path, *, username: str | None = None, password: str | None = None
) -> Iterator[DockerRegistry]:
    exe = shutil.which("docker-registry")
    if exe is None:
        raise RuntimeError("docker-registry is not installed (run scripts/install-test-deps.sh)")
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    auth = ""
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
