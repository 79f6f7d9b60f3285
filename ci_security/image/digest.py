"""The strict digest grammar for digests read from untrusted places (registries, manifests).

The OCI image spec allows other algorithms in principle, but the only ones any registry serves are
`sha256` (64 lower-case hex digits) and `sha512` (128). A digest is used to build request URLs and
file names, so anything else — `sha256:aaaa/bbbb`, a NUL, upper case, a short hex string — is
refused before use rather than passed on.
"""

from __future__ import annotations

import re

from ci_security.errors import ImageError

_DIGEST = re.compile(r"sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}")
_SHOWN = 80


def parse_digest(text: object, where: str) -> str:
    """`text` if it is a `sha256:`/`sha512:` digest in canonical form; else `ImageError` naming `where`."""
    if isinstance(text, str) and _DIGEST.fullmatch(text):
        return text
    shown = (
        repr(text[:_SHOWN] + ("…" if len(text) > _SHOWN else "")) if isinstance(text, str) else "not a string"
    )
    raise ImageError(f"{where}: invalid digest {shown} (expected sha256:<64 hex> or sha512:<128 hex>)")
