"""Advisories as OSV describes them (https://ossf.github.io/osv-schema/), typed.

Only what matching and reporting need is kept: identity (id, aliases, upstream, related), dates
and the withdrawn mark, text, severities, references, and per affected package its ecosystem, name,
ranges (GIT ranges are dropped on parsing: they cannot be evaluated without the repository) and
explicit versions. An affected entry that names a package but carries nothing a matcher can
evaluate keeps the reason in `problem`, so a scan that meets it can say so instead of passing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

EventKind = Literal["introduced", "fixed", "last_affected", "limit"]
EVENT_KINDS: tuple[EventKind, ...] = get_args(EventKind)
# OSV's GIT ranges are not kept: they need the repository's commit graph.
RangeType = Literal["SEMVER", "ECOSYSTEM"]
RANGE_TYPES: tuple[RangeType, ...] = get_args(RangeType)


@dataclass(frozen=True, slots=True)
class RangeEvent:
    """One range event: `kind` is introduced, fixed, last_affected or limit."""

    kind: EventKind
    version: str


@dataclass(frozen=True, slots=True)
class AffectedRange:
    """A SEMVER or ECOSYSTEM range: its events in the order the record gives them."""

    type: RangeType
    events: tuple[RangeEvent, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Affected:
    """One affected package of an advisory. `ecosystem` is the full string (`Debian:12`, `PyPI`)."""

    ecosystem: str
    name: str
    ranges: tuple[AffectedRange, ...] = ()
    versions: tuple[str, ...] = ()
    severity: tuple[tuple[str, str], ...] = ()
    # Feed-specific fields kept as JSON text: statuses (Debian urgency, Ubuntu priority), severities.
    database_specific: str | None = None
    ecosystem_specific: str | None = None
    # Why the entry cannot be evaluated (no usable range and no versions, say), or None.
    problem: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Advisory:
    """One OSV record."""

    id: str
    modified: str
    published: str | None = None
    withdrawn: str | None = None
    aliases: tuple[str, ...] = ()
    upstream: tuple[str, ...] = ()
    # Related but not the same vulnerability; RHEL-family and old Debian records list their CVEs only here.
    related: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    severity: tuple[tuple[str, str], ...] = ()
    affected: tuple[Affected, ...] = ()
    references: tuple[str, ...] = ()
    database_specific: str | None = field(default=None, repr=False)
