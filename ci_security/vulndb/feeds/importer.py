"""`db import` of the feed files `db update` downloads, for machines that reach no feed: NVD's API pages,
per-CVE records and `nvdcve-2.0-*.json.gz` files, CVE JSON 5 records, the KEV catalogue, EPSS CSV
files, Red Hat's repository-to-CPE mapping, Amazon `updateinfo.xml` and Oracle OVAL files
(compressed or not).

XML and CSV files, and NVD feed files (`nvdcve-2.0-*.json*`, hundreds of MB decompressed), are
recognised by name and streamed; other JSON documents are decoded once by the OSV reader and
routed here by content (`kind_of`). KEV, EPSS and the mapping replace what the database held, as an
update does; NVD and CVE 5 ratings are added per CVE (a newer record wins).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ci_security.vulndb.feeds import cve5, kev, nvd, oval, redhat, sources, updateinfo
from ci_security.vulndb.feeds.stream import json_array_items, xml_events
from ci_security.vulndb.store import DbWriter, VulnDbError

_STREAMED = re.compile(r"\.(xml|csv)(\.(gz|bz2|xz|zst))?$|^nvdcve-2\.0-.*\.json(\.(gz|bz2|xz|zst))?$")


def is_streamed(path: Path) -> bool:
    """Whether `path` is a feed file read as a stream (by its name)."""
    return bool(_STREAMED.search(path.name))


def kind_of(doc: Any) -> str | None:
    """What feed document `doc` is (nvd-page, nvd-record, cve5, kev, repository-cpe), or None."""
    if not isinstance(doc, dict):
        return None
    if kev.is_catalogue(doc):
        return "kev"
    if cve5.is_record(doc):
        return "cve5"
    if redhat.is_mapping(doc):
        return "repository-cpe"
    if doc.get("format") == "NVD_CVE" and isinstance(doc.get("vulnerabilities"), list):
        return "nvd-page"
    ident = doc.get("id")
    if isinstance(ident, str) and ident.startswith("CVE-") and "vulnStatus" in doc and "modified" not in doc:
        return "nvd-record"
    return None


def store_document(writer: DbWriter, doc: Any, kind: str, where: str, source: str) -> tuple[str, int]:
    """Store a decoded feed document; (what it was, how many entries)."""
    if kind == "kev":
        return "KEV", sources.store_kev(writer, doc, where, where)
    if kind == "repository-cpe":
        return sources.REPOSITORY_CPE, sources.store_repository_cpes(writer, doc, where, where)
    if kind == "cve5":
        parsed = cve5.parse_record(doc)
        assert parsed is not None
        writer.put_cve_ratings("cve5", parsed.id, parsed.modified, parsed.rows)
        return "CVE", 1
    items = doc["vulnerabilities"] if kind == "nvd-page" else [doc]
    count = 0
    for item in items:
        parsed = nvd.parse_cve(nvd.cves_of(item))
        if parsed is not None:
            writer.put_cve_ratings("nvd", parsed.id, parsed.modified, parsed.rows)
            count += 1
    return "NVD", count


def import_streamed(
    writer: DbWriter, path: Path, source: str, *, strict: bool = True
) -> tuple[str, int] | None:
    """Import one feed file read as a stream; (what it was, how many entries). An XML file that is
    neither feed is an error, or None when not `strict` (a file met in a folder).
    """
    where = str(path)
    name = path.name
    if ".csv" in name:
        return "EPSS", sources.store_epss(writer, sources._pieces(path, where), where, where)
    if name.startswith("nvdcve-2.0-"):
        header: dict[str, object] = {}
        count = 0
        for item in json_array_items(
            sources._pieces(path, where), "vulnerabilities", where, VulnDbError, header
        ):
            parsed = nvd.parse_cve(nvd.cves_of(item))
            if parsed is not None:
                writer.put_cve_ratings("nvd", parsed.id, parsed.modified, parsed.rows)
                count += 1
        return "NVD", count
    root = _root(path, where)
    if updateinfo.is_updateinfo(root):
        count, _ = sources.store_records(
            writer, updateinfo.records(sources._pieces(path, where), where, VulnDbError), source
        )
        return "Amazon Linux", count
    if oval.is_oval(root):
        count, _ = sources.store_records(
            writer, oval.records(sources._pieces(path, where), where, VulnDbError), source
        )
        return "Oracle Linux", count
    if not strict:
        return None
    raise VulnDbError(
        f"{where}: neither an updateinfo.xml nor an OVAL document (the root element is <{root}>)"
    )


def _root(path: Path, where: str) -> str:
    for kind, tag, _ in xml_events(sources._pieces(path, where), where, VulnDbError):
        if kind == "start":
            return tag
    raise VulnDbError(f"{where}: no XML element")
