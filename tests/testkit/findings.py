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
