"""Content digests: the one grammar every digest from an image, a manifest or a registry must match.

A digest names a blob, and it becomes a file name (`blobs/sha256/<hex>` in an OCI layout, a download
in the private work directory) and a URL path (`/v2/<name>/blobs/<digest>`). Text from an image
reaches those places only through `check_digest`, so `sha256:aaaa/bbbb`, a NUL, a `..` or an
algorithm nobody can verify never becomes a path or a URL.

The OCI image spec's grammar is `algorithm ":" encoded`; of its algorithms only the two registered
ones are accepted, each with its exact encoding: `sha256:` and 64 lowercase hex digits, `sha512:`
and 128. Docker, containerd and every registry in use write nothing else, and a digest this tool
cannot compute is one it cannot verify, so refusing it up front is the same answer, given earlier.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from ci_security.errors import CiSecurityError, ImageError

# `re.fullmatch` with an explicit character class: no `$` (which would accept a trailing newline).
_ENCODED = {
    "sha256": re.compile(r"[a-f0-9]{64}"),
    "sha512": re.compile(r"[a-f0-9]{128}"),
}
ALGORITHMS = tuple(_ENCODED)


def is_digest(value: object) -> bool:
    """True if `value` is a digest this tool accepts (`sha256:<64 hex>` or `sha512:<128 hex>`)."""
    if not isinstance(value, str):
        return False
    algorithm, sep, encoded = value.partition(":")
    pattern = _ENCODED.get(algorithm)
    return bool(sep) and pattern is not None and pattern.fullmatch(encoded) is not None


def check_digest(value: object, what: str, *, error: Callable[[str], CiSecurityError] = ImageError) -> str:
    """`value` if it is a valid digest; otherwise an error naming `what` (the file and the key)."""
    if is_digest(value):
        return value  # type: ignore[return-value]
    if not isinstance(value, str):
        raise error(f"{what}: digest must be a string, found {type(value).__name__}")
    shown = value if len(value) <= 100 else value[:100] + "…"
    algorithm = value.partition(":")[0]
    if algorithm in _ENCODED:
        digits = 64 if algorithm == "sha256" else 128
        reason = f"expected {algorithm}: followed by {digits} lowercase hex digits"
    else:
        reason = "expected sha256:<64 hex digits> or sha512:<128 hex digits>"
    raise error(f"{what}: invalid digest {shown!r} ({reason})")


def split_digest(digest: str) -> tuple[str, str]:
    """(algorithm, encoded) of a digest that `check_digest` accepted."""
    algorithm, _, encoded = digest.partition(":")
    return algorithm, encoded


def blob_path(digest: str, what: str) -> str:
    """`blobs/<algorithm>/<encoded>` (an OCI layout's file name for the blob), after checking it."""
    algorithm, encoded = split_digest(check_digest(digest, what))
    return f"blobs/{algorithm}/{encoded}"


def file_name(digest: str, what: str) -> str:
    """A file name for the blob in a private directory (`sha256-<hex>`), after checking it."""
    algorithm, encoded = split_digest(check_digest(digest, what))
    return f"{algorithm}-{encoded}"


def hasher(digest: str, what: str) -> hashlib._Hash:
    """A fresh hash object of the digest's algorithm."""
    return hashlib.new(split_digest(check_digest(digest, what))[0])


def compute(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def verify(
    data: bytes, expected: str, what: str, *, error: Callable[[str], CiSecurityError] = ImageError
) -> None:
    """Check `data` against `expected`; an error naming `what` if the digest is invalid or differs."""
    algorithm, encoded = split_digest(check_digest(expected, what, error=error))
    got = hashlib.new(algorithm, data).hexdigest()
    if got != encoded:
        raise error(f"{what}: content does not match its digest (expected {expected}, got {algorithm}:{got})")
