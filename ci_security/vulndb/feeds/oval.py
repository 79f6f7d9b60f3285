"""Oracle Linux security advisories (ELSA) from Oracle's OVAL (`com.oracle.elsa-*.xml.bz2`), as
OSV-shaped records.

ELSA is not in OSV. Oracle publishes its advisories as OVAL definitions: per advisory, metadata
(title, severity, issue date, CVEs with Oracle's CVSS) and a criteria tree whose criterion comments
say everything a package matcher needs, as other scanners read them:

- `Oracle Linux 8 is installed` scopes what follows to a release;
- `Oracle Linux arch is x86_64` to an architecture (a fix can be rebuilt at a different revision on
  one architecture);
- `Module nodejs:18 is enabled` to a module stream;
- `openssl is earlier than 1:1.1.1k-5.el8_5` is the fix; `openssl is ksplice-based` next to it says
  the fix is Ksplice's user-space variant (`…ksplice1.el8`), which applies only to packages built for
  Ksplice;
- `… is signed with the Oracle Linux 8 key` is not needed to match.

Each definition becomes one record: `id` the ELSA id, `upstream` its CVEs, `modified`/`published`
the issue date, Oracle's severity as the vendor's rating, each CVE's CVSS in `cves_map`, and one
`affected` entry per package in the ecosystem `Oracle Linux:<release>`, with `:ksplice` for Ksplice
fixes and `:<arch>` when the fix differs between architectures (a fix shared by every architecture is
filed without one). When a package is listed twice in a scope (Oracle's rebuild `110-1.0.1.el8` beside
the upstream `110-1.el8`), the lower version is the fix. A fix scoped to a module stream whose name
carries a version (`nodejs:18`) is ranged from that version, so a package of another stream is not
compared with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ci_security.errors import CiSecurityError
from ci_security.vulndb.feeds.stream import xml_events
from ci_security.vulndb.feeds.updateinfo import _lowest, named_floor

_INSTALLED = re.compile(r"^Oracle Linux (\d+) is installed$")
_ARCH = re.compile(r"^Oracle Linux arch is (\S+)$")
_MODULE = re.compile(r"^Module (\S+) is enabled$")
_EARLIER = re.compile(r"^(\S+) is earlier than (\S+)$")
_KSPLICE = re.compile(r"^(\S+) is ksplice-based$")
_CVE = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")
_ELSA = re.compile(r"(ELSA-\d{4}-\d+)")
_CVSS = re.compile(r"^[0-9.]+/(.+)$")


@dataclass
class _Frame:
    release: str | None = None
    arch: str = ""
    module: str | None = None
    fixes: list[tuple[str, str]] = field(default_factory=list)
    ksplice: set[str] = field(default_factory=set)


@dataclass
class _Definition:
    fields: dict[str, str] = field(default_factory=dict)
    elsa: str = ""
    cves: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    # (release, ksplice, module, package) -> arch ("" for none) -> lowest fixed EVR
    fixes: dict[tuple[str, bool, str | None, str], dict[str, str]] = field(default_factory=dict)


def _evr(text: str) -> str:
    return text[2:] if text.startswith("0:") else text


def _finish(frame: _Frame, definition: _Definition) -> None:
    if frame.release is None:
        return
    for package, fixed in frame.fixes:
        key = (frame.release, package in frame.ksplice, frame.module, package)
        by_arch = definition.fixes.setdefault(key, {})
        held = by_arch.get(frame.arch)
        by_arch[frame.arch] = fixed if held is None else _lowest(held, fixed)


def _record(
    definition: _Definition, where: str, error: Callable[[str], CiSecurityError]
) -> dict[str, Any] | None:
    ident = definition.elsa or (_ELSA.search(definition.fields.get("title", "")) or [""])[0]
    if not ident:
        return None  # not an ELSA (OVAL files may hold other definition classes)
    issued = definition.fields.get("issued", "")
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", issued):
        raise error(f"{where}: {ident}: no issue date")
    severity = definition.fields.get("severity", "").strip()
    cves_map = {
        "cves": [
            {"id": cve, "severity": [{"type": t, "score": v} for t, v in vectors]}
            for cve, vectors in sorted(definition.cves.items())
        ]
    }
    database_specific: dict[str, Any] = {"cves_map": cves_map}
    if severity:
        database_specific["severity"] = severity
    affected = []
    for (release, ksplice, module, package), by_arch in sorted(
        definition.fixes.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "", kv[0][3])
    ):
        base = f"Oracle Linux:{release}" + (":ksplice" if ksplice else "")
        versions = set(by_arch.values())
        if "" in by_arch or len(versions) == 1:
            lowest = None
            for version in by_arch.values():
                lowest = version if lowest is None else _lowest(lowest, version)
            scoped = [(base, lowest)]
        else:
            scoped = [(f"{base}:{arch}", version) for arch, version in sorted(by_arch.items())]
        for ecosystem, fixed in scoped:
            assert fixed is not None
            # A stream whose name carries no version of this package (`virt:kvm_utils`) gives no floor.
            introduced = (named_floor(fixed, module.partition(":")[2]) if module else None) or "0"
            entry: dict[str, Any] = {
                "package": {"ecosystem": ecosystem, "name": package},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": introduced}, {"fixed": fixed}]}],
                "database_specific": database_specific,
            }
            if module:
                entry["ecosystem_specific"] = {"module": module}
            affected.append(entry)
    stamp = f"{issued}T00:00:00Z"
    return {
        "id": ident,
        "modified": stamp,
        "published": stamp,
        "summary": " ".join(definition.fields.get("title", "").split())[:500],
        "details": definition.fields.get("description", "").strip(),
        "upstream": sorted(definition.cves),
        "references": [{"type": "ADVISORY", "url": f"https://linux.oracle.com/errata/{ident}.html"}],
        "affected": affected,
    }


def records(
    pieces: Iterator[bytes], where: str, error: Callable[[str], CiSecurityError]
) -> Iterator[dict[str, Any]]:
    """The ELSA definitions of an OVAL stream, as OSV-shaped records."""
    definition: _Definition | None = None
    frames: list[_Frame] = []
    first = True
    cve_vectors: tuple[tuple[str, str], ...] = ()
    for kind, tag, value in xml_events(pieces, where, error):
        if first:
            first = False
            if kind != "start" or tag != "oval_definitions":
                raise error(f"{where}: not an OVAL document (the root element is <{tag}>)")
            continue
        if kind == "start":
            if tag == "definition":
                definition = _Definition()
                frames = []
            elif definition is None:
                continue
            elif tag == "reference" and value.get("source") == "elsa":
                found = _ELSA.search(value.get("ref_id", ""))
                definition.elsa = found.group(1) if found else definition.elsa
            elif tag == "issued":
                definition.fields["issued"] = value.get("date", "")
            elif tag == "cve":
                cve_vectors = tuple(
                    (kind_, found.group(1))
                    for attribute, kind_ in (("cvss3", "CVSS_V3"), ("cvss2", "CVSS_V2"))
                    if (found := _CVSS.match(value.get(attribute, "")))
                )
            elif tag == "criteria":
                parent = frames[-1] if frames else _Frame()
                frames.append(_Frame(release=parent.release, arch=parent.arch, module=parent.module))
            elif tag == "criterion" and frames:
                _criterion(value.get("comment", ""), frames[-1])
        elif definition is not None:
            if tag == "definition":
                record = _record(definition, where, error)
                definition = None
                if record is not None:
                    yield record
            elif tag in ("title", "description", "severity"):
                definition.fields.setdefault(tag, value)
            elif tag == "cve":
                cve = value.strip()
                if _CVE.match(cve):
                    definition.cves[cve] = cve_vectors
                cve_vectors = ()
            elif tag == "criteria" and frames:
                _finish(frames.pop(), definition)


def _criterion(comment: str, frame: _Frame) -> None:
    text = comment.strip()
    if found := _INSTALLED.match(text):
        frame.release = found.group(1)
    elif found := _ARCH.match(text):
        frame.arch = found.group(1)
    elif found := _MODULE.match(text):
        frame.module = found.group(1)
    elif found := _EARLIER.match(text):
        if len(found.group(1)) <= 200 and len(found.group(2)) <= 200:
            frame.fixes.append((found.group(1), _evr(found.group(2))))
    elif found := _KSPLICE.match(text):
        frame.ksplice.add(found.group(1))


def is_oval(first_tag: str) -> bool:
    return first_tag == "oval_definitions"
