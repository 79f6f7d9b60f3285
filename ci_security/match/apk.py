"""Alpine-family packages: searched by origin and by their own name in the release's ecosystem.

OSV's Alpine records are keyed by origin and scoped by branch (`Alpine:v3.19`, taken from the
`major.minor` of /etc/alpine-release); Wolfi and Chainguard are rolling and unscoped, and their
records name the package built (a subpackage or versioned stream), so both names are searched (see
`distros` for the table).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ci_security.match import distros
from ci_security.match.base import Query
from ci_security.models import OSInfo, Package


class ApkMatcher:
    """See the module docstring."""

    name: ClassVar[str] = "apk"
    package_types: ClassVar[frozenset[str]] = frozenset({"apk"})

    def queries(self, pkg: Package, os_info: OSInfo | None) -> Sequence[Query]:
        release = distros.release_of_type(os_info, "apk")
        if release is None:
            return ()
        return distros.queries(pkg, release, pkg.version)

    def unsupported(self, os_info: OSInfo | None) -> str | None:
        return distros.unsupported(os_info, "apk", "apk packages")
