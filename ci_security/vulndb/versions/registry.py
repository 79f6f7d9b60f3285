"""Which version scheme orders an OSV ecosystem's versions.

OSV ecosystem strings may carry a release after a colon (`Debian:12`, `Alpine:v3.19`, `Red Hat:
enterprise_linux:9::appstream`); the ordering depends only on the part before the first colon. Names are
matched exactly, as OSV spells them: an ecosystem that is not listed has no scheme here, and its ranges
are skipped rather than ordered by a guess.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

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

_ECOSYSTEMS: dict[str, str] = {
    "Debian": "dpkg",
    "Ubuntu": "dpkg",
    "Alpine": "apk",
    "Wolfi": "apk",
    "Chainguard": "apk",
    "Red Hat": "rpm",
    "AlmaLinux": "rpm",
    "Rocky Linux": "rpm",
    "SUSE": "rpm",
    "openSUSE": "rpm",
    "Photon OS": "rpm",
    "Azure Linux": "rpm",
    "Mariner": "rpm",
    "CBL-Mariner": "rpm",
    "Amazon Linux": "rpm",
    "Oracle Linux": "rpm",
    "openEuler": "rpm",
    "Mageia": "rpm",
    "PyPI": "pep440",
    "npm": "semver",
    "crates.io": "semver",
    "Go": "semver",
    "Pub": "semver",
    "Hex": "semver",
    "Julia": "semver",  # osv.dev orders Julia as SemVer
    "Maven": "maven",
    "RubyGems": "rubygems",
    "NuGet": "nuget",
    "Packagist": "composer",
}


def scheme_for(ecosystem: str) -> VersionScheme | None:
    """The scheme for an OSV ecosystem string such as `Debian:12`, or None when there is none."""
    name = _ECOSYSTEMS.get(ecosystem.split(":", 1)[0])
    return SCHEMES[name] if name is not None else None
