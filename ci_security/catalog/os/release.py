"""Operating-system detection from release files.

`/etc/os-release` (or `/usr/lib/os-release`, its usual symlink target) names the distribution; the
distribution's own file is more precise where it exists: `/etc/debian_version` gives the point
release (`12.15` where os-release says `12`), `/etc/alpine-release` the full Alpine version, and
`/etc/redhat-release` covers RHEL-family images without os-release. Debian testing and unstable
images have no version at all, only a codename: os-release's `VERSION_CODENAME` (`forky`), and
`/etc/debian_version` as `forky/sid`; the codename is kept so matching can find the release's
number. Red Hat's images also record the repositories (content sets) their packages came from, in
`/root/buildinfo/content_manifests/*.json` (one per layer Red Hat built); each becomes an `OSInfo` of
family `redhat` carrying only `content_sets`, which matching maps to Red Hat's product streams.
Each file yields one `OSInfo`;
`catalog.osinfo.merge_os` combines them. Family names are the ones vulnerability feeds and Trivy use
(`rhel` → `redhat`, `amzn` → `amazon`, `ol` → `oracle`, `mariner` → `cbl-mariner`).
"""

from __future__ import annotations

import re
from typing import ClassVar

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput
from ci_security.errors import CatalogError
from ci_security.models import OSInfo
from ci_security.structured import DocumentError, load_json

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
CONTENT_MANIFESTS = "root/buildinfo/content_manifests/"
_CONTENT_SET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,199}$")
_MAX_CONTENT_SETS = 1000
_RELEASE_WORD = re.compile("release", re.IGNORECASE)
_VERSION_AFTER = re.compile(r"\s+([0-9][0-9.]*)")
_NUMERIC = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_CODENAME = re.compile(r"^[a-z][a-z0-9-]*$")


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
    version: ClassVar[int] = 3
    kind: ClassVar[CatalogerKind] = "os-release"
    max_file_size: ClassVar[int] = 2 << 20  # content manifests list every package in newer images
    magic: ClassVar[tuple[bytes, ...]] = ()

    def file_required(self, path: str, mode: int) -> bool:
        return path in _FILES or (
            path.startswith(CONTENT_MANIFESTS) and path.endswith(".json") and path.count("/") == 3
        )

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        if inp.path.startswith(CONTENT_MANIFESTS):
            return CatalogOutput(os=_content_manifest(inp))
        text = inp.stream.read(64 << 10).decode("utf-8", "replace")
        source = "/" + inp.path
        base = inp.path.rsplit("/", 1)[-1]
        info: OSInfo | None = None
        if base == "os-release":
            values = parse_os_release(text)
            os_id = values.get("ID", "").lower()
            if os_id:
                codename = values.get("VERSION_CODENAME", "").lower()
                info = OSInfo(
                    family=FAMILIES.get(os_id, os_id),
                    version=values.get("VERSION_ID") or None,
                    name=values.get("PRETTY_NAME") or None,
                    source=source,
                    codename=codename if _CODENAME.match(codename) else None,
                )
        elif base == "debian_version":
            value = text.strip()
            if _NUMERIC.match(value):
                info = OSInfo(family="debian", version=value, source=source)
            else:
                # `forky/sid` on testing and unstable alike: the first word is the testing codename.
                word = value.split("/", 1)[0].strip().lower()
                info = OSInfo(
                    family="debian",
                    version=None,
                    source=source,
                    codename=word if _CODENAME.match(word) else None,
                )
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


def _content_manifest(inp: CatalogInput) -> OSInfo | None:
    """The content sets of one ICM content manifest (`{"content_sets": [...], ...}`); None for a JSON
    file there that lists none (newer files may carry only package URLs).
    """
    data = inp.stream.read(OSReleaseCataloger.max_file_size + 1)
    try:
        doc = load_json(data, "/" + inp.path, size_limit="manifest_bytes")
    except DocumentError as exc:
        raise CatalogError(str(exc).split(": ", 1)[-1]) from None
    found = doc.get("content_sets") if isinstance(doc, dict) else None
    if not isinstance(found, list):
        return None
    sets = sorted({s for s in found[:_MAX_CONTENT_SETS] if isinstance(s, str) and _CONTENT_SET.match(s)})
    if not sets:
        return None
    return OSInfo(family="redhat", version=None, source="/" + inp.path, content_sets=tuple(sets))
