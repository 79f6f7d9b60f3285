"""Debian and Ubuntu packages: searched by source package in the release's own ecosystem.

Advisories for Debian (`DSA`, `DLA`, `DEBIAN-CVE-…`) and Ubuntu (`USN`, `UBUNTU-CVE-…`) name source
packages, and their fixed versions are source versions, so a binary built from `openssl` is searched
as `openssl` with the source version (which differs from the binary's after a binNMU: `1.2-3+b1` is
built from `1.2-3`). The ecosystem is release-scoped (`Debian:12`, `Ubuntu:22.04:LTS`): an
unscoped search would return fixes made only in other releases. Findings are reported on the binary
package, marked indirect when the source name differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ci_security.match.base import Query
from ci_security.models import OSInfo, Package


def ecosystem_for(os_info: OSInfo | None) -> str | None:
    if os_info is None or not os_info.version:
        if os_info is not None and os_info.family == "debian":
            return "Debian:sid"  # testing and sid images carry no VERSION_ID
        return None
    if os_info.family == "debian":
        return f"Debian:{os_info.version.split('.')[0]}"
    if os_info.family == "ubuntu":
        year, _, month = os_info.version.partition(".")
        lts = month == "04" and year.isdigit() and int(year) % 2 == 0
        return f"Ubuntu:{os_info.version}:LTS" if lts else f"Ubuntu:{os_info.version}"
    return None


class DpkgMatcher:
    """See the module docstring."""

    name: ClassVar[str] = "dpkg"
    package_types: ClassVar[frozenset[str]] = frozenset({"deb"})

    def queries(self, pkg: Package, os_info: OSInfo | None) -> Sequence[Query]:
        ecosystem = ecosystem_for(os_info)
        if ecosystem is None:
            return ()
        name = pkg.source_name or pkg.name
        version = pkg.source_version or pkg.version
        return (Query(ecosystem, name, version, "direct" if name == pkg.name else "indirect"),)

    def unsupported(self, os_info: OSInfo | None) -> str | None:
        if ecosystem_for(os_info) is None:
            what = f"{os_info.family} {os_info.version or ''}".strip() if os_info else "an undetected OS"
            return f"no advisory data for {what}; Debian packages were not checked"
        return None
