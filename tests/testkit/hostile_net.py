"""Hostile servers for the network cases of `tests/hostile/`, all bound to 127.0.0.1.

- `HostileServer`: answers each path with a behaviour from a table (a normal answer, a status, a
  redirect, an endless body, a body or header block trickled a byte at a time) and records every
  request it sees, headers included, so a test can show where credentials did and did not go.
- `HostileRegistry`: a distribution-API registry serving one small, valid image (so a case reaches
  the step it attacks), optionally behind Basic auth or a Bearer challenge naming any realm, with
  any path overridden by a hostile behaviour.
- `trap_proxy_env`: environment that routes every non-loopback request of the child through a
  `HostileServer` acting as a proxy that records and refuses, so a case can show that the tool did
  not even try to reach another host (and nothing leaves the machine if it did).

Every loop is bounded three ways: by bytes, by seconds, and by the server's stop event (set when
the `with` block ends); a client that goes away ends it too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from testkit.images import compress, file, layer_tar, make_config

Behaviour = Callable[["_Handler"], None]

MAX_SECONDS = 120.0  # no behaviour runs longer, whatever the client does
MAX_ENDLESS_BYTES = 16 << 30
_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:
        return

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if 0 < length <= 1 << 20:
            self.rfile.read(length)
        owner = self.server.owner
        owner.requests.append(Seen(self.command, self.path, dict(self.headers)))
        behaviour = owner.behaviour_for(urlsplit(self.path).path if self.path.startswith("/") else self.path)
        try:
            behaviour(self)
        except _GONE:
            self.close_connection = True

    do_GET = do_POST = do_HEAD = do_CONNECT = _dispatch  # noqa: N815 - http.server's names

    @property
    def stopping(self) -> threading.Event:
        return self.server.owner.stop


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: HostileServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer is what these servers provoke; anything else is a bug.
        if not isinstance(sys.exc_info()[1], _GONE):
            super().handle_error(request, client_address)


class HostileServer:
    """A loopback HTTP server whose answers are looked up by path (exact match first, then the
    longest matching prefix ending in `*`).
    """

    def __init__(
        self,
        routes: dict[str, Behaviour] | None = None,
        default: Behaviour | None = None,
        *,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.routes: dict[str, Behaviour] = dict(routes or {})
        self.default = default or status(404, b'{"errors":[{"code":"NOT_FOUND"}]}')
        self.requests: list[Seen] = []
        self.stop = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        if tls is not None:  # (certificate, key): the handshake runs in the handler's thread
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        self.port = int(self._server.server_address[1])
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"{'https' if tls else 'http'}://{self.host}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._server.shutdown()
        self._server.server_close()

    def behaviour_for(self, path: str) -> Behaviour:
        if path in self.routes:
            return self.routes[path]
        prefixes = [p for p in self.routes if p.endswith("*") and path.startswith(p[:-1])]
        return self.routes[max(prefixes, key=len)] if prefixes else self.default

    def saw_authorization(self) -> bool:
        return any(k.lower() == "authorization" for seen in self.requests for k in seen.headers)


# --- behaviours --------------------------------------------------------------------------------


def ok(body: bytes, content_type: str | None = None, headers: dict[str, str] | None = None) -> Behaviour:
    return status(200, body, {**({"Content-Type": content_type} if content_type else {}), **(headers or {})})


def status(code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Behaviour:
    def answer(handler: _Handler) -> None:
        handler.send_response(code)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    return answer


def redirect(location: str | Callable[[], str], code: int = 307) -> Behaviour:
    def answer(handler: _Handler) -> None:
        target = location() if callable(location) else location
        status(code, b"", {"Location": target})(handler)

    return answer


def endless(
    *,
    chunked: bool = True,
    content_length: int | None = None,
    content_type: str = "application/octet-stream",
    piece: bytes = b"\0" * (1 << 16),
    prefix: bytes = b"",
    max_bytes: int = MAX_ENDLESS_BYTES,
) -> Behaviour:
    """A body that does not end (`prefix`, then `piece` again and again): chunked, or
    close-delimited, or under a `Content-Length` that lies; bounded by `max_bytes`, `MAX_SECONDS`
    and the server's stop event.
    """

    def answer(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        if content_length is not None:
            handler.send_header("Content-Length", str(content_length))
        elif chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        framed = chunked and content_length is None
        if prefix:
            handler.wfile.write(f"{len(prefix):x}\r\n".encode() + prefix + b"\r\n" if framed else prefix)
        sent, started = len(prefix), time.monotonic()
        while sent < max_bytes and time.monotonic() - started < MAX_SECONDS and not handler.stopping.is_set():
            if framed:
                handler.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            else:
                handler.wfile.write(piece)
            sent += len(piece)

    return answer


def trickle(
    body: bytes,
    *,
    interval: float = 1.0,
    headers_too: bool = False,
    content_type: str = "application/json",
) -> Behaviour:
    """`body` one byte every `interval` seconds (its `Content-Length` announced honestly); with
    `headers_too`, the header block itself is trickled as well. Bounded by `MAX_SECONDS`.
    """

    def answer(handler: _Handler) -> None:
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nX-Padding: {'x' * 200}\r\n\r\n"
        ).encode()
        handler.close_connection = True
        started = time.monotonic()
        stream = (head + body) if headers_too else body
        if not headers_too:
            handler.wfile.write(head)
            handler.wfile.flush()
        for index in range(len(stream)):
            if time.monotonic() - started > MAX_SECONDS or handler.stopping.wait(interval):
                return
            handler.wfile.write(stream[index : index + 1])
            handler.wfile.flush()

    return answer


def sequence(*behaviours: Behaviour) -> Behaviour:
    """The first behaviour for the first request, the second for the second, …; the last repeats."""
    calls = iter(range(1 << 30))

    def answer(handler: _Handler) -> None:
        behaviours[min(next(calls), len(behaviours) - 1)](handler)

    return answer


# --- a registry serving one small image --------------------------------------------------------

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class TinyImage:
    """A one-layer image: the manifest, the config and the layer, and their digests."""

    manifest: bytes
    config: bytes
    layer: bytes
    blobs: dict[str, bytes] = field(default_factory=dict)

    @property
    def manifest_digest(self) -> str:
        return _digest(self.manifest)

    @property
    def config_digest(self) -> str:
        return _digest(self.config)

    @property
    def layer_digest(self) -> str:
        return _digest(self.layer)


def tiny_image(*, layer_descriptor: dict[str, Any] | None = None) -> TinyImage:
    """A valid image with one gzip layer holding an os-release; `layer_descriptor` overrides
    fields of the layer's descriptor in the manifest (a hostile digest or size)."""
    tar = layer_tar([file("etc/os-release", 'ID=alpine\nVERSION_ID=3.19.1\nNAME="Alpine Linux"\n')])
    layer = compress(tar, "gzip")
    config = make_config([_digest(tar)])
    descriptor = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": _digest(layer)}
    descriptor["size"] = len(layer)
    descriptor.update(layer_descriptor or {})
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _digest(config),
                "size": len(config),
            },
            "layers": [{k: v for k, v in descriptor.items() if v is not None}],
        }
    ).encode()
    image = TinyImage(manifest, config, layer)
    image.blobs = {_digest(config): config, _digest(layer): layer}
    return image


class HostileRegistry(HostileServer):
    """Serves `image` as `REPO:TAG` (and by digest). `basic=(user, password)` puts every path
    behind Basic auth; `bearer_realm` answers with a Bearer challenge naming that realm (any URL:
    the point is to see whether the client goes there). `override` replaces any path's answer.
    """

    def __init__(
        self,
        image: TinyImage | None = None,
        *,
        repo: str = "app",
        tag: str = "1",
        basic: tuple[str, str] | None = None,
        bearer_realm: str | None = None,
    ) -> None:
        self.image = image or tiny_image()
        self.repo = repo
        self.tag = tag
        self.basic = basic
        self.bearer_realm = bearer_realm
        super().__init__()
        manifest = ok(self.image.manifest, OCI_MANIFEST)
        self.routes.update(
            {
                "/v2/": ok(b"{}", "application/json"),
                self.manifest_path(): manifest,
                self.manifest_path(self.image.manifest_digest): manifest,
                **{self.blob_path(d): ok(b, "application/octet-stream") for d, b in self.image.blobs.items()},
            }
        )

    @property
    def reference(self) -> str:
        return f"{self.host}/{self.repo}:{self.tag}"

    def manifest_path(self, reference: str | None = None) -> str:
        return f"/v2/{self.repo}/manifests/{reference or self.tag}"

    def blob_path(self, digest: str) -> str:
        return f"/v2/{self.repo}/blobs/{digest}"

    def override(self, path: str, behaviour: Behaviour) -> None:
        self.routes[path] = behaviour

    def behaviour_for(self, path: str) -> Behaviour:
        inner = super().behaviour_for(path)
        if self.basic is None and self.bearer_realm is None:
            return inner

        def guarded(handler: _Handler) -> None:
            given = handler.headers.get("Authorization", "")
            if self.basic is not None:
                user, password = self.basic
                expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
                if given != expected:
                    return status(401, b"{}", {"WWW-Authenticate": 'Basic realm="registry"'})(handler)
            elif not given.startswith("Bearer "):
                challenge = (
                    f'Bearer realm="{self.bearer_realm}",service="hostile",scope="repository:app:pull"'
                )
                return status(401, b"{}", {"WWW-Authenticate": challenge})(handler)
            return inner(handler)

        return guarded


@contextmanager
def trap_proxy_env() -> Iterator[tuple[HostileServer, dict[str, str]]]:
    """A recording proxy that refuses everything, and the environment that sends the child's
    non-loopback traffic to it (loopback stand-ins are reached directly).
    """
    with HostileServer(default=status(502, b"trap proxy: no traffic leaves this machine")) as trap:
        env = {
            "HTTP_PROXY": trap.url,
            "HTTPS_PROXY": trap.url,
            "http_proxy": trap.url,
            "https_proxy": trap.url,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
        yield trap, env
