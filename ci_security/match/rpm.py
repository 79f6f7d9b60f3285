"""RPM distributions with OSV data: AlmaLinux, Rocky Linux, Photon OS, Azure Linux / CBL-Mariner.

These feeds name source RPMs (the `SOURCERPM` header: `openssl-3.0.7-27.el9.src.rpm` → `openssl`)
and give fixed versions as `[epoch:]version-release`, compared with rpm's ordering against the
installed package's EVR. The ecosystem carries the major release (`AlmaLinux:9`).

Red Hat Enterprise Linux is not matched: its OSV records are scoped by CPE product streams
(`Red Hat:enterprise_linux:9::appstream`) that an image does not record. Amazon Linux and SUSE
publish no OSV data this tool can scope. Such images get a warning instead of a silent pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ci_security.match.base import Query
from ci_security.models import OSInfo, Package


def ecosystems_for(os_info: OSInfo | None) -> tuple[str, ...]:
    if os_info is None or not os_info.version:
        return ()
    major = os_info.version.split(".")[0]
    family = os_info.family
    if family == "alma":
        return (f"AlmaLinux:{major}",)
    if family == "rocky":
        return (f"Rocky Linux:{major}",)
    if family == "photon":
        return (f"Photon OS:{major}.0",)
    if family in ("azurelinux", "cbl-mariner"):
        minor = os_info.version if "." in os_info.version else f"{os_info.version}.0"
        return (f"Azure Linux:{minor}", f"Mariner:{minor}")
    return ()


class RpmMatcher:
    """See the module docstring."""

    name: ClassVar[str] = "rpm"
    package_types: ClassVar[frozenset[str]] = frozenset({"rpm"})

    def queries(self, pkg: Package, os_info: OSInfo | None) -> Sequence[Query]:
        name = pkg.source_name or pkg.name
        kind = "direct" if name == pkg.name else "indirect"
        return tuple(Query(eco, name, pkg.version, kind) for eco in ecosystems_for(os_info))

    def unsupported(self, os_info: OSInfo | None) -> str | None:
        if not ecosystems_for(os_info):
            what = f"{os_info.family} {os_info.version or ''}".strip() if os_info else "an undetected OS"
            return f"no OSV advisory data for {what}; rpm packages were not checked"
        return None
