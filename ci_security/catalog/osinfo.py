"""Combining release-file facts into one `OSInfo`, and the fallback for images without them.

os-release decides the family; another file of the same family may refine the version when it
extends it (`12` → `12.15`, `7` → `7.9.2009`). Distroless images may carry no release file at all but
do carry dpkg `status.d` entries: they are Debian, and `base-files`' major version is the release.
"""

from __future__ import annotations

from collections.abc import Iterable

from ci_security.models import OSInfo, Package

_PRIMARY_ORDER = (
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/alpine-release",
    "/etc/redhat-release",
    "/etc/centos-release",
    "/etc/oracle-release",
    "/etc/debian_version",
)


def merge_os(facts: Iterable[OSInfo]) -> OSInfo | None:
    by_source = {fact.source: fact for fact in facts}
    primary = next((by_source[s] for s in _PRIMARY_ORDER if s in by_source), None)
    if primary is None:
        return None
    version = primary.version
    for fact in by_source.values():
        if fact.family != primary.family or not fact.version:
            continue
        if version is None or (fact.version.startswith(version + ".") and len(fact.version) > len(version)):
            version = fact.version
    name = primary.name or next((f.name for f in by_source.values() if f.name), None)
    codename = primary.codename or next(
        (f.codename for f in by_source.values() if f.family == primary.family and f.codename), None
    )
    # Content sets of every layer Red Hat built (a UBI base and the image built on it record theirs).
    content_sets = tuple(sorted({c for f in by_source.values() for c in f.content_sets}))
    return OSInfo(
        family=primary.family,
        version=version,
        name=name,
        source=primary.source,
        codename=codename,
        content_sets=content_sets if primary.family == "redhat" else (),
    )


def infer_os(packages: Iterable[Package]) -> OSInfo | None:
    """Debian from dpkg evidence when no release file exists (distroless images)."""
    debs = [p for p in packages if p.type == "deb"]
    if not debs:
        return None
    version = None
    for pkg in debs:
        if pkg.name == "base-files":
            major = pkg.version.split(":")[-1].split(".")[0].split("+")[0]
            version = major if major.isdigit() else None
    return OSInfo(family="debian", version=version, name=None, source="dpkg (no release file)")
