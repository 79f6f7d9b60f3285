"""One HTTP policy for every client (registries, OSV downloads): timeouts, bounded retries with
exponential backoff that honours `Retry-After`, and one-line error reasons without URLs' query
strings (where tokens would live).
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping

from ci_security import __version__

MAX_ATTEMPTS = 5
MAX_RETRY_AFTER = 60.0
TIMEOUT = (15.0, 120.0)
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
USER_AGENT = f"ci-security/{__version__}"


def retry_delay(headers: Mapping[str, str] | None, attempt: int) -> float:
    """Seconds to wait before the next attempt: `Retry-After` (seconds or an HTTP date, looked up
    case-insensitively, capped) when the response gave one, else exponential backoff.
    """
    value = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after"), None)
    if value:
        try:
            return min(max(float(value), 0.0), MAX_RETRY_AFTER)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                return min(max(when.timestamp() - time.time(), 0.0), MAX_RETRY_AFTER)
    return float(min(0.5 * (2**attempt), 8.0))


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
    return text.splitlines()[0][:200] if text else exc.__class__.__name__
