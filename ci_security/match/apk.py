"""Alpine-family packages: searched by origin (the source package) in the release's ecosystem.

OSV's Alpine records are keyed by origin and scoped by branch (`Alpine:v3.19`, taken from the
`major.minor` of /etc/alpine-release); Wolfi and Chainguard are rolling and unscoped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ci_security.match.base import Query
from ci_security.models import OSInfo, Package

_ROLLING = {"wolfi": "Wolfi", "chainguard": "Chainguard"}


def ecosystem_for(os_info: OSInfo | None) -> str | None:
    if os_info is None:
        return None
    if os_info.family in _ROLLING:
        return _ROLLING[os_info.family]
    if os_info.family == "alpine" and os_info.version:
        parts = os_info.version.split(".")
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            return f"Alpine:v{parts[0]}.{parts[1]}"
    return None


class ApkMatcher:
    """See the module docstring."""

    name: ClassVar[str] = "apk"
    package_types: ClassVar[frozenset[str]] = frozenset({"apk"})

    def queries(self, pkg: Package, os_info: OSInfo | None) -> Sequence[Query]:
        ecosystem = ecosystem_for(os_info)
        if ecosystem is None:
            return ()
        name = pkg.source_name or pkg.name
        return (Query(ecosystem, name, pkg.version, "direct" if name == pkg.name else "indirect"),)

    def unsupported(self, os_info: OSInfo | None) -> str | None:
        if ecosystem_for(os_info) is None:
            what = f"{os_info.family} {os_info.version or ''}".strip() if os_info else "an undetected OS"
            return f"no advisory data for {what}; apk packages were not checked"
        return None
