"""A local stand-in (127.0.0.1 only) for the feeds `db update` reads besides OSV: NVD's CVE API 2.0,
and static files served with ETags (KEV, EPSS, Red Hat's repository-to-CPE mapping, CVE 5 zips,
Amazon's mirror.list / repomd.xml / updateinfo, Oracle's OVAL).

The NVD endpoint pages `cves` as the real API does (`resultsPerPage` capped by `page_size`,
`startIndex`, `totalResults`, `lastModStartDate`/`lastModEndDate` filtering on each record's
`lastModified`), and can answer one request with `403` and a `Retry-After`, as NVD does when a client
goes past its rate limit. Every request is recorded with the `apiKey` header it carried. Static files
answer `If-None-Match` with `304` when their ETag matches, and a path can be made to fail.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

NVD_PATH = "/rest/json/cves/2.0"


class FeedServer:
    def __init__(self) -> None:
        self.cves: list[dict[str, Any]] = []
        self.page_size = 2000
        self.forbid: dict[int, str | None] = {}  # NVD request number (1-based) -> Retry-After
        self.files: dict[str, bytes] = {}
        self.fail: dict[str, int] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path?query, apiKey header)
        self.nvd_requests = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def nvd_queries(self) -> list[dict[str, str]]:
        return [dict(parse_qsl(urlsplit(p).query)) for p, _ in self.requests if p.startswith(NVD_PATH)]

    def _page(self, query: dict[str, str]) -> dict[str, Any]:
        start = int(query.get("startIndex", "0"))
        wanted = min(int(query.get("resultsPerPage", "2000")), self.page_size)
        chosen = self.cves
        if "lastModStartDate" in query:
            low, high = query["lastModStartDate"], query["lastModEndDate"]
            chosen = [c for c in chosen if low <= c["lastModified"] <= high]
        items = chosen[start : start + wanted]
        return {
            "resultsPerPage": len(items),
            "startIndex": start,
            "totalResults": len(chosen),
            "format": "NVD_CVE",
            "version": "2.0",
            "timestamp": "2024-09-01T00:00:00.000",
            "vulnerabilities": [{"cve": c} for c in items],
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(code)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                with feeds._lock:
                    feeds.requests.append((self.path, self.headers.get("apiKey")))
                path = unquote(urlsplit(self.path).path)
                if path in feeds.fail:
                    return self._send(feeds.fail[path], b"failing on purpose")
                if path == NVD_PATH:
                    with feeds._lock:
                        feeds.nvd_requests += 1
                        number = feeds.nvd_requests
                    if number in feeds.forbid:
                        after = feeds.forbid.pop(number)
                        return self._send(403, b"", {"Retry-After": after} if after else {})
                    query = dict(parse_qsl(urlsplit(self.path).query))
                    return self._send(200, json.dumps(feeds._page(query)).encode())
                body = feeds.files.get(path)
                if body is None:
                    return self._send(404, b"not found")
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", {"ETag": etag})
                return self._send(200, body, {"ETag": etag})

        return Handler
