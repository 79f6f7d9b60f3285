"""CVE JSON 5.x records (cvelistV5, CISA's vulnrichment): the CNA's and ADPs' CVSS ratings.

`containers.cna.metrics[]` and each `containers.adp[].metrics[]` may hold `cvssV4_0`, `cvssV3_1`,
`cvssV3_0` and `cvssV2_0` objects; each becomes a row `[kind, who, version, vector, score]` with
kind "cna" or "adp" and `who` the container's `providerMetadata.shortName` (`redhat`, `CISA-ADP`).
`other` metrics (SSVC decisions, a CNA's own wording, KEV markers) are not CVSS and are left out:
KEV comes from CISA's catalogue itself. A rejected record keeps no ratings.
"""

from __future__ import annotations

from typing import Any

from ci_security.vulndb.feeds.nvd import NvdCve

_KEYS = (("cvssV4_0", "4.0"), ("cvssV3_1", "3.1"), ("cvssV3_0", "3.0"), ("cvssV2_0", "2.0"))


def is_record(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("dataType") == "CVE_RECORD"


def _rows(container: Any, kind: str) -> list[tuple[str, str, str, str, float]]:
    if not isinstance(container, dict):
        return []
    meta = container.get("providerMetadata")
    who = meta.get("shortName") if isinstance(meta, dict) else None
    who = who[:100] if isinstance(who, str) else ""
    out = []
    metrics = container.get("metrics")
    for metric in metrics if isinstance(metrics, list) else ():
        if not isinstance(metric, dict):
            continue
        for key, version in _KEYS:
            data = metric.get(key)
            if not isinstance(data, dict):
                continue
            vector, score = data.get("vectorString"), data.get("baseScore")
            if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 10:
                continue
            if not isinstance(vector, str) or not vector or len(vector) > 400:
                continue
            row = (kind, who, version, vector, float(score))
            if row not in out:
                out.append(row)
    return out


def parse_record(doc: Any) -> NvdCve | None:
    """The CNA and ADP ratings of one CVE 5 record; None when it is not one."""
    if not is_record(doc):
        return None
    meta = doc.get("cveMetadata")
    if not isinstance(meta, dict):
        return None
    ident = meta.get("cveId")
    if not isinstance(ident, str) or not ident.startswith("CVE-") or len(ident) > 40:
        return None
    modified = meta.get("dateUpdated") or meta.get("datePublished")
    modified = modified if isinstance(modified, str) else None
    if meta.get("state") == "REJECTED":
        return NvdCve(ident, modified, ())
    containers = doc.get("containers")
    if not isinstance(containers, dict):
        return NvdCve(ident, modified, ())
    rows = _rows(containers.get("cna"), "cna")
    adp = containers.get("adp")
    for container in adp if isinstance(adp, list) else ():
        rows += _rows(container, "adp")
    return NvdCve(ident, modified, tuple(rows))
