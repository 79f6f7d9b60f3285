"""The retry policy for GitHub's and GitLab's APIs, shared by both platforms.

Both client libraries retry on their own, and both get it wrong for us: PyGithub retries a POST on
5xx, and when the server had applied the write, the retry posts a second comment; it does not retry a
PATCH on 429 at all; python-gitlab raises on 5xx unless told otherwise. So the platforms turn the
libraries' own retries off and call through `attempt`, which runs the shared loop
(`http.retrying`) with this policy:

- 429 and 5xx are retried, at most `MAX_ATTEMPTS` times, waiting what `Retry-After` says (capped at
  `MAX_RETRY_AFTER`) or backing off exponentially; a 403 that is GitHub's secondary rate limit
  (`Retry-After` present) counts as a 429;
- a write that is not idempotent (creating a comment) is retried only through `before_retry`, which
  the caller uses to look for the marker again, so a write the server did apply is not repeated;
- every other status is final and raised at once.

The `sleep` function is injectable so tests run the policy without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from ci_security.http import MAX_ATTEMPTS, RETRY_STATUS, retry_delay, retrying

T = TypeVar("T")


class ApiError(Exception):
    """A platform API call that failed for good: its HTTP status (0 for a network error) and a
    one-line reason without URLs or tokens.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}" if status else reason)
        self.status = status
        self.reason = reason


def retryable(status: int, headers: Mapping[str, str] | None) -> bool:
    if status in RETRY_STATUS or status == 0:
        return True
    has_retry_after = bool(headers) and any(k.lower() == "retry-after" for k in headers or {})
    return status == 403 and has_retry_after


def attempt(
    call: Callable[[], T],
    classify: Callable[[BaseException], tuple[int, Mapping[str, str] | None, str] | None],
    *,
    before_retry: Callable[[], T | None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = MAX_ATTEMPTS,
) -> T:
    """Run `call` under the policy. `classify` maps a library exception to (status, headers, reason),
    or None for an exception that is not an API error (re-raised as is). `before_retry`, when given,
    runs before each retry and may return a result that makes the retry unnecessary (the write the
    first attempt made after all).
    """

    def delay(exc: Exception, number: int) -> tuple[float, str] | None:
        info = classify(exc)
        if info is None or not retryable(info[0], info[1]):
            return None
        return retry_delay(info[1], number), f"HTTP {info[0]}"

    try:
        return retrying(
            call,
            delay=delay,
            wait=lambda seconds, _: sleep(seconds),
            attempts=attempts,
            before_retry=before_retry,
        )
    except Exception as exc:
        info = classify(exc)
        if info is None:
            raise
        status, _, reason = info
    raise ApiError(status, f"{reason} (after {attempts} attempts)" if retryable(status, None) else reason)
