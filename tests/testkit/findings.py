"""Vulnerability findings for reporter and policy tests: a Debian package in layer 0 of the image,
matched directly against an OSV record, with every field a reporter reads filled in."""

from __future__ import annotations

from ci_security.models import LayerRef, Location, MatchDetail, Package, Severity, Vulnerability


def deb_vuln(
    vid: str,
    name: str,
    severity: Severity,
    score: float | None = None,
    fixed: str | None = "2.0",
    location: Location | None = None,
    fp: str | None = None,
    aliases: tuple[str, ...] | None = None,
) -> Vulnerability:
    """`vid` in deb package `name` 1.0; the fingerprint defaults to "<vid>-<name>"."""
    pkg = Package(
        name=name,
        version="1.0",
        type="deb",
        purl=f"pkg:deb/debian/{name}@1.0",
        path="/var/lib/dpkg/status",
        layer=LayerRef(index=0, digest="sha256:l", diff_id="sha256:d"),
    )
    return Vulnerability(
        id=vid,
        aliases=("DEBIAN-" + vid,) if aliases is None else aliases,
        package=pkg,
        fixed_version=fixed,
        status="fixed" if fixed else "affected",
        severity=severity,
        cvss_score=score,
        severity_source="x",
        title=f"{vid} title",
        description="details",
        references=("https://example.org/" + vid,),
        location=location,
        match=MatchDetail(
            matcher="dpkg", kind="direct", ecosystem="Debian:12", name=name, version="1.0", source="osv:X"
        ),
        fingerprint=fp or f"{vid}-{name}",
    )


def rated(vuln: Vulnerability, *, order_vendor_first: bool = True) -> Vulnerability:
    """`vuln` rated as Debian rates zlib's CVE-2023-45853 (`unimportant`) beside NVD's 9.8 and CISA
    ADP's 8.8, listed in KEV and scored by EPSS: the severity is the vendor's (LOW) by default, NVD's
    (CRITICAL) with `order_vendor_first=False`."""
    from dataclasses import replace

    from ci_security.models import EpssScore, KevEntry, SeverityRating

    vendor = SeverityRating(
        kind="vendor", severity=Severity.LOW, source="DEBIAN-X database_specific", label="unimportant"
    )
    nvd = SeverityRating(
        kind="nvd",
        severity=Severity.CRITICAL,
        source=f"NVD CVSS_V3 {vuln.id} (nvd@nist.gov)",
        score=9.8,
        vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    )
    adp = SeverityRating(
        kind="adp",
        severity=Severity.HIGH,
        source=f"ADP CVSS_V3 {vuln.id} (CISA-ADP)",
        score=8.8,
        vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
    )
    chosen = vendor if order_vendor_first else nvd
    return replace(
        vuln,
        severity=chosen.severity,
        severity_source=chosen.source,
        cvss_score=9.8,
        cvss_vector=nvd.vector,
        severity_sources=(vendor, nvd, adp) if order_vendor_first else (nvd, adp, vendor),
        kev=KevEntry(date_added="2023-09-13", due_date="2023-10-04", ransomware="Unknown"),
        epss=EpssScore(score=0.91963, percentile=0.99214, date="2026-09-29"),
    )
