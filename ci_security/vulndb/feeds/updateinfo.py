"""Amazon Linux security advisories (ALAS) from a repository's `updateinfo.xml`, as OSV-shaped records.

ALAS is not in OSV. Every Amazon Linux repository publishes its advisories in the yum/dnf security
metadata (`repodata/updateinfo.xml.gz`, named in `repodata/repomd.xml`): one `<update>` per advisory
with its id, title, severity, dates, CVE references and the binary packages that fix it. Each
security update becomes one record of the shape `vulndb.osv.parse_record` reads:

- `id` the ALAS id, `upstream` its CVEs (distribution records name their CVEs there, not as
  aliases), `modified` the `updated` date, `published` the `issued` date;
- one `affected` entry per binary package name, in the ecosystem of the repository's collection
  (`amazon-linux-2023` → `Amazon Linux:2023`, `amazon-linux-2` → `Amazon Linux:2`,
  `amazon-linux-ami` → `Amazon Linux:1`), ranged `introduced 0, fixed <[epoch:]version-release>`
  (the same name listed for several architectures carries one version; were they to differ, the
  lowest is kept), with Amazon's severity (`important`, `medium`) as the vendor's rating;
- an Amazon Linux 2 *extras* topic (`amazon-linux-2---kernel-5.15`, `---postgresql14`) ships another
  version stream of a package core also has (kernel 5.15 beside core's 4.14). Its fixes are ranged
  from the stream's first version (`introduced 5.15` for a fix in `5.15.73-45.135.amzn2`), so a core
  package of another stream is not compared with them. Kernel live patches name the kernel they
  patch in the package name (`kernel-livepatch-6.1.12-19.43`) and need no such floor.

Bug-fix and enhancement updates (no vulnerability) are left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ci_security.errors import CiSecurityError
from ci_security.vulndb.feeds.stream import xml_events

_CVE = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2})(?::(\d{2}))?)?")
_RELEASES = {
    "amazon-linux-ami": "1",
    "amazon-linux-2": "2",
    "amazon-linux-2022": "2022",
    "amazon-linux-2023": "2023",
}
ADVISORY_PATHS = {"1": "", "2": "AL2/", "2022": "AL2022/", "2023": "AL2023/"}


def ecosystem_of(collection: str) -> tuple[str, str | None] | None:
    """(`Amazon Linux:<release>`, extras topic or None) for a collection's short name."""
    base, _, topic = collection.partition("---")
    release = _RELEASES.get(base)
    if release is None:
        return None
    return f"Amazon Linux:{release}", topic or None


def rfc3339(text: str) -> str | None:
    """`2023-02-17 20:41:00` or `2011-09-27 22:46` (updateinfo's forms) as RFC 3339 UTC."""
    found = _DATE.match(text.strip())
    if not found:
        return None
    day, hm, seconds = found.groups()
    return f"{day}T{hm or '00:00'}:{seconds or '00'}Z"


def evr(attributes: dict[str, str]) -> str | None:
    version, release = attributes.get("version", ""), attributes.get("release", "")
    if not version or not release:
        return None
    epoch = attributes.get("epoch", "0") or "0"
    prefix = f"{epoch}:" if epoch not in ("0", "") else ""
    return f"{prefix}{version}-{release}"


_STREAM = re.compile(r"([0-9]+(?:\.[0-9]+)*)$")


def stream_floor(fixed: str, stream: str | None) -> str:
    """The first version of the stream a fix belongs to, keeping its epoch: the version a topic or
    module stream names when the fix is in it (`5.15` for topic `kernel-5.15` and
    `5.15.73-45.135.amzn2`, `14` for `postgresql14` and `14.10-1.amzn2`), else the fix's major
    version (`20` for `20.10.25-1.amzn2`).
    """
    named = named_floor(fixed, stream)
    if named is not None:
        return named
    epoch, colon, rest = fixed.rpartition(":")
    return f"{epoch}{colon}{rest.rsplit('-', 1)[0].split('.')[0]}"


def named_floor(fixed: str, stream: str | None) -> str | None:
    """The version `stream` names (`14` in `postgresql14`, `18` in the module stream `18`) with the
    fix's epoch, when the fix's version is in it; else None.
    """
    epoch, colon, rest = fixed.rpartition(":")
    version = rest.rsplit("-", 1)[0]
    named = _STREAM.search(stream or "")
    if named and (version == named.group(1) or version.startswith(named.group(1) + ".")):
        return f"{epoch}{colon}{named.group(1)}"
    return None


@dataclass
class _Update:
    attributes: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)
    cves: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    collection: str = ""
    packages: dict[str, str] = field(default_factory=dict)  # name -> lowest EVR


def _lowest(a: str, b: str) -> str:
    from ci_security.vulndb.versions.registry import SCHEMES

    rpm = SCHEMES["rpm"]
    try:
        return a if rpm.key(a) <= rpm.key(b) else b
    except Exception:
        return a


def _record(update: _Update, where: str, error: Callable[[str], CiSecurityError]) -> dict[str, Any] | None:
    ident = update.fields.get("id", "").strip()
    if not ident or len(ident) > 100:
        raise error(f"{where}: an <update> without an <id>")
    if update.attributes.get("type", "security") != "security":
        return None
    scoped = ecosystem_of(update.collection)
    if scoped is None:
        raise error(
            f"{where}: {ident}: collection {update.collection[:80]!r} is not an Amazon Linux repository"
        )
    ecosystem, topic = scoped
    extras = topic is not None and "livepatch" not in topic
    modified = rfc3339(update.fields.get("updated", "")) or rfc3339(update.fields.get("issued", ""))
    if modified is None:
        raise error(f"{where}: {ident}: no issued or updated date")
    severity = update.fields.get("severity", "").strip()
    affected = []
    for name, fixed in sorted(update.packages.items()):
        affected.append(
            {
                "package": {"ecosystem": ecosystem, "name": name},
                "ranges": [
                    {
                        "type": "ECOSYSTEM",
                        "events": [
                            {"introduced": stream_floor(fixed, topic) if extras else "0"},
                            {"fixed": fixed},
                        ],
                    }
                ],
                **({"database_specific": {"severity": severity}} if severity else {}),
            }
        )
    release = ecosystem.split(":", 1)[1]
    references = [
        {"type": "ADVISORY", "url": f"https://alas.aws.amazon.com/{ADVISORY_PATHS[release]}{ident}.html"}
    ]
    references += [{"type": "WEB", "url": url} for url in update.links]
    return {
        "id": ident,
        "modified": modified,
        "published": rfc3339(update.fields.get("issued", "")) or modified,
        "summary": update.fields.get("title", "").strip()[:500],
        "details": update.fields.get("description", "").strip(),
        "upstream": sorted(set(update.cves)),
        "references": references,
        "affected": affected,
        "database_specific": {
            "source": "updateinfo",
            "collection": update.collection,
            **({"topic": topic} if topic else {}),
        },
    }


def is_updateinfo(first_tag: str) -> bool:
    return first_tag == "updates"


def records(
    pieces: Iterator[bytes], where: str, error: Callable[[str], CiSecurityError]
) -> Iterator[dict[str, Any]]:
    """The security advisories of an `updateinfo.xml` stream, as OSV-shaped records."""
    current: _Update | None = None
    first = True
    for kind, tag, value in xml_events(pieces, where, error):
        if first:
            first = False
            if kind != "start" or tag != "updates":
                raise error(f"{where}: not an updateinfo document (the root element is <{tag}>)")
            continue
        if kind == "start":
            if tag == "update":
                current = _Update(attributes=dict(value))
            elif current is None:
                continue
            elif tag == "collection":
                current.collection = value.get("short", "")
            elif tag == "package":
                name, version = value.get("name", ""), evr(value)
                if name and version and len(name) <= 200 and len(version) <= 200:
                    held = current.packages.get(name)
                    current.packages[name] = version if held is None else _lowest(held, version)
            elif tag == "reference":
                ident, href = value.get("id", ""), value.get("href", "")
                if value.get("type") == "cve" and _CVE.match(ident):
                    current.cves.append(ident)
                if href.startswith(("https://", "http://")) and len(href) <= 500 and len(current.links) < 50:
                    current.links.append(href)
            elif tag in ("issued", "updated"):
                current.fields[tag] = value.get("date", "")
        elif current is not None:
            if tag == "update":
                record = _record(current, where, error)
                current = None
                if record is not None:
                    yield record
            elif tag in ("id", "title", "severity", "description"):
                current.fields[tag] = value
