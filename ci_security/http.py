"""One HTTP policy for every client that talks to a server it does not control (registries, token
services, OSV mirrors), and the one retry loop (`retrying`) every client uses: the exchange's
requests and broken transfers here, the registry client, the OSV sync and the platform APIs
(`platforms/retry.py`, which add their own statuses and `Retry-After` cap).

A server may lie, stall or never finish an answer, so every request runs inside an `Exchange`:

- **A deadline over the whole exchange** — connecting, redirects, retries, waiting and every byte of
  the body — not only the socket's read timeout, which a server that trickles one byte a second
  never trips. `metadata_seconds` bounds small answers (manifests, tokens, indexes),
  `transfer_seconds` blobs and exports. When it passes, a watchdog shuts the exchange's sockets down,
  which ends any blocking read at once; the exchange then fails with the limit named.
- **A size cap on every body**: the caller says how much it will read (the descriptor's size when
  one is known: a body shorter or longer than that is an error, and nothing past it is read).
- **`Retry-After` is a ceiling, not an order**: a 429/5xx is retried after what the server asks when
  that is at most `retry_after_seconds` and fits in the deadline; a server asking for more is an
  error at once (as Renovate's `maxRetryAfter` does), not an hour of waiting.
- **Redirects are followed by hand**, at most `redirects` hops, each one checked: only http(s)
  targets, and a request body (a refresh token) is never re-sent to another origin.
- **Credentials are bound to one origin**: an `Authorization` header is attached only to requests
  whose scheme, host and port are exactly those the credential was issued for, so it never follows
  a redirect to another host or port, nor down from https to http. `~/.netrc` is not consulted.
- **Messages name URLs without user info, query string or fragment** (where tokens live).

Accept-Encoding is `identity`: every body the tool fetches is compressed already or small, and a
server that compresses anyway is still read within the caps (they count decoded bytes).
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import ipaddress
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from ci_security import __version__, limits
from ci_security.errors import CiSecurityError

if TYPE_CHECKING:
    import requests
    from requests.adapters import HTTPAdapter

MAX_ATTEMPTS = 5
MAX_RETRY_AFTER = 60.0  # the platform APIs' cap (GitHub, GitLab)
TIMEOUT = (15.0, 120.0)  # connect, and one quiet read; the exchange's deadline bounds the whole
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = f"ci-security/{__version__}"
CHUNK = 1 << 16

DeadlineLimit = Literal["metadata_seconds", "transfer_seconds"]
Params = Mapping[str, str] | Sequence[tuple[str, str]]  # a sequence repeats a name (`scope`)


class Stream(Protocol):
    """A request body read as it is sent: `read`, and `len` for the Content-Length."""

    def read(self, size: int = -1, /) -> bytes: ...

    def __len__(self) -> int: ...


Body = bytes | Stream
T = TypeVar("T")


def retrying(
    call: Callable[[], T],
    *,
    delay: Callable[[Exception, int], tuple[float, str] | None],
    wait: Callable[[float, str], None],
    attempts: int = MAX_ATTEMPTS,
    before_retry: Callable[[], T | None] | None = None,
) -> T:
    """Run `call` at most `attempts` times. When an attempt raises, `delay(exc, number)` (`number`
    the 0-based attempt that failed) says how many seconds to wait before the next one and why, or
    None when the failure is final; a final failure, or the last attempt's, is re-raised as it is, for
    the caller to turn into its own error. `wait(seconds, why)` does the waiting (a pause that keeps
    to a deadline, or an injectable sleep). `before_retry`, run after each wait, may return a result
    that makes the retry unnecessary: the write a failed attempt made after all.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for number in range(attempts):
        try:
            return call()
        except Exception as exc:
            pause = delay(exc, number) if number + 1 < attempts else None
            if pause is None:
                raise
            wait(*pause)
        if before_retry is not None:
            found = before_retry()
            if found is not None:
                return found
    raise AssertionError("unreachable: the last attempt returns or raises")


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """The seconds a `Retry-After` header asks for (a number or an HTTP date; the name looked up
    case-insensitively), not capped; None without a usable one.
    """
    value = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after"), None)
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)


def backoff(attempt: int) -> float:
    """Exponential backoff for attempt number `attempt` (0-based): 0.5 s doubling up to 8 s."""
    return float(min(0.5 * (2**attempt), 8.0))


def retry_delay(headers: Mapping[str, str] | None, attempt: int) -> float:
    """Seconds to wait before the next attempt: `Retry-After` capped at `MAX_RETRY_AFTER` when the
    response gave one, else exponential backoff (the platform APIs' policy).
    """
    asked = retry_after(headers)
    return min(asked, MAX_RETRY_AFTER) if asked is not None else backoff(attempt)


def short_reason(exc: BaseException) -> str:
    """A one-line reason from a requests exception, without URLs' query strings."""
    inner: object = exc
    # requests wraps urllib3 errors that wrap socket errors; the first plain message says it best.
    for _ in range(4):
        reason = getattr(inner, "reason", None)
        args = getattr(inner, "args", ())
        if reason is not None and not isinstance(reason, str):
            inner = reason
        elif args and isinstance(args[0], BaseException):
            inner = args[0]
        else:
            break
    args = getattr(inner, "args", ())
    text = str(args[0]) if args and isinstance(args[0], str) else str(inner)
    text = re.sub(r"\?[^\s'\"]*", "", text)
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    # urllib3 prefixes the connection's repr: "HTTPConnection(host='h', port=1): Failed to ..."
    line = re.sub(r"^\w*Connection(?:Pool)?\([^)]*\): ", "", line)
    return _printable(line[:200]) if line else exc.__class__.__name__


def _printable(text: str) -> str:
    """`text` with control characters percent-encoded, so a message stays one plain line."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: f"%{ord(m.group()):02X}", text)


def display_url(url: str) -> str:
    """`url` as messages show it: no user info, query string or fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return _printable(re.sub(r"[?#].*", "", re.sub(r"//[^/?#]*@", "//", url))[:300])
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return _printable(f"{parts.scheme}://{netloc}{parts.path}"[:300])


Origin = tuple[str, str, int]


def origin(url: str) -> Origin:
    """(scheme, host, port) with the scheme's default port filled in; host in lower case."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def is_loopback_host(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1 (with or without a port, brackets optional)."""
    if host.startswith("["):
        name = host[1 : host.find("]")]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Credential:
    """A header value (`Authorization` unless `name` says otherwise: NVD's `apiKey`) and the one
    origin it may be sent to.
    """

    origin: Origin
    header: str = field(repr=False)
    name: str = "Authorization"


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def split_credentials(url: str) -> tuple[str, Credential | None]:
    """`url` without its `user:password@`, and those as a Basic credential for `url`'s origin only
    (so they never follow a redirect elsewhere, unlike a URL's user info left to requests).
    """
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    netloc = parts.netloc.rpartition("@")[2]
    bare = urlunsplit(parts._replace(netloc=netloc))
    header = basic_header(unquote(parts.username or ""), unquote(parts.password or ""))
    return bare, Credential(origin(bare), header)


class TransferError(CiSecurityError):
    """A body broke off mid-transfer; the caller may start it again."""


class ConnectionLostError(Exception):
    """The cause attached to the caller's error when a request got no answer at all (no
    connection, or none before the socket's timeout): `connection_lost` tells that apart from an
    answer, for a caller that starts a whole sequence again (an upload) rather than one request.
    """


def connection_lost(exc: BaseException) -> bool:
    """Whether `exc` was raised because a request got no answer (see `ConnectionLostError`)."""
    return isinstance(exc.__cause__, ConnectionLostError)


class _BusyError(Exception):
    """A 429 or 5xx answer: retried like a failure, and returned when it is the last attempt's."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


# --- the watchdog ----------------------------------------------------------------------------

_local = threading.local()


def _current() -> Exchange | None:
    stack: list[Exchange] | None = getattr(_local, "stack", None)
    return stack[-1] if stack else None


def _watched_connection(base: type[Any]) -> type[Any]:
    """A urllib3 connection class that tells the current thread's exchange about its socket, so
    the exchange's deadline can end a read that would block past it.
    """

    class Watched(base):  # type: ignore[misc]
        def _new_conn(self) -> socket.socket:
            sock: socket.socket = super()._new_conn()
            exchange = _current()
            if exchange is not None:
                exchange.watch(self, sock)
            return sock

        def request(self, *args: Any, **kwargs: Any) -> None:
            exchange = _current()
            if exchange is not None and self.sock is not None:
                exchange.watch(self, self.sock)
            super().request(*args, **kwargs)

    Watched.__name__ = f"Watched{base.__name__}"
    return Watched


_adapter_class: type[HTTPAdapter] | None = None


def _adapter() -> HTTPAdapter:
    """A requests adapter whose connections are watched (built on first use: requests is imported
    only by commands that touch the network).
    """
    global _adapter_class
    if _adapter_class is None:
        from requests.adapters import HTTPAdapter
        from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

        http_pool = type(
            "WatchedHTTPConnectionPool",
            (HTTPConnectionPool,),
            {"ConnectionCls": _watched_connection(HTTPConnectionPool.ConnectionCls)},
        )
        https_pool = type(
            "WatchedHTTPSConnectionPool",
            (HTTPSConnectionPool,),
            {"ConnectionCls": _watched_connection(HTTPSConnectionPool.ConnectionCls)},
        )
        pools = {"http": http_pool, "https": https_pool}

        class WatchedAdapter(HTTPAdapter):
            def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
                super().init_poolmanager(*args, **kwargs)
                self.poolmanager.pool_classes_by_scheme = pools

            def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
                manager = super().proxy_manager_for(proxy, **kwargs)
                if not proxy.lower().startswith("socks"):
                    manager.pool_classes_by_scheme = pools
                return manager

        _adapter_class = WatchedAdapter
    return _adapter_class()


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """An auth hook that adds nothing: passing it keeps requests from reading `~/.netrc`."""
    return request


class Client:
    """A session with the policy above; `error` builds the caller's error class for messages that
    are not limits (an unreachable server, a broken redirect).
    """

    def __init__(
        self,
        *,
        error: Callable[[str], CiSecurityError],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import requests

        self.error = error
        self.sleep = sleep
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept-Encoding"] = "identity"
        self.session.trust_env = True  # HTTPS_PROXY, NO_PROXY and REQUESTS_CA_BUNDLE are honoured
        adapter = _adapter()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def exchange(self, url: str, limit: DeadlineLimit, *, prefix: str = "") -> Exchange:
        """A new exchange for `url` under the `limit` deadline; messages start `prefix` + the URL."""
        return Exchange(self, url, limit, prefix)


class Exchange:
    """One logical request — its redirects, retries, authentication round-trips and body — under one
    deadline. Use it as a context manager on the thread that makes the requests.
    """

    def __init__(self, client: Client, url: str, limit: DeadlineLimit, prefix: str) -> None:
        self.client = client
        self.url = url
        self.limit = limit
        self.where = f"{prefix}{display_url(url)}"
        self.seconds = float(getattr(limits.active(), limit))
        self.expired = False
        self._lock = threading.Lock()
        self._watched: list[tuple[Any, socket.socket]] = []
        self._timer: threading.Timer | None = None
        self._ends = 0.0
        self._responses: list[requests.Response] = []

    # -- lifetime -------------------------------------------------------------------------------

    def __enter__(self) -> Exchange:
        self._ends = time.monotonic() + self.seconds
        self._timer = threading.Timer(self.seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()
        stack: list[Exchange] = getattr(_local, "stack", None) or []
        stack.append(self)
        _local.stack = stack
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
        stack: list[Exchange] = getattr(_local, "stack", [])
        if stack and stack[-1] is self:
            stack.pop()
        for resp in self._responses:
            resp.close()
        self._responses.clear()
        with self._lock:
            for _, dup in self._watched:
                dup.close()
            self._watched.clear()

    def watch(self, connection: Any, sock: socket.socket) -> None:
        """Called by a connection on this exchange's thread when it connects or sends a request."""
        try:
            dup = socket.socket(fileno=os.dup(sock.fileno()))
        except OSError:
            return
        with self._lock:
            # The connection may go back to the pool and serve another exchange later; only the
            # latest user's watchdog may shut it down.
            connection._ci_security_exchange = self
            self._watched.append((connection, dup))
            expired = self.expired
        if expired:
            self._shutdown(connection, dup)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            watched = list(self._watched)
        for connection, dup in watched:
            self._shutdown(connection, dup)

    def _shutdown(self, connection: Any, dup: socket.socket) -> None:
        if getattr(connection, "_ci_security_exchange", None) is self:
            with contextlib.suppress(OSError):
                dup.shutdown(socket.SHUT_RDWR)

    def remaining(self) -> float:
        return self._ends - time.monotonic()

    def deadline_error(self) -> limits.LimitExceededError:
        return limits.LimitExceededError(
            self.where, self.limit, f"no complete answer within {self.seconds:g} s"
        )

    def check(self) -> None:
        if self.expired or self.remaining() <= 0:
            self.expired = True
            raise self.deadline_error()

    # -- requests -------------------------------------------------------------------------------

    def send(
        self,
        url: str | None = None,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        params: Params | None = None,
        data: Mapping[str, str] | None = None,
        body: Body | None = None,
        credential: Credential | None = None,
        retry: bool = True,
    ) -> requests.Response:
        """The final (non-redirect) response to one request, streaming; the caller checks its
        status and reads its body with `read` or `chunks`. Connection failures and
        429/5xx are retried (when `retry`), each attempt starting again from `url`. `data` is a
        form; `body` raw bytes, or a stream sent as it is read (an upload, never retried here, nor
        re-sent along a redirect: the caller starts the upload again).
        """
        import requests

        target = url or self.url

        def once() -> requests.Response:
            self.check()
            try:
                resp = self._follow(target, method, headers, params, data, body, credential)
            except (requests.ConnectionError, requests.Timeout):
                if self.expired:
                    raise self.deadline_error() from None
                raise
            except (requests.RequestException, ValueError) as exc:
                # An unusable Location or header: not worth another attempt.
                if self.expired:
                    raise self.deadline_error() from None
                raise self.client.error(f"{self.where}: {short_reason(exc)}") from None
            if resp.status_code in RETRY_STATUS:
                raise _BusyError(resp)
            return resp

        def delay(exc: Exception, number: int) -> tuple[float, str] | None:
            if isinstance(exc, requests.ConnectionError | requests.Timeout):
                return backoff(number), "the connection failed"
            if not isinstance(exc, _BusyError):
                return None
            exc.response.close()
            asked = retry_after(exc.response.headers)
            status = exc.response.status_code
            if asked is not None and asked > limits.active().retry_after_seconds:
                raise limits.LimitExceededError(
                    self.where, "retry_after_seconds", f"HTTP {status} with Retry-After: {asked:.0f} s"
                )
            return (backoff(number) if asked is None else asked), f"HTTP {status}"

        try:
            return retrying(once, delay=delay, wait=self.pause, attempts=MAX_ATTEMPTS if retry else 1)
        except _BusyError as busy:
            return busy.response  # the last attempt's answer: the caller says what its status means
        except (requests.ConnectionError, requests.Timeout) as exc:
            if self.expired:
                raise self.deadline_error() from None
            what = "no answer" if isinstance(exc, requests.ReadTimeout) else "cannot connect"
            raise self.client.error(f"{self.where}: {what} ({short_reason(exc)})") from ConnectionLostError(
                what
            )

    def again_if_broken(self, transfer: Callable[[], T]) -> T:
        """Run `transfer` (a request and the reading of its body); when the body breaks off
        (`TransferError`) start it again, at most `MAX_ATTEMPTS` times within this exchange's
        deadline. The last break is the caller's error. `transfer` removes what it wrote of a
        broken body itself.
        """

        def delay(exc: Exception, number: int) -> tuple[float, str] | None:
            return (backoff(number), "the transfer broke off") if isinstance(exc, TransferError) else None

        try:
            return retrying(transfer, delay=delay, wait=self.pause)
        except TransferError as exc:
            raise self.client.error(str(exc)) from None

    def pause(self, seconds: float, why: str) -> None:
        """Wait before the next attempt, unless the wait alone would run past the deadline."""
        if seconds >= self.remaining():
            self.expired = True
            raise limits.LimitExceededError(
                self.where, self.limit, f"{why}, and waiting {seconds:g} s more would pass the deadline"
            )
        self.client.sleep(seconds)

    def _follow(
        self,
        url: str,
        method: str,
        headers: Mapping[str, str] | None,
        params: Params | None,
        data: Mapping[str, str] | None,
        body: Body | None,
        credential: Credential | None,
    ) -> requests.Response:
        hops = limits.active().redirects
        for hop in range(hops + 1):
            self.check()
            sent = dict(headers or {})
            if credential is not None and origin(url) == credential.origin:
                sent[credential.name] = credential.header
            remaining = max(self.remaining(), 0.001)
            resp = self.client.session.request(
                method,
                url,
                headers=sent,
                params=params,
                data=body if body is not None else data,
                auth=_no_auth,
                allow_redirects=False,
                stream=True,
                timeout=(min(TIMEOUT[0], remaining), min(TIMEOUT[1], remaining)),
            )
            self._responses.append(resp)
            if resp.status_code not in REDIRECT_STATUS:
                return resp
            location = resp.headers.get("Location")
            resp.close()
            if not location:
                raise self.client.error(f"{self.where}: HTTP {resp.status_code} redirect without a Location")
            target = urljoin(resp.url, location)
            if urlsplit(target).scheme.lower() not in ("http", "https"):
                raise self.client.error(
                    f"{self.where}: redirected to an unsupported scheme ({display_url(target)})"
                )
            if hop == hops:
                raise limits.LimitExceededError(
                    self.where, "redirects", f"redirected again, to {display_url(target)}"
                )
            if resp.status_code == 303 or (resp.status_code in (301, 302) and method == "POST"):
                method, data, body = "GET", None, None
            elif body is not None and not isinstance(body, bytes):
                raise self.client.error(
                    f"{self.where}: redirected an upload to {display_url(target)} (not followed: "
                    "the stream was read already)"
                )
            elif (data is not None or body is not None) and origin(target) != origin(resp.url):
                raise self.client.error(
                    f"{self.where}: refusing to re-send the request body to another origin "
                    f"({display_url(target)})"
                )
            url, params = target, None  # the query is part of `resp.url` now
        raise AssertionError("unreachable")

    # -- bodies ---------------------------------------------------------------------------------

    def chunks(
        self,
        resp: requests.Response,
        *,
        max_bytes: int,
        size_limit: str,
        exact: int | None = None,
    ) -> Generator[bytes, None, None]:
        """The body of `resp` in pieces, at most `max_bytes` (an error naming `size_limit` past
        it); with `exact`, exactly that many bytes or an error, never reading further than one byte
        past it. A transfer that breaks off raises `TransferError`.
        """
        import requests
        import urllib3.exceptions

        if exact is not None and exact > max_bytes:
            raise limits.LimitExceededError(self.where, size_limit, f"the descriptor says {exact:,} bytes")
        announced = resp.headers.get("Content-Length")
        declared = int(announced) if announced and announced.strip().isdigit() else None
        if declared is not None and declared > max_bytes:
            raise limits.LimitExceededError(
                self.where, size_limit, f"the server announces {declared:,} bytes"
            )
        if exact is not None and declared is not None and declared != exact:
            raise self.client.error(
                f"{self.where}: the server announces {declared:,} bytes, the descriptor says {exact:,}"
            )
        bound = exact if exact is not None else max_bytes
        got = 0
        broken = (
            requests.RequestException,
            urllib3.exceptions.HTTPError,
            OSError,
            ValueError,
        )
        try:
            while True:
                self.check()
                want = min(CHUNK, bound - got + 1)
                try:
                    piece = resp.raw.read1(want, decode_content=True)
                except broken as exc:
                    if self.expired:
                        raise self.deadline_error() from None
                    raise TransferError(f"{self.where}: transfer broke off ({short_reason(exc)})") from None
                if not piece:
                    break
                got += len(piece)
                if got > bound:
                    if exact is not None:
                        raise self.client.error(
                            f"{self.where}: the body is longer than the {exact:,} bytes its descriptor says"
                        )
                    raise limits.LimitExceededError(self.where, size_limit, f"more than {max_bytes:,} bytes")
                yield piece
            if self.expired:
                raise self.deadline_error()
            if exact is not None and got != exact:
                raise TransferError(f"{self.where}: transfer broke off after {got:,} of {exact:,} bytes")
        finally:
            resp.close()

    def read(
        self, resp: requests.Response, *, max_bytes: int, size_limit: str, exact: int | None = None
    ) -> bytes:
        """The whole body of `resp` (see `chunks`)."""
        return b"".join(self.chunks(resp, max_bytes=max_bytes, size_limit=size_limit, exact=exact))
