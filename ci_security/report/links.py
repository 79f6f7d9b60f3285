"""Where a finding's id leads a reader: the advisory of a vulnerability, the description of a rule.

Shared by the reports that link ids (Markdown, the GitLab report); not a reporter itself.

- A CVE links to NVD, a GHSA to GitHub's advisory database (both by the id's own grammar, so a
  crafted id never becomes a link); another id (DSA, DLA, PYSEC, RUSTSEC, GO, ALPINE, …) links to
  the first http(s) reference of its advisory that names it, else to osv.dev, where every OSV id
  has a page.
- A rule of ours links to its section of `docs/rules.md` under the documentation URL the run was
  given (`documentation_url`: `--docs-url`, else the package's Documentation URL), as GitHub
  anchors it (`#df001`). A finding imported from another tool links to its first http(s) reference.

Every URL returned is checked by `sanitize.safe_url` before it is written anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

from ci_security.errors import UsageError
from ci_security.sanitize import safe_url

_CVE = re.compile(r"CVE-[0-9]{4}-[0-9]{4,}", re.IGNORECASE)
_GHSA = re.compile(r"GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}", re.IGNORECASE)
_OSV_ID = re.compile(r"[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9._:-]{1,100}")
_RULE_ID = re.compile(r"[A-Z][A-Z0-9]{1,15}")


def nvd_url(cve: str) -> str:
    return f"https://nvd.nist.gov/vuln/detail/{quote(cve.upper())}"


def ghsa_url(ghsa: str) -> str:
    return f"https://github.com/advisories/{quote(ghsa)}"


def osv_url(vid: str) -> str:
    return f"https://osv.dev/vulnerability/{quote(vid, safe=':')}"


def advisory_url(vid: str, references: Iterable[str] = ()) -> str | None:
    """The page of advisory `vid` (see the module docstring), or None for an id that fits no grammar."""
    if _CVE.fullmatch(vid):
        return nvd_url(vid)
    if _GHSA.fullmatch(vid):
        return ghsa_url(vid)
    needle = vid.lower()
    for reference in references:
        url = safe_url(reference)
        if url and needle in url.lower():
            return url
    return osv_url(vid) if _OSV_ID.fullmatch(vid) else None


def rule_url(rule_id: str, *, found_by: str, docs_url: str, references: Iterable[str] = ()) -> str | None:
    """The description of rule `rule_id` (see the module docstring), or None when there is none."""
    if found_by == "ci-security":
        base = safe_url(docs_url.rstrip("/")) if docs_url else None
        if base and _RULE_ID.fullmatch(rule_id):
            return f"{base}/rules.md#{rule_id.lower()}"
        return None
    return next((url for url in map(safe_url, references) if url), None)


def documentation_url(explicit: str | None) -> str:
    """The documentation URL reports link rule ids to: `explicit` (`--docs-url`), else the
    package's `Documentation` project URL, else "" (ids are not linked).
    """
    if explicit:
        url = safe_url(explicit)
        if url is None:
            raise UsageError(f"--docs-url {explicit!r}: not an http(s) URL")
        return url
    from importlib import metadata

    try:
        entries = metadata.metadata("ci-security").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return ""
    for entry in entries:
        label, _, url = str(entry).partition(",")
        safe = safe_url(url.strip())
        if label.strip().lower() == "documentation" and safe:
            return safe
    return ""
