"""A local stand-in for the OSV bucket (127.0.0.1 only): `<ECOSYSTEM>/all.zip`,
`<ECOSYSTEM>/modified_id.csv` (newest first) and `<ECOSYSTEM>/<ID>.json`, built from fixture records,
with bounded fault injection (a transfer cut off halfway, 503s)."""

from __future__ import annotations

import io
import json
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote


class OsvMirror:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self.cut_zip = 0
        self.fail_503 = 0
        self.requests: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OsvMirror:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, ecosystem: str, *paths: Path, **changes: Any) -> None:
        for path in paths:
            doc = json.loads(path.read_text())
            doc.update(changes)
            self.records.setdefault(ecosystem, {})[doc["id"]] = doc

    def put(self, ecosystem: str, doc: dict[str, Any]) -> None:
        self.records.setdefault(ecosystem, {})[doc["id"]] = doc

    def _zip(self, ecosystem: str) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
            for record_id, doc in sorted(self.records[ecosystem].items()):
                out.writestr(f"{record_id}.json", json.dumps(doc))
        return buf.getvalue()

    def _csv(self, ecosystem: str) -> bytes:
        rows = sorted(((d["modified"], i) for i, d in self.records[ecosystem].items()), reverse=True)
        return "".join(f"{m},{i}\n" for m, i in rows).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _send(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = unquote(self.path.lstrip("/"))
                mirror.requests.append(path)
                if mirror.fail_503 > 0:
                    mirror.fail_503 -= 1
                    return self._send(503, b"busy")
                ecosystem, _, name = path.partition("/")
                if ecosystem not in mirror.records:
                    return self._send(404, b"no such ecosystem")
                if name == "all.zip":
                    body = mirror._zip(ecosystem)
                    if mirror.cut_zip > 0:
                        mirror.cut_zip -= 1
                        self.send_response(200)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body[: len(body) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return None
                    return self._send(200, body)
                if name == "modified_id.csv":
                    return self._send(200, mirror._csv(ecosystem))
                doc = mirror.records[ecosystem].get(name.removesuffix(".json"))
                if doc is None:
                    return self._send(404, b"not found")
                return self._send(200, json.dumps(doc).encode())

        return Handler
