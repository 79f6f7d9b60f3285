"""The shared HTTP policy against loopback stand-ins: deadlines that end trickles, exact and capped
bodies, the Retry-After ceiling, redirects by hand, and credentials bound to one origin."""

from __future__ import annotations

import email.utils
import shutil
import socket
import subprocess
import threading
import time

import pytest
from testkit.hostile_net import HostileServer, endless, ok, redirect, sequence, status, trickle

from ci_security import limits
from ci_security.errors import CiSecurityError
from ci_security.http import (
    MAX_ATTEMPTS,
    Client,
    Credential,
    TransferError,
    display_url,
    is_loopback_host,
    origin,
    retry_after,
    retry_delay,
    retrying,
)


class _FailedError(CiSecurityError):
    pass


@pytest.fixture
def client():
    waits: list[float] = []
    http = Client(error=_FailedError, sleep=waits.append)
    http.waits = waits  # type: ignore[attr-defined]
    yield http
    http.close()


def _bounded(**values: int):
    return limits.use(limits.with_overrides(limits.DEFAULTS, values))


def _get(client: Client, url: str, *, limit="metadata_seconds", credential=None, exact=None, cap=1 << 20):
    with client.exchange(url, limit) as ex:
        resp = ex.send(credential=credential)
        return resp.status_code, ex.read(resp, max_bytes=cap, size_limit="metadata_bytes", exact=exact)


def test_a_plain_answer(client):
    with HostileServer({"/x": ok(b"hello")}) as server:
        assert _get(client, f"{server.url}/x") == (200, b"hello")


def test_the_deadline_ends_a_trickled_body(client):
    with (
        HostileServer({"/x": trickle(b"x" * 100, interval=0.3)}) as server,
        _bounded(metadata_seconds=1),
        pytest.raises(limits.LimitExceededError, match=r"/x: exceeds the metadata-seconds limit \(1 s\)"),
    ):
        _get(client, f"{server.url}/x")


def test_the_deadline_ends_a_trickled_header_block(client):
    with (
        HostileServer({"/x": trickle(b"x", interval=0.3, headers_too=True)}) as server,
        _bounded(metadata_seconds=1),
        pytest.raises(limits.LimitExceededError, match="metadata-seconds"),
    ):
        _get(client, f"{server.url}/x")


def test_the_deadline_covers_the_whole_exchange_not_each_read(client):
    """Each byte arrives well within the socket's read timeout; only the total is too long."""
    pieces: list[bytes] = []
    with (
        HostileServer({"/x": trickle(b"x" * 50, interval=0.2)}) as server,
        _bounded(transfer_seconds=1),
        client.exchange(f"{server.url}/x", "transfer_seconds") as ex,
    ):
        resp = ex.send()
        with pytest.raises(limits.LimitExceededError, match="transfer-seconds"):
            pieces.extend(ex.chunks(resp, max_bytes=1 << 20, size_limit="download_bytes"))
    assert 0 < len(b"".join(pieces)) < 50


def test_a_body_past_the_cap(client):
    with (
        HostileServer({"/x": endless(chunked=True)}) as server,
        pytest.raises(limits.LimitExceededError, match=r"more than 100,000 bytes"),
    ):
        _get(client, f"{server.url}/x", cap=100_000)


def test_an_announced_length_past_the_cap_is_refused_unread(client):
    with (
        HostileServer({"/x": endless(content_length=1 << 40)}) as server,
        pytest.raises(limits.LimitExceededError, match="announces 1,099,511,627,776 bytes"),
    ):
        _get(client, f"{server.url}/x")


def test_exact_sizes(client):
    routes = {
        "/short": ok(b"abc"),
        "/long": endless(chunked=True, piece=b"abcd"),
        "/cut": endless(chunked=False, piece=b"abcd", max_bytes=8),
        "/right": ok(b"abcd"),
    }
    with HostileServer(routes) as server:
        assert _get(client, f"{server.url}/right", exact=4) == (200, b"abcd")
        with pytest.raises(_FailedError, match="announces 3 bytes, the descriptor says 4"):
            _get(client, f"{server.url}/short", exact=4)
        with pytest.raises(_FailedError, match="longer than the 6 bytes its descriptor says"):
            _get(client, f"{server.url}/long", exact=6)
        with pytest.raises(TransferError, match="broke off after 8 of 10 bytes"):
            _get(client, f"{server.url}/cut", exact=10)


def test_retry_after_within_the_ceiling_is_honoured(client):
    answers = sequence(status(503, headers={"Retry-After": "7"}), status(429), ok(b"done"))
    with HostileServer({"/x": answers}) as server:
        assert _get(client, f"{server.url}/x") == (200, b"done")
    assert client.waits == [7.0, 1.0]  # what the server asked, then backoff


def test_retry_after_past_the_ceiling_is_an_error_at_once(client):
    with HostileServer({"/x": status(429, headers={"Retry-After": "3600"})}) as server:
        with pytest.raises(limits.LimitExceededError, match=r"retry-after-seconds limit \(60 s\): HTTP 429"):
            _get(client, f"{server.url}/x")
        assert len(server.requests) == 1
    assert client.waits == []


def test_a_wait_that_would_pass_the_deadline_is_not_started(client):
    with (
        HostileServer({"/x": status(503, headers={"Retry-After": "50"})}) as server,
        _bounded(metadata_seconds=10),
        pytest.raises(limits.LimitExceededError, match=r"metadata-seconds limit .*would pass the deadline"),
    ):
        _get(client, f"{server.url}/x")
    assert client.waits == []


def test_retry_after_parsing():
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert retry_after({"retry-after": "12"}) == 12.0
    assert 25 <= (retry_after({"Retry-After": later}) or 0) <= 31
    assert retry_after({"Retry-After": "-5"}) == 0.0
    for junk in ("soon", "nan", ""):
        assert retry_after({"Retry-After": junk}) is None
    assert retry_after(None) is None
    assert retry_delay({"Retry-After": "100000"}, 0) == 60.0  # the platforms' capped policy


def test_redirect_hops_are_limited(client):
    routes = {f"/r{i}": redirect(f"/r{i + 1}") for i in range(10)} | {"/r10": ok(b"end")}
    with HostileServer(routes) as server:
        with _bounded(redirects=10):
            assert _get(client, f"{server.url}/r0") == (200, b"end")
        with _bounded(redirects=3), pytest.raises(limits.LimitExceededError, match=r"redirects limit \(3\)"):
            _get(client, f"{server.url}/r0")


def test_redirects_to_other_schemes_are_refused(client):
    with (
        HostileServer({"/x": redirect("ftp://127.0.0.1/x")}) as server,
        pytest.raises(_FailedError, match=r"unsupported scheme \(ftp://127.0.0.1/x\)"),
    ):
        _get(client, f"{server.url}/x")


def test_credentials_stay_with_their_origin(client):
    with HostileServer() as other, HostileServer() as home:
        credential = Credential(origin(home.url), "Basic c2VjcmV0")
        home.routes.update({"/start": redirect("/same"), "/same": redirect(f"{other.url}/away")})
        other.routes["/away"] = ok(b"fine")
        assert _get(client, f"{home.url}/start", credential=credential) == (200, b"fine")
        assert [s.headers.get("Authorization") for s in home.requests] == ["Basic c2VjcmV0"] * 2
        assert other.requests and not other.saw_authorization()


def test_a_request_body_is_not_resent_to_another_origin(client):
    with HostileServer() as other, HostileServer() as home:
        home.routes["/token"] = redirect(f"{other.url}/token", code=307)
        with (
            client.exchange(f"{home.url}/token", "metadata_seconds") as ex,
            pytest.raises(_FailedError, match="refusing to re-send the request body to another origin"),
        ):
            ex.send(method="POST", data={"refresh_token": "secret"})
        assert other.requests == []


def test_303_turns_a_post_into_a_get(client):
    with HostileServer({"/post": redirect("/got", code=303), "/got": ok(b"ok")}) as server:
        with client.exchange(f"{server.url}/post", "metadata_seconds") as ex:
            assert ex.send(method="POST", data={"a": "b"}).status_code == 200
        assert [s.method for s in server.requests] == ["POST", "GET"]


def test_netrc_is_not_consulted(client, tmp_path, monkeypatch):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with HostileServer({"/x": ok(b"")}) as server:
        _get(client, f"{server.url}/x")
        assert not server.saw_authorization()


def test_an_unreachable_server_is_one_line(client):
    with HostileServer() as server:
        url = f"{server.url}/x"
    with pytest.raises(_FailedError, match=r"/x: cannot connect \(Failed to establish a new connection"):
        _get(client, url)
    assert len(client.waits) == 4


def test_display_url():
    assert display_url("https://u:pw@Example.com:8443/a/b?token=x#frag") == "https://example.com:8443/a/b"
    assert display_url("http://[::1]:5000/v2/") == "http://[::1]:5000/v2/"
    assert display_url("http://h/a\x1b[31mb") == "http://h/a%1B[31mb"
    assert display_url("http://u:p@h:99999/x?q") == "http://h:99999/x"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("127.0.0.1", True),
        ("127.1.2.3:80", True),
        ("[::1]:5000", True),
        ("::1", True),
        ("192.0.2.1", False),
        ("localhost.example.com", False),
        ("registry", False),
    ],
)
def test_is_loopback_host(host, loopback):
    assert is_loopback_host(host) is loopback


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (scripts/setup.sh installs it)")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.mark.parametrize("headers_too", [False, True])
def test_the_deadline_ends_a_trickle_over_tls(client, certificate, monkeypatch, headers_too):
    """Over TLS the watchdog shuts the socket under the TLS layer down; the read ends all the same."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    routes = {"/x": trickle(b"x" * 100, interval=0.3, headers_too=headers_too), "/ok": ok(b"fine")}
    with HostileServer(routes, tls=certificate) as server:
        assert server.url.startswith("https://")
        assert _get(client, f"{server.url}/ok") == (200, b"fine")
        with (
            _bounded(metadata_seconds=1),
            pytest.raises(limits.LimitExceededError, match=r"https://127\.0\.0\.1:\d+/x: exceeds the"),
        ):
            _get(client, f"{server.url}/x")


def test_the_deadline_ends_a_trickled_tls_handshake(client):
    """A server that answers the ClientHello one byte at a time keeps the handshake going forever;
    the socket is watched from the moment it connects, before TLS wraps it."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            record = b"\x16\x03\x03\x40\x00" + b"\x02" * 0x4000  # a ServerHello record that never ends
            for byte in record:
                if stop.wait(0.3):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{listener.getsockname()[1]}/x"
        with _bounded(metadata_seconds=1), pytest.raises(limits.LimitExceededError, match="metadata-seconds"):
            _get(client, url)
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=10)


class _FlakyError(Exception):
    pass


def _flaky(failures: int, result: str = "done"):
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise _FlakyError(len(calls))
        return result

    return call, calls


def _again(exc: Exception, number: int) -> tuple[float, str] | None:
    return (float(number), "flaky") if isinstance(exc, _FlakyError) else None


def test_retrying_waits_what_delay_says_between_attempts():
    waits: list[tuple[float, str]] = []
    call, calls = _flaky(2)
    assert retrying(call, delay=_again, wait=lambda s, why: waits.append((s, why))) == "done"
    assert len(calls) == 3 and waits == [(0.0, "flaky"), (1.0, "flaky")]


def test_retrying_is_bounded_and_raises_the_last_failure_as_it_is():
    waits: list[float] = []
    call, calls = _flaky(100)
    with pytest.raises(_FlakyError) as raised:
        retrying(call, delay=_again, wait=lambda s, _: waits.append(s))
    assert len(calls) == MAX_ATTEMPTS and raised.value.args == (MAX_ATTEMPTS,)
    assert len(waits) == MAX_ATTEMPTS - 1  # no wait after the last attempt


def test_retrying_a_final_failure_is_not_retried():
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        retrying(call, delay=_again, wait=lambda s, _: None)
    assert len(calls) == 1


def test_retrying_before_retry_can_make_the_retry_unnecessary():
    call, calls = _flaky(1)
    assert retrying(call, delay=_again, wait=lambda s, _: None, before_retry=lambda: "found") == "found"
    assert len(calls) == 1
