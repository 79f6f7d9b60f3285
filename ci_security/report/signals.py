"""How reports show what rates a vulnerability beyond its severity: the distribution's own rating,
NVD's CVSS (or the CNA's or an ADP's where NVD has none), CISA KEV and FIRST EPSS.

Shared by the reports (table, Markdown, SARIF, GitLab); not a reporter itself. Every value returned
is plain text built from the finding's own fields; the caller escapes it for its sink like any other
cell.
"""

from __future__ import annotations

from ci_security.models import Severity, Vulnerability
from ci_security.models.vulnerability import RatingKind

# SARIF's `security-severity` for a severity decided by a label (no CVSS score behind it): the middle
# of the CVSS band GitHub maps back to that label.
MIDPOINT = {
    Severity.CRITICAL: 9.5,
    Severity.HIGH: 8.0,
    Severity.MEDIUM: 5.5,
    Severity.LOW: 2.0,
    Severity.UNKNOWN: 0.0,
}


def vendor_text(vuln: Vulnerability) -> str:
    """The distribution's rating as it writes it (`unimportant`, `Important`), "" without one."""
    rating = vuln.vendor_severity
    if rating is None:
        return ""
    return rating.label or rating.severity.value.lower()


def cvss_text(vuln: Vulnerability) -> str:
    """NVD's CVSS base score (`9.8`), else the CNA's or an ADP's named (`8.8 ADP`), "" with none."""
    sources: tuple[tuple[RatingKind, str], ...] = (("nvd", ""), ("cna", " CNA"), ("adp", " ADP"))
    for kind, suffix in sources:
        rating = vuln.rating(kind)
        if rating is not None and rating.score is not None:
            return f"{rating.score:.1f}{suffix}"
    return ""


def kev_text(vuln: Vulnerability) -> str:
    """The date CISA added the CVE to KEV, "" when it is not listed."""
    return vuln.kev.date_added if vuln.kev is not None else ""


def epss_text(vuln: Vulnerability) -> str:
    """EPSS score and percentile (`0.920 p99`), "" without a score."""
    epss = vuln.epss
    if epss is None:
        return ""
    text = f"{epss.score:.3f}"
    if epss.percentile is not None:
        text += f" p{int(epss.percentile * 100)}"
    return text


def severity_score(vuln: Vulnerability) -> float:
    """The CVSS score behind the finding's severity, or the middle of its band when a label decided
    it (a Debian `unimportant` beside NVD's 9.8 is LOW, so GitHub must not rank it critical).
    """
    if vuln.severity_sources:
        chosen = next((r for r in vuln.severity_sources if r.source == vuln.severity_source), None)
        if chosen is not None and chosen.score is not None:
            return chosen.score
        return MIDPOINT[vuln.severity]
    # Findings imported from another engine carry its severity and CVSS score only.
    return vuln.cvss_score if vuln.cvss_score is not None else MIDPOINT[vuln.severity]
