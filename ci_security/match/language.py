"""Language packages: searched by name in their ecosystem (PyPI, npm, Go, crates.io, Maven,
RubyGems, NuGet, Packagist, Julia, Pub, Hex: every language row of `models/packagetype.py`).

A package whose evidence file was installed by the OS package manager (`installed_by`, e.g. the
`requests` egg-info shipped in Debian's `python3-requests`) is not searched here: the distribution
patches such packages in place without changing the upstream version, so a PyPI advisory would be a
false positive; the OS package is matched against the distribution's advisories instead (Trivy's
rule). A Go main module built as `(devel)` has no version and cannot be matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ci_security.match.base import Query
from ci_security.models import OSInfo, Package
from ci_security.models.packagetype import PACKAGE_TYPES

LANGUAGE_TYPES = {row.purl_type: row for row in PACKAGE_TYPES if row.layer == "language"}


class LanguageMatcher:
    """See the module docstring."""

    name: ClassVar[str] = "language"
    package_types: ClassVar[frozenset[str]] = frozenset(LANGUAGE_TYPES)

    def queries(self, pkg: Package, os_info: OSInfo | None) -> Sequence[Query]:
        if not pkg.version or pkg.installed_by:
            return ()
        return (Query(LANGUAGE_TYPES[pkg.type].ecosystems[0], pkg.name, pkg.version),)

    def unsupported(self, os_info: OSInfo | None) -> str | None:
        return None
