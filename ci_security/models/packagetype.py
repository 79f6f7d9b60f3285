"""The package-type table: every kind of package ci-security knows, in one place.

A package's `type` is its Package-URL type (`deb`, `pypi`, ...). Each row says, for one type:
- `layer`: whether the operating system's package manager installs it (`os`) or a language's does
  (`language`);
- `ecosystems`: the OSV ecosystems whose advisories are about packages of this type, as OSV spells
  them before any `:release` suffix (`Debian` for `Debian:12`). A language type has exactly one, the
  one it is searched in; an OS type has its distributions', and which of them an image is searched
  in depends on its release (`match/distros.py`);
- `scheme`: the version ordering its ecosystems use (a name in `vulndb/versions/registry.py`);
- `index_names`: how advisory databases key its names: `pep503` (PyPI's normalised names), `lower`
  (NuGet ids are case-insensitive) or `exact`;
- `epoch`: whether its versions may carry an `epoch:` prefix (dpkg and rpm).

Matching (the language matcher, the version registry, the OSV index), the importers, the purl
builder and the reports read this table; nothing else lists types or ecosystems. `pub` and `hex`
have no cataloger yet; they are here because their OSV records are ordered (and imported findings
may name them).

Pure data and a PEP 503 helper: `models/` imports nothing else from the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from packaging.utils import canonicalize_name

PackageLayer = Literal["os", "language"]
NameIndex = Literal["exact", "pep503", "lower"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageType:
    purl_type: str
    layer: PackageLayer
    ecosystems: tuple[str, ...]
    scheme: str
    index_names: NameIndex = "exact"
    epoch: bool = False

    @property
    def is_os(self) -> bool:
        return self.layer == "os"

    def index_name(self, name: str) -> str:
        """`name` as advisory databases key it (`Jinja2` → `jinja2` on PyPI)."""
        if self.index_names == "pep503":
            return canonicalize_name(name)
        if self.index_names == "lower":
            return name.lower()
        return name


def _os(purl_type: str, scheme: str, ecosystems: tuple[str, ...], *, epoch: bool) -> PackageType:
    return PackageType(purl_type=purl_type, layer="os", ecosystems=ecosystems, scheme=scheme, epoch=epoch)


def _language(purl_type: str, ecosystem: str, scheme: str, index_names: NameIndex = "exact") -> PackageType:
    return PackageType(
        purl_type=purl_type, layer="language", ecosystems=(ecosystem,), scheme=scheme, index_names=index_names
    )


PACKAGE_TYPES: tuple[PackageType, ...] = (
    _os("deb", "dpkg", ("Debian", "Ubuntu"), epoch=True),
    _os("apk", "apk", ("Alpine", "Wolfi", "Chainguard"), epoch=False),
    _os(
        "rpm",
        "rpm",
        (
            "Red Hat",
            "AlmaLinux",
            "Rocky Linux",
            "SUSE",
            "openSUSE",
            "Photon OS",
            "Azure Linux",
            "Mariner",
            "CBL-Mariner",
            "Amazon Linux",
            "Oracle Linux",
            "openEuler",
            "Mageia",
        ),
        epoch=True,
    ),
    _language("pypi", "PyPI", "pep440", "pep503"),
    _language("npm", "npm", "semver"),
    _language("golang", "Go", "semver"),
    _language("cargo", "crates.io", "semver"),
    _language("maven", "Maven", "maven"),
    _language("gem", "RubyGems", "rubygems"),
    _language("nuget", "NuGet", "nuget", "lower"),
    _language("composer", "Packagist", "composer"),
    _language("julia", "Julia", "semver"),  # osv.dev orders Julia as SemVer
    _language("pub", "Pub", "semver"),
    _language("hex", "Hex", "semver"),
)
BY_PURL_TYPE: dict[str, PackageType] = {row.purl_type: row for row in PACKAGE_TYPES}
BY_ECOSYSTEM: dict[str, PackageType] = {eco: row for row in PACKAGE_TYPES for eco in row.ecosystems}


def package_type(purl_type: str) -> PackageType | None:
    """The row for a purl type, or None for a type ci-security does not know (`conda`, `generic`)."""
    return BY_PURL_TYPE.get(purl_type)


def ecosystem_type(ecosystem: str) -> PackageType | None:
    """The row whose advisories an OSV ecosystem string (`Debian:12`, `PyPI`) holds, or None. Names
    are matched exactly, as OSV spells them.
    """
    return BY_ECOSYSTEM.get(ecosystem.split(":", 1)[0])


def is_os_type(purl_type: str) -> bool:
    """True for a package the operating system's package manager installed (deb, apk, rpm)."""
    row = BY_PURL_TYPE.get(purl_type)
    return row is not None and row.is_os
