"""The platforms' retry policy: which statuses are retried, Retry-After, bounded attempts, and a
non-idempotent write that is looked for again before it is repeated."""

from __future__ import annotations

import pytest

from ci_security.http import MAX_ATTEMPTS, MAX_RETRY_AFTER, retry_delay
from ci_security.platforms.retry import ApiError, attempt, retryable


class HttpFailureError(Exception):
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.headers = headers


def classify(exc: BaseException):
    return (exc.status, exc.headers, f"HTTP {exc.status}") if isinstance(exc, HttpFailureError) else None


def flaky(*failures: HttpFailureError, result: str = "done"):
    queue = list(failures)
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if queue:
            raise queue.pop(0)
        return result

    return call, calls


def test_retry_after_is_honoured_and_capped():
    waits: list[float] = []
    call, calls = flaky(
        HttpFailureError(429, {"Retry-After": "3"}), HttpFailureError(503, {"retry-after": "9999"})
    )
    assert attempt(call, classify, sleep=waits.append) == "done"
    assert waits == [3.0, MAX_RETRY_AFTER] and len(calls) == 3


def test_backoff_without_retry_after():
    assert [retry_delay(None, n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_client_errors_are_final(status):
    waits: list[float] = []
    call, calls = flaky(HttpFailureError(status))
    with pytest.raises(ApiError) as raised:
        attempt(call, classify, sleep=waits.append)
    assert raised.value.status == status and len(calls) == 1 and waits == []


def test_secondary_rate_limit_403_with_retry_after_is_retried():
    assert retryable(403, {"Retry-After": "1"}) and not retryable(403, {})
    call, calls = flaky(HttpFailureError(403, {"Retry-After": "1"}))
    assert attempt(call, classify, sleep=lambda _: None) == "done" and len(calls) == 2


def test_attempts_are_bounded():
    call, calls = flaky(*[HttpFailureError(502)] * 10)
    with pytest.raises(ApiError, match=f"after {MAX_ATTEMPTS} attempts"):
        attempt(call, classify, sleep=lambda _: None)
    assert len(calls) == MAX_ATTEMPTS


def test_a_write_found_after_a_failure_is_not_repeated():
    call, calls = flaky(HttpFailureError(500))
    found = attempt(call, classify, before_retry=lambda: "already there", sleep=lambda _: None)
    assert found == "already there" and len(calls) == 1


def test_other_exceptions_pass_through():
    with pytest.raises(ZeroDivisionError):
        attempt(lambda: 1 // 0, classify, sleep=lambda _: None)
