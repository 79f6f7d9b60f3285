"""Which version scheme orders an OSV ecosystem's versions.

OSV ecosystem strings may carry a release after a colon (`Debian:12`, `Alpine:v3.19`, `Red Hat:
enterprise_linux:9::appstream`); the ordering depends only on the part before the first colon. Names are
matched exactly, as OSV spells them: an ecosystem that is not listed has no scheme here, and its ranges
are skipped rather than ordered by a guess. Which scheme an ecosystem uses is a column of the
package-type table (`models/packagetype.py`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from ci_security.models.packagetype import ecosystem_type
from ci_security.vulndb.versions.base import VersionScheme

# Every scheme, listed once as "module:class". Modules are imported on first use: a scan of a Debian
# image with Python packages needs three of the nine, and each import costs start-up time.
_SCHEME_CLASSES: dict[str, str] = {
    "dpkg": "dpkg:DpkgScheme",
    "apk": "apk:ApkScheme",
    "rpm": "rpm:RpmScheme",
    "pep440": "pep440:Pep440Scheme",
    "semver": "semver:SemverScheme",
    "maven": "maven:MavenScheme",
    "rubygems": "rubygems:RubyGemsScheme",
    "nuget": "nuget:NuGetScheme",
    "composer": "composer:ComposerScheme",
}


class _Schemes(Mapping[str, VersionScheme]):
    """Scheme name → one shared instance, created when first asked for."""

    def __init__(self) -> None:
        self._made: dict[str, VersionScheme] = {}

    def __getitem__(self, name: str) -> VersionScheme:
        scheme = self._made.get(name)
        if scheme is None:
            module, _, cls = _SCHEME_CLASSES[name].partition(":")
            scheme = getattr(importlib.import_module(f"ci_security.vulndb.versions.{module}"), cls)()
            self._made[name] = scheme
        return scheme

    def __iter__(self) -> Iterator[str]:
        return iter(_SCHEME_CLASSES)

    def __len__(self) -> int:
        return len(_SCHEME_CLASSES)


SCHEMES: Mapping[str, VersionScheme] = _Schemes()


def scheme_for(ecosystem: str) -> VersionScheme | None:
    """The scheme for an OSV ecosystem string such as `Debian:12`, or None when there is none."""
    row = ecosystem_type(ecosystem)
    return SCHEMES[row.scheme] if row is not None else None
