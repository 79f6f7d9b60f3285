"""The matcher contract.

A matcher turns one installed package into the searches that find its advisories: the OSV
ecosystem (release-specific for distributions: `Debian:12`, `Alpine:v3.19`), the name advisories
use (the source package for distributions) and the version to compare (the source version, for a
Debian binNMU). It does no I/O and no version comparison; the runner does both, the same way for
every ecosystem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from ci_security.models import OSInfo, Package
from ci_security.models.vulnerability import MatchKind


@dataclass(frozen=True, slots=True)
class Query:
    """One search: `kind` is "direct" (the package's own name) or "indirect" (its source package)."""

    ecosystem: str
    name: str
    version: str
    kind: MatchKind = "direct"


class Matcher(Protocol):
    """Maps packages of some types to searches."""

    name: ClassVar[str]
    package_types: ClassVar[frozenset[str]]

    def queries(self, pkg: Package, os_info: OSInfo | None) -> Sequence[Query]:
        """The searches for `pkg`; empty when its ecosystem has no advisory data."""
        ...

    def unsupported(self, os_info: OSInfo | None) -> str | None:
        """Why packages of this image cannot be matched at all (an OS release with no data), or None."""
        ...
