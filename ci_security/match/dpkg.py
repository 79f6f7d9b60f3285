"""Debian and Ubuntu packages: searched by source package in the release's own ecosystems.

Advisories for Debian (`DSA`, `DLA`, `DEBIAN-CVE-…`) and Ubuntu (`USN`, `UBUNTU-CVE-…`) name source
packages, and their fixed versions are source versions, so a binary built from `openssl` is searched
as `openssl` with the source version (which differs from the binary's after a binNMU: `1.2-3+b1` is
built from `1.2-3`). The ecosystems are release-scoped (`Debian:12`, `Ubuntu:22.04:LTS` and
`Ubuntu:Pro:22.04:LTS`; see `distros` for the table): an unscoped search would return fixes made
only in other releases. Findings are reported on the binary package, marked indirect when the
source name differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ci_security.match import distros
from ci_security.match.base import Query
from ci_security.models import OSInfo, Package


class DpkgMatcher:
    """See the module docstring."""

    name: ClassVar[str] = "dpkg"
    package_types: ClassVar[frozenset[str]] = frozenset({"deb"})

    def queries(self, pkg: Package, os_info: OSInfo | None) -> Sequence[Query]:
        release = distros.release_of_type(os_info, "deb")
        if release is None:
            return ()
        return distros.queries(pkg, release, pkg.source_version or pkg.version)

    def unsupported(self, os_info: OSInfo | None) -> str | None:
        return distros.unsupported(os_info, "deb", "Debian packages")
