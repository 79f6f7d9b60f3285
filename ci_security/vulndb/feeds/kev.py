"""CISA's Known Exploited Vulnerabilities catalogue (`known_exploited_vulnerabilities.json`).

The catalogue is one small JSON document (about 1,400 entries, 1.3 MB): `catalogVersion`,
`dateReleased` and `vulnerabilities[]` with `cveID`, `dateAdded`, `dueDate`,
`knownRansomwareCampaignUse` and `vulnerabilityName`. An entry without a CVE id or a date added is
an error naming it: the catalogue is replaced whole on every update, so a half-understood one must
not replace a good one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ci_security.errors import CiSecurityError
from ci_security.models import KevEntry

_CVE = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@dataclass(frozen=True, slots=True)
class Catalogue:
    version: str
    released: str
    entries: tuple[tuple[str, KevEntry], ...]


def is_catalogue(doc: Any) -> bool:
    return isinstance(doc, dict) and "catalogVersion" in doc and isinstance(doc.get("vulnerabilities"), list)


def _text(value: Any, limit: int = 300) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def parse_catalogue(doc: Any, where: str, error: Callable[[str], CiSecurityError]) -> Catalogue:
    if not is_catalogue(doc):
        raise error(f"{where}: not a KEV catalogue (no catalogVersion and vulnerabilities)")
    entries = []
    for index, item in enumerate(doc["vulnerabilities"]):
        if not isinstance(item, dict):
            raise error(f"{where}: vulnerabilities[{index}] is not an object")
        cve, added = item.get("cveID"), item.get("dateAdded")
        if not isinstance(cve, str) or not _CVE.match(cve):
            raise error(f"{where}: vulnerabilities[{index}]: no CVE id")
        if not isinstance(added, str) or not _DATE.match(added):
            raise error(f"{where}: vulnerabilities[{index}] ({cve}): no dateAdded (YYYY-MM-DD)")
        due = item.get("dueDate")
        entries.append(
            (
                cve,
                KevEntry(
                    date_added=added,
                    due_date=due if isinstance(due, str) and _DATE.match(due) else None,
                    ransomware=_text(item.get("knownRansomwareCampaignUse"), 20),
                    name=_text(item.get("vulnerabilityName")) or "",
                ),
            )
        )
    return Catalogue(
        version=_text(doc.get("catalogVersion"), 40) or "",
        released=_text(doc.get("dateReleased"), 40) or "",
        entries=tuple(entries),
    )
