"""RPM distributions: Red Hat Enterprise Linux / UBI, SUSE and openSUSE (OSV), Amazon Linux (ALAS from
updateinfo.xml) and Oracle Linux (ELSA from OVAL), AlmaLinux, Rocky Linux, Photon OS, Azure Linux /
CBL-Mariner (OSV).

Feeds differ in the name they use: AlmaLinux records name binary RPMs (`krb5-libs`), Rocky Linux
records source RPMs (`krb5`, from the `SOURCERPM` header `krb5-1.18.2-14.el8.src.rpm`), so every
package is searched under both names. Fixed versions are `[epoch:]version-release`, compared with
rpm's ordering against the installed package's EVR. The ecosystem carries the major release
(`AlmaLinux:9`, `Azure Linux:3`); see `distros` for the table.

Red Hat's and SUSE's ecosystems are product streams, resolved for the image before matching
(`distros.scope`); Oracle Linux searches per-architecture and Ksplice variants of its ecosystem.
CentOS and Fedora have no usable data: such images get a warning instead of a silent pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ci_security.match import distros
from ci_security.match.base import Query
from ci_security.models import OSInfo, Package


class RpmMatcher:
    """See the module docstring."""

    name: ClassVar[str] = "rpm"
    package_types: ClassVar[frozenset[str]] = frozenset({"rpm"})

    def queries(self, pkg: Package, os_info: OSInfo | None) -> Sequence[Query]:
        release = distros.release_of_type(os_info, "rpm")
        if release is None:
            return ()
        return distros.queries(pkg, release, pkg.version)

    def unsupported(self, os_info: OSInfo | None) -> str | None:
        return distros.unsupported(os_info, "rpm", "rpm packages")
