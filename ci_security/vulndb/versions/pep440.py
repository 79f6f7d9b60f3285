"""PEP 440: Python package versions, ordered by `packaging.version.Version`, as pip orders them.

`packaging` already implements the whole specification (epochs, pre-, post- and dev-releases, local
versions, normalisation such as `1.0 == 1.0.0` and `1.0a1 == 1.0.alpha1`), and `Version` objects are
totally ordered among themselves, so the key is the `Version` itself.

There is deliberately no fallback for strings that are not PEP 440: pip refuses them since packaging 22
removed `LegacyVersion`, PyPI no longer accepts them, and the OSV PyPI data is written in PEP 440. Guessing
an order for the rest (as `LegacyVersion` once did, sorting every such string before every valid
version) would decide whether an advisory matches on a rule no Python tool uses any more; raising
`InvalidVersion` lets the matcher skip that range instead.
"""

from __future__ import annotations

import functools
from typing import ClassVar

from packaging.version import Version

from ci_security.vulndb.versions.base import InvalidVersion


@functools.lru_cache(maxsize=1 << 16)
def _key(version: str) -> Version:
    try:
        return Version(version)
    except ValueError as exc:  # packaging's InvalidVersion, or a number too long to convert
        raise InvalidVersion(f"{version!r}: {exc}") from None


class Pep440Scheme:
    """PyPI's ordering."""

    name: ClassVar[str] = "pep440"

    def key(self, version: str) -> Version:
        return _key(version)
