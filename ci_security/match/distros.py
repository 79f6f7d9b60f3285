"""Which OSV ecosystems, and which package names, an operating-system release is searched under.

One table per distribution, derived from the values osv.dev publishes: its ecosystem list
(`osv/ecosystems/_ecosystems.py` in google/osv.dev, mirrored in ossf/osv-schema's
`ecosystems.json`) and the naming of the converters that write each feed. A scan searches
exactly the ecosystem strings records carry, because a string OSV does not use finds nothing and
says nothing:

- **Debian** (`DSA`/`DLA`/`DTSA` and `DEBIAN-CVE-*` converters): `Debian:` + the `version` column of
  distro-info-data's `debian.csv`. That column is `3.0`, `3.1`, `4.0`, `5.0`, `6.0` for the releases
  before wheezy and the bare major from 7 on, so a squeeze image is `Debian:6.0`, not `Debian:6`.
  Testing and unstable images carry no `VERSION_ID`, only a codename (`VERSION_CODENAME=forky`,
  `/etc/debian_version` `forky/sid`); OSV files testing under the number its row already has
  (`Debian:14` for forky). There is no `Debian:sid`. An image that names only `sid` is searched as
  the testing release (the first row without a release date). The table is kept current from
  distro-info-data: a new Debian codename is announced there (with its number) long before it
  becomes testing, and `tests/match/test_distros.py` compares this table with the system's
  `/usr/share/distro-info/debian.csv`, failing when that file knows a release this table does not.
  Names: source packages only (`Source:`), as the converters write them.
- **Ubuntu** (ubuntu-security-notices): `Ubuntu:<YY.MM>:LTS` for LTS releases, `Ubuntu:<YY.MM>`
  otherwise; fixes that ship only through Ubuntu Pro (ESM: every fix on 14.04 to 20.04 after standard
  support, and universe packages on 22.04 and later) are filed under `Ubuntu:Pro:<YY.MM>:LTS`. An
  image cannot be told to have Pro enabled or not (an `~esm` version only proves it for that one
  package), so every LTS release is searched in both: an ESM-built package is judged against the
  ESM entries, and a standard image learns of fixes that exist only in ESM (the finding's match
  detail names the `Ubuntu:Pro:` ecosystem then). FIPS streams (`Ubuntu:Pro:FIPS…`) are not
  searched. Names: source packages only.
- **Alpine** (alpine-secdb converter): `Alpine:v<major>.<minor>` for released branches; osv.dev
  reads only the `v<X.Y>` folders of secdb, so edge has no ecosystem. Names: the origin (`o:`), and
  the package's own name as well.
- **Wolfi**, **Chainguard**: one rolling ecosystem each. Their records name the package built (a
  subpackage such as `nri-memcached-compat`, a versioned stream such as `haproxy-2.8`), so both the
  package's own name and its origin are searched. Chainguard images are built from Wolfi packages
  and Chainguard's own, and are searched in both ecosystems.
- **AlmaLinux** (`AlmaLinux:<major>`), **Rocky Linux** (`Rocky Linux:<major>`): AlmaLinux records
  name binary RPMs (`krb5-libs`, `python3-requests`), Rocky Linux records source RPMs (`krb5`,
  `python-requests`); both names of every package are searched in either.
- **Photon OS** (`Photon OS:<major>.0`, VMware's advisories): package names as the spec builds them;
  both names are searched.
- **Azure Linux** (`Azure Linux:<major>`: `Azure Linux:2` is CBL-Mariner 2.0, `Azure Linux:3` is
  Azure Linux 3.0): there is no `Mariner` ecosystem, nor a `3.0` suffix. Both names are searched.

Every name a feed may use is searched, and hits are merged into one finding per vulnerability per
package afterwards, so searching a name a feed does not use costs one index probe and nothing else.
Other distributions (Red Hat Enterprise Linux, whose records are scoped by CPE product streams an
image does not record; CentOS; Amazon Linux; SUSE; Oracle Linux) have no usable OSV data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ci_security.match.base import Query
from ci_security.models import OSInfo, Package

# distro-info-data debian.csv: (version, series, release date or None while unreleased).
DEBIAN_RELEASES: tuple[tuple[str, str, str | None], ...] = (
    ("1.1", "buzz", "1996-06-17"),
    ("1.2", "rex", "1996-12-12"),
    ("1.3", "bo", "1997-06-05"),
    ("2.0", "hamm", "1998-07-24"),
    ("2.1", "slink", "1999-03-09"),
    ("2.2", "potato", "2000-08-15"),
    ("3.0", "woody", "2002-07-19"),
    ("3.1", "sarge", "2005-06-06"),
    ("4.0", "etch", "2007-04-08"),
    ("5.0", "lenny", "2009-02-14"),
    ("6.0", "squeeze", "2011-02-06"),
    ("7", "wheezy", "2013-05-04"),
    ("8", "jessie", "2015-04-26"),
    ("9", "stretch", "2017-06-17"),
    ("10", "buster", "2019-07-06"),
    ("11", "bullseye", "2021-08-14"),
    ("12", "bookworm", "2023-06-10"),
    ("13", "trixie", "2025-08-09"),
    ("14", "forky", None),
    ("15", "duke", None),
)
# Names each distribution's feed may use for a package: its source package, its binary (own) name.
SOURCE = "source"
BINARY = "binary"


@dataclass(frozen=True, slots=True)
class Release:
    """How one image's packages are searched: `label` says which release was recognised."""

    distro: str
    label: str
    package_type: str  # the inventory type these ecosystems hold: deb, apk or rpm
    ecosystems: tuple[str, ...]
    names: tuple[str, ...]  # SOURCE and/or BINARY, in the order they are searched


@dataclass(frozen=True, slots=True)
class Unmapped:
    """An image whose release has no OSV ecosystem, and why (said in the scan's warning)."""

    package_type: str | None
    reason: str


def debian_testing() -> tuple[str, str]:
    """(version, series) of the testing release: the first one without a release date."""
    return next((v, s) for v, s, released in DEBIAN_RELEASES if released is None)


def _debian(os_info: OSInfo) -> Release | Unmapped:
    version, codename = os_info.version, (os_info.codename or "").lower()
    if version and version[0].isdigit():
        for number, series, _ in DEBIAN_RELEASES:
            if version == number or version.startswith(number + "."):
                return Release("Debian", f"{number} ({series})", "deb", (f"Debian:{number}",), (SOURCE,))
        # A release newer than this table: OSV numbers releases from 7 on by their major.
        major = version.split(".")[0]
        return Release("Debian", major, "deb", (f"Debian:{major}",), (SOURCE,))
    if codename in ("sid", "unstable"):
        number, series = debian_testing()
        label = f"sid, searched as testing {number} ({series})"
        return Release("Debian", label, "deb", (f"Debian:{number}",), (SOURCE,))
    if codename:
        for number, series, released in DEBIAN_RELEASES:
            if codename == series:
                label = f"{number} ({series}{', testing' if released is None else ''})"
                return Release("Debian", label, "deb", (f"Debian:{number}",), (SOURCE,))
        return Unmapped(
            "deb",
            f"Debian codename {codename!r} is not in this ci-security's release table, so its OSV "
            "ecosystem (Debian:<number>) is unknown; upgrade ci-security",
        )
    return Unmapped("deb", "a Debian image with neither a version nor a codename")


def _ubuntu(os_info: OSInfo) -> Release | Unmapped:
    parts = (os_info.version or "").split(".")
    if len(parts) < 2 or not parts[0].isdigit() or not parts[1].isdigit():
        return Unmapped("deb", f"Ubuntu {os_info.version or '(no version)'} is not a YY.MM release")
    version = f"{parts[0]}.{parts[1]}"
    if parts[1] == "04" and int(parts[0]) % 2 == 0:
        ecosystems = (f"Ubuntu:{version}:LTS", f"Ubuntu:Pro:{version}:LTS")
        return Release("Ubuntu", f"{version} LTS", "deb", ecosystems, (SOURCE,))
    return Release("Ubuntu", version, "deb", (f"Ubuntu:{version}",), (SOURCE,))


def _alpine(os_info: OSInfo) -> Release | Unmapped:
    parts = (os_info.version or "").split(".")
    if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
        branch = f"v{parts[0]}.{parts[1]}"
        return Release("Alpine", branch, "apk", (f"Alpine:{branch}",), (SOURCE, BINARY))
    return Unmapped(
        "apk",
        f"Alpine {os_info.version or '(no version)'} is not a released branch (edge and pre-releases "
        "have no OSV ecosystem)",
    )


def _major(os_info: OSInfo) -> str | None:
    major = (os_info.version or "").split(".")[0]
    return major if major.isdigit() else None


def _rpm(
    distro: str, prefix: str, suffix: str, names: tuple[str, ...]
) -> Callable[[OSInfo], Release | Unmapped]:
    def mapping(os_info: OSInfo) -> Release | Unmapped:
        major = _major(os_info)
        if major is None:
            return Unmapped(
                "rpm", f"{distro} {os_info.version or '(no version)'} has no major release number"
            )
        return Release(distro, os_info.version or major, "rpm", (f"{prefix}{major}{suffix}",), names)

    return mapping


_ROLLING = {
    "wolfi": Release("Wolfi", "rolling", "apk", ("Wolfi",), (BINARY, SOURCE)),
    "chainguard": Release("Chainguard", "rolling", "apk", ("Chainguard", "Wolfi"), (BINARY, SOURCE)),
}
_BY_FAMILY: dict[str, Callable[[OSInfo], Release | Unmapped]] = {
    "debian": _debian,
    "ubuntu": _ubuntu,
    "alpine": _alpine,
    "alma": _rpm("AlmaLinux", "AlmaLinux:", "", (BINARY, SOURCE)),
    "rocky": _rpm("Rocky Linux", "Rocky Linux:", "", (SOURCE, BINARY)),
    "photon": _rpm("Photon OS", "Photon OS:", ".0", (BINARY, SOURCE)),
    "azurelinux": _rpm("Azure Linux", "Azure Linux:", "", (SOURCE, BINARY)),
    "cbl-mariner": _rpm("Azure Linux", "Azure Linux:", "", (SOURCE, BINARY)),
}
_NO_DATA = {
    "redhat": (
        "rpm",
        "Red Hat Enterprise Linux records are scoped by CPE product streams an image does not record",
    ),
    "centos": ("rpm", "CentOS has no OSV feed"),
    "fedora": ("rpm", "Fedora has no OSV feed"),
    "amazon": ("rpm", "Amazon Linux has no OSV feed"),
    "oracle": ("rpm", "Oracle Linux has no OSV feed"),
    "sles": ("rpm", "SUSE records are scoped by product names an image does not record"),
    "opensuse-leap": ("rpm", "openSUSE records are scoped by product names this tool does not map yet"),
    "opensuse-tumbleweed": ("rpm", "openSUSE records are scoped by product names this tool does not map yet"),
    "slem": ("rpm", "SUSE records are scoped by product names an image does not record"),
}


def release_for(os_info: OSInfo | None) -> Release | Unmapped:
    """How packages of the image's distribution are searched, or why they cannot be."""
    if os_info is None:
        return Unmapped(None, "the operating system was not detected")
    if os_info.family in _ROLLING:
        return _ROLLING[os_info.family]
    mapping = _BY_FAMILY.get(os_info.family)
    if mapping is not None:
        return mapping(os_info)
    package_type, why = _NO_DATA.get(os_info.family, (None, f"{os_info.family} has no OSV feed"))
    return Unmapped(package_type, why)


def describe(os_info: OSInfo | None) -> str:
    """The image's distribution as a warning names it (`debian 12.5`, `an undetected OS`)."""
    if os_info is None:
        return "an undetected OS"
    return f"{os_info.family} {os_info.version or os_info.codename or ''}".strip()


def release_of_type(os_info: OSInfo | None, package_type: str) -> Release | None:
    """The image's release when its ecosystems hold packages of `package_type`, else None."""
    release = release_for(os_info)
    return release if isinstance(release, Release) and release.package_type == package_type else None


def queries(pkg: Package, release: Release, version: str) -> tuple[Query, ...]:
    """One search per ecosystem of the release and per distinct name the feeds may use."""
    names: list[str] = []
    for which in release.names:
        name = (pkg.source_name or pkg.name) if which == SOURCE else pkg.name
        if name not in names:
            names.append(name)
    return tuple(
        Query(eco, name, version, "direct" if name == pkg.name else "indirect")
        for eco in release.ecosystems
        for name in names
    )


def unsupported(os_info: OSInfo | None, package_type: str, what: str) -> str | None:
    """Why `what` (packages of `package_type`) cannot be checked on this image, or None."""
    release = release_for(os_info)
    if isinstance(release, Release):
        if release.package_type == package_type:
            return None
        why = f"{package_type} packages in a {release.distro} image"
    else:
        why = release.reason
    return f"no advisory data for {describe(os_info)} ({why}); {what} were not checked"
