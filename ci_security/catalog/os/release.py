"""Operating-system detection from release files.

`/etc/os-release` (or `/usr/lib/os-release`, its usual symlink target) names the distribution; the
distribution's own file is more precise where it exists: `/etc/debian_version` gives the point
release (`12.15` where os-release says `12`), `/etc/alpine-release` the full Alpine version, and
`/etc/redhat-release` covers RHEL-family images without os-release. Each file yields one `OSInfo`;
`catalog.osinfo.merge_os` combines them. Family names are the ones vulnerability feeds and Trivy use
(`rhel` → `redhat`, `amzn` → `amazon`, `ol` → `oracle`, `mariner` → `cbl-mariner`).
"""

from __future__ import annotations

import re
from typing import ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput
from ci_security.models import OSInfo

_FILES = frozenset(
    {
        "etc/os-release",
        "usr/lib/os-release",
        "etc/debian_version",
        "etc/alpine-release",
        "etc/redhat-release",
        "etc/centos-release",
        "etc/oracle-release",
    }
)
FAMILIES = {
    "rhel": "redhat",
    "redhat": "redhat",
    "amzn": "amazon",
    "ol": "oracle",
    "oracle": "oracle",
    "almalinux": "alma",
    "mariner": "cbl-mariner",
    "sle-micro": "slem",
    "sles": "sles",
}
_RELEASE_NAMES = (
    ("red hat", "redhat"),
    ("centos", "centos"),
    ("rocky", "rocky"),
    ("almalinux", "alma"),
    ("fedora", "fedora"),
    ("oracle", "oracle"),
    ("amazon", "amazon"),
)
_RELEASE_WORD = re.compile("release", re.IGNORECASE)
_VERSION_AFTER = re.compile(r"\s+([0-9][0-9.]*)")
_NUMERIC = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def parse_release_line(line: str) -> tuple[str, str] | None:
    """(name, version) of `NAME release VERSION ...` (`CentOS Linux release 7.9.2009 (Core)`).

    The first word `release` (any case) with blanks before it and blanks then a digit after it
    splits the line. Found by a literal search, not by one regex with a lazy name and a run of
    blanks before the word: on a 64 KiB line of blanks that backtracks for seconds.
    """
    for found in _RELEASE_WORD.finditer(line):
        start, end = found.span()
        if start == 0 or not line[start - 1].isspace():
            continue
        version = _VERSION_AFTER.match(line, end)
        if version is not None:
            return line[:start].rstrip(), version[1]
    return None


def parse_os_release(text: str) -> dict[str, str]:
    """`KEY=value` lines with shell-style quoting, as in os-release(5)."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value.replace('\\"', '"').replace("\\\\", "\\")
    return values


class OSReleaseCataloger:
    """Reads the release files that identify the distribution."""

    name: ClassVar[str] = "os/release"
    version: ClassVar[int] = 1
    kind: ClassVar[CatalogerKind] = "os-release"
    max_file_size: ClassVar[int] = 64 << 10
    magic: ClassVar[tuple[bytes, ...]] = ()

    def file_required(self, path: str, mode: int) -> bool:
        return path in _FILES

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        text = inp.stream.read(self.max_file_size).decode("utf-8", "replace")
        source = "/" + inp.path
        base = inp.path.rsplit("/", 1)[-1]
        info: OSInfo | None = None
        if base == "os-release":
            values = parse_os_release(text)
            os_id = values.get("ID", "").lower()
            if os_id:
                info = OSInfo(
                    family=FAMILIES.get(os_id, os_id),
                    version=values.get("VERSION_ID") or None,
                    name=values.get("PRETTY_NAME") or None,
                    source=source,
                )
        elif base == "debian_version":
            value = text.strip()
            info = OSInfo(family="debian", version=value if _NUMERIC.match(value) else None, source=source)
        elif base == "alpine-release":
            value = text.strip().splitlines()[0] if text.strip() else ""
            info = OSInfo(family="alpine", version=value or None, source=source)
        else:
            line = text.strip().splitlines()[0] if text.strip() else ""
            parsed = parse_release_line(line)
            if parsed:
                lowered = parsed[0].lower()
                family = next((fam for key, fam in _RELEASE_NAMES if key in lowered), None)
                if family:
                    info = OSInfo(family=family, version=parsed[1], name=line, source=source)
        return CatalogOutput(os=info)
