"""NVD's CVE records (API 2.0 `vulnerabilities[].cve` objects, the same in its JSON 2.0 feed files
and in per-CVE mirrors): the CVSS ratings of each CVE.

Each `cvssMetricV40`, `cvssMetricV31`, `cvssMetricV30` and `cvssMetricV2` entry becomes one row
`[kind, who, version, vector, score]`:

- `Primary` metrics are NVD's own analysis ("nvd");
- `Secondary` metrics come from someone else: the CVE's own CNA (the record's `sourceIdentifier`)
  is "cna"; CISA's Authorized Data Publisher (vulnrichment; NVD names it by its organisation id) is
  "adp"; any other secondary source counts as a CNA's.

The base score is taken as NVD publishes it (`cvssData.baseScore`), so no CVSS arithmetic is needed;
an entry without a vector or a number in 0..10 is skipped. A rejected CVE keeps no ratings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CISA_ADP_ORG = "134c704f-9b21-4f2e-91b3-4a467353bcc0"
_METRICS = (
    ("cvssMetricV40", "4.0"),
    ("cvssMetricV31", "3.1"),
    ("cvssMetricV30", "3.0"),
    ("cvssMetricV2", "2.0"),
)


@dataclass(frozen=True, slots=True)
class NvdCve:
    """One CVE's ratings as NVD's record gives them."""

    id: str
    modified: str | None
    rows: tuple[tuple[str, str, str, str, float], ...]


def _score(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    score = float(value)
    return score if 0.0 <= score <= 10.0 else None


def parse_cve(cve: Any) -> NvdCve | None:
    """The ratings of one `cve` object; None when it is not one (no `CVE-` id)."""
    if not isinstance(cve, dict):
        return None
    ident = cve.get("id")
    if not isinstance(ident, str) or not ident.startswith("CVE-") or len(ident) > 40:
        return None
    modified = cve.get("lastModified")
    modified = modified if isinstance(modified, str) else None
    if cve.get("vulnStatus") == "Rejected":
        return NvdCve(ident, modified, ())
    cna = cve.get("sourceIdentifier")
    metrics = cve.get("metrics")
    rows: list[tuple[str, str, str, str, float]] = []
    for key, version in _METRICS:
        entries = metrics.get(key) if isinstance(metrics, dict) else None
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, dict):
                continue
            data = entry.get("cvssData")
            if not isinstance(data, dict):
                continue
            vector, score = data.get("vectorString"), _score(data.get("baseScore"))
            if not isinstance(vector, str) or not vector or len(vector) > 400 or score is None:
                continue
            who = entry.get("source")
            who = who if isinstance(who, str) else ""
            if entry.get("type") == "Primary":
                kind = "nvd"
            elif who == CISA_ADP_ORG:
                kind, who = "adp", "CISA-ADP"
            else:
                kind = "cna"
            row = (
                kind,
                who[:100] or ("nvd@nist.gov" if kind == "nvd" else str(cna or "")[:100]),
                version,
                vector,
                score,
            )
            if row not in rows:
                rows.append(row)
    return NvdCve(ident, modified, tuple(rows))


def cves_of(item: Any) -> Any:
    """The `cve` object of a `vulnerabilities[]` item (pages, feed files), or the item itself
    (per-CVE record files hold the bare object).
    """
    if isinstance(item, dict) and isinstance(item.get("cve"), dict):
        return item["cve"]
    return item
