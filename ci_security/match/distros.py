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

- **Red Hat Enterprise Linux / UBI** (Red Hat's OSV records): records are scoped by CPE product
  streams, `Red Hat:` + the CPE's tail (`Red Hat:enterprise_linux:9::appstream`,
  `Red Hat:rhel_eus:9.2::baseos`). An image built by Red Hat records the repositories (content sets)
  its packages came from in `/root/buildinfo/content_manifests/*.json`; Red Hat's repository-to-CPE
  mapping (downloaded by `db update` with the `Red Hat` ecosystem) turns them into streams
  (`scope`). An image that records none, or none the mapping knows, is searched in its major
  release's BaseOS and AppStream streams (`enterprise_linux:7::server` for RHEL 7), and the scan
  says so in a warning. Records name binary RPMs; source names are searched too.
- **SUSE Linux Enterprise** (SUSE's OSV records): ecosystems are product names
  (`SUSE:Linux Enterprise Server 15 SP5`, `SUSE:Linux Enterprise Module for Basesystem 15 SP5`), one
  per product that ships the package. A SLES image (`VERSION_ID=15.5`) is searched in every
  `SUSE:… 15 SP5` ecosystem the database holds (the server, its modules, Package Hub, the LTSS
  stream; `scope`) but SLE Micro's, SLE Micro in `SUSE:Linux Enterprise Micro <version>`. Records name source
  packages and list the binaries built from them (`ecosystem_specific.binaries`, indexed at import);
  both names are searched.
- **openSUSE** (the same feed): `openSUSE:Leap <version>`, `openSUSE:Tumbleweed`.
- **Amazon Linux** (ALAS, imported from the repositories' `updateinfo.xml`; see `feeds.updateinfo`):
  `Amazon Linux:1` (the Amazon Linux AMI, `VERSION_ID=2018.03`), `Amazon Linux:2`,
  `Amazon Linux:2023`. Advisories name binary RPMs; source names are searched too.
- **Oracle Linux** (ELSA, imported from OVAL; see `feeds.oval`): `Oracle Linux:<major>`, plus
  `Oracle Linux:<major>:<arch>` for fixes that differ between architectures (a `noarch` package is
  searched under x86_64's and aarch64's) and `Oracle Linux:<major>:ksplice[:<arch>]` for Ksplice's
  user-space fixes, which are the only ones searched for a package built for Ksplice (a `ksplice`
  release tag) and never for any other.

Every name a feed may use is searched, and hits are merged into one finding per vulnerability per
package afterwards, so searching a name a feed does not use costs one index probe and nothing else.
CentOS and Fedora have no usable data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

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
    # Oracle Linux: per-package variants of each ecosystem (architecture, Ksplice)
    variants: bool = False


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


def _redhat(os_info: OSInfo) -> Release | Unmapped:
    major = _major(os_info)
    if major is None:
        return Unmapped(
            "rpm", f"Red Hat Enterprise Linux {os_info.version or '(no version)'} has no major release"
        )
    if os_info.scopes:
        label = f"{os_info.version} (content sets)"
        return Release("Red Hat", label, "rpm", os_info.scopes, (BINARY, SOURCE))
    label = f"{os_info.version} (BaseOS and AppStream streams)"
    return Release("Red Hat", label, "rpm", redhat_fallback(major), (BINARY, SOURCE))


def redhat_fallback(major: str) -> tuple[str, ...]:
    """The streams searched when an image records no content set the mapping knows."""
    if int(major) <= 7:
        return (f"Red Hat:enterprise_linux:{major}::server",)
    return (f"Red Hat:enterprise_linux:{major}::baseos", f"Red Hat:enterprise_linux:{major}::appstream")


def _sles(os_info: OSInfo) -> Release | Unmapped:
    if os_info.scopes:
        return Release(
            "SUSE Linux Enterprise", os_info.version or "", "rpm", os_info.scopes, (BINARY, SOURCE)
        )
    product = sle_product(os_info)
    if product is None:
        return Unmapped("rpm", f"SUSE Linux Enterprise {os_info.version or '(no version)'} is not a release")
    return Release(
        "SUSE Linux Enterprise", os_info.version or "", "rpm", (f"SUSE:{product}",), (BINARY, SOURCE)
    )


def sle_product(os_info: OSInfo) -> str | None:
    """The product name SUSE's ecosystems use: `Linux Enterprise Server 15 SP5` for a SLES with
    `VERSION_ID=15.5`, `Linux Enterprise Micro 5.5` for SLE Micro (from its PRETTY_NAME).
    """
    if os_info.family in ("slem", "sl-micro"):
        name = (os_info.name or "").strip()
        return name.removeprefix("SUSE ") if name.startswith("SUSE ") and len(name) < 100 else None
    parts = (os_info.version or "").split(".")
    if not parts[0].isdigit():
        return None
    minor = parts[1] if len(parts) > 1 and parts[1].isdigit() else "0"
    return f"Linux Enterprise Server {parts[0]}" + (f" SP{minor}" if minor != "0" else "")


def _sle_tail(os_info: OSInfo) -> str | None:
    parts = (os_info.version or "").split(".")
    if not parts[0].isdigit():
        return None
    minor = parts[1] if len(parts) > 1 and parts[1].isdigit() else "0"
    return f" {parts[0]}" + (f" SP{minor}" if minor != "0" else "")


def _opensuse(os_info: OSInfo) -> Release | Unmapped:
    if os_info.family == "opensuse-tumbleweed":
        return Release("openSUSE", "Tumbleweed", "rpm", ("openSUSE:Tumbleweed",), (BINARY, SOURCE))
    version = os_info.version or ""
    if not re.match(r"^[0-9]+\.[0-9]+$", version):
        return Unmapped("rpm", f"openSUSE Leap {version or '(no version)'} is not a release")
    ecosystems = os_info.scopes or (f"openSUSE:Leap {version}",)
    return Release("openSUSE", f"Leap {version}", "rpm", ecosystems, (BINARY, SOURCE))


def _amazon(os_info: OSInfo) -> Release | Unmapped:
    version = os_info.version or ""
    if version in ("2", "2022", "2023"):
        release = version
    elif re.match(r"^20[01][0-9]\.[0-9]{2}$", version):
        release = "1"  # the Amazon Linux AMI: 2018.03, 2017.09, ...
    else:
        return Unmapped("rpm", f"Amazon Linux {version or '(no version)'} is not a release ALAS covers")
    return Release("Amazon Linux", version, "rpm", (f"Amazon Linux:{release}",), (BINARY, SOURCE))


def _oracle(os_info: OSInfo) -> Release | Unmapped:
    major = _major(os_info)
    if major is None:
        return Unmapped("rpm", f"Oracle Linux {os_info.version or '(no version)'} has no major release")
    return Release(
        "Oracle Linux",
        os_info.version or major,
        "rpm",
        (f"Oracle Linux:{major}",),
        (BINARY, SOURCE),
        variants=True,
    )


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
    "redhat": _redhat,
    "sles": _sles,
    "slem": _sles,
    "sl-micro": _sles,
    "opensuse-leap": _opensuse,
    "opensuse-tumbleweed": _opensuse,
    "amazon": _amazon,
    "oracle": _oracle,
}
_NO_DATA = {
    "centos": ("rpm", "CentOS has no OSV feed"),
    "fedora": ("rpm", "Fedora has no OSV feed"),
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


_NOARCH_SEARCHED = ("x86_64", "aarch64")


def _variants(ecosystem: str, pkg: Package) -> list[str]:
    """Oracle Linux: the Ksplice stream for a Ksplice-built package (its release says `ksplice`)
    instead of the plain one, and the per-architecture ecosystems beside the shared one.
    """
    base = f"{ecosystem}:ksplice" if "ksplice" in pkg.version else ecosystem
    arches = _NOARCH_SEARCHED if pkg.arch in (None, "", "noarch") else (pkg.arch,)
    return [base, *(f"{base}:{arch}" for arch in arches)]


def queries(pkg: Package, release: Release, version: str) -> tuple[Query, ...]:
    """One search per ecosystem of the release and per distinct name the feeds may use."""
    names: list[str] = []
    for which in release.names:
        name = (pkg.source_name or pkg.name) if which == SOURCE else pkg.name
        if name not in names:
            names.append(name)
    ecosystems = (
        [v for eco in release.ecosystems for v in _variants(eco, pkg)]
        if release.variants
        else release.ecosystems
    )
    return tuple(
        Query(eco, name, version, "direct" if name == pkg.name else "indirect")
        for eco in ecosystems
        for name in names
    )


@dataclass(frozen=True, slots=True)
class Scoped:
    """An image's OS with the product streams it is searched in, and what the scan should say."""

    os: OSInfo | None
    warnings: tuple[str, ...] = ()


def scope(
    os_info: OSInfo | None,
    ecosystems: Callable[[str], list[str]],
    repository_cpes: Callable[[Iterable[str]], Mapping[str, tuple[str, ...]]],
) -> Scoped:
    """Resolve the product streams of a Red Hat, SUSE or openSUSE Leap image against the database
    (`ecosystems(prefix)` lists the ecosystems it holds, `repository_cpes` maps content sets to
    CPEs); other images are returned as they are.
    """
    if os_info is None:
        return Scoped(None)
    if os_info.family == "redhat":
        return _scope_redhat(os_info, repository_cpes)
    if os_info.family == "sles":
        tail = _sle_tail(os_info)
        if tail is None:
            return Scoped(os_info)
        found = tuple(
            eco
            for eco in ecosystems("SUSE:")
            if "Micro" not in eco and any(eco.endswith(tail + end) for end in ("", "-LTSS", " LTSS"))
        )
        return Scoped(replace(os_info, scopes=found) if found else os_info)
    if os_info.family == "opensuse-leap" and os_info.version:
        wanted = f"Leap {os_info.version}"
        found = tuple(
            e for e in (*ecosystems("openSUSE:"), *ecosystems("SUSE:openSUSE ")) if e.endswith(wanted)
        )
        return Scoped(replace(os_info, scopes=found) if found else os_info)
    return Scoped(os_info)


def _scope_redhat(
    os_info: OSInfo, repository_cpes: Callable[[Iterable[str]], Mapping[str, tuple[str, ...]]]
) -> Scoped:
    major = _major(os_info)
    if major is None:
        return Scoped(os_info)
    fallback = " and ".join(redhat_fallback(major))
    if not os_info.content_sets:
        return Scoped(
            os_info,
            (
                f"the image records no content sets (/root/buildinfo/content_manifests/*.json), so its rpm "
                f"packages were searched in Red Hat's {fallback} streams only",
            ),
        )
    mapping = repository_cpes(os_info.content_sets)
    found: list[str] = []
    for repository in os_info.content_sets:
        for cpe in mapping.get(repository, ()):
            tail = cpe.split(":redhat:", 1)[-1]
            ecosystem = f"Red Hat:{tail}"
            if ecosystem not in found:
                found.append(ecosystem)
    unknown = sorted(set(os_info.content_sets) - set(mapping))
    warnings = []
    if not found:
        warnings.append(
            f"Red Hat's repository-to-CPE mapping in the database knows none of the image's content sets "
            f"({', '.join(unknown[:5])}), so its rpm packages were searched in the {fallback} streams only; "
            "`ci-security db update --ecosystem 'Red Hat'` downloads the mapping"
        )
        return Scoped(os_info, tuple(warnings))
    if unknown:
        warnings.append(
            "content sets not in Red Hat's repository-to-CPE mapping were not searched: "
            + ", ".join(unknown[:5])
        )
    return Scoped(replace(os_info, scopes=tuple(found)), tuple(warnings))


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
