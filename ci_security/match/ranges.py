"""OSV range evaluation (https://ossf.github.io/osv-schema/#evaluation).

A version is affected when it lies in any range or is listed in `versions[]`. Within a range the
events are sorted by the ecosystem's ordering (SEMVER ranges by SemVer) and walked: `introduced`
at or below the version opens, `fixed` at or below it closes, `last_affected` below it closes;
`limit` events bound the range from above. `introduced: "0"` is before everything and `limit: "*"`
after everything.

Data is not always clean: an event whose version the scheme cannot read is skipped, and a range
whose `introduced` cannot be read is ignored (rather than guessed open). The installed version
itself must be readable for ranges to apply; otherwise only an exact `versions[]` entry matches.
The fixed version reported is the smallest `fixed` event above the installed version in a range
that contains it.

A range that could not be evaluated is never a silent "not affected": when the entry does not
match, `evaluate` says why in `problems` (the installed version the ordering cannot read, an
`introduced` it cannot read, an ECOSYSTEM range in an ecosystem without an ordering), and the
runner turns that into a partial-scan warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from ci_security.models import AffectedRange
from ci_security.vulndb.versions.base import InvalidVersion, VersionScheme
from ci_security.vulndb.versions.registry import SCHEMES

_MIN: tuple[int] = (0,)
_MAX: tuple[int] = (2,)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The installed version is affected; `fixed` is the version that fixes it here, if any."""

    fixed: str | None
    by: Literal["range", "versions"]


def _key(scheme: VersionScheme, version: str) -> Any:
    return (1, scheme.key(version))


@dataclass(frozen=True, slots=True)
class Problem:
    """Why an entry could not be fully evaluated: `kind` is "version" (the installed version cannot
    be ordered) or "entry" (the advisory's data cannot be).
    """

    kind: Literal["version", "entry"]
    detail: str


def _range_verdict(
    rng: AffectedRange, scheme: VersionScheme, vkey: Any, problems: list[Problem] | None = None
) -> tuple[bool, str | None]:
    events: list[tuple[Any, int, str, str]] = []
    for position, event in enumerate(rng.events):
        if event.kind == "introduced" and event.version == "0":
            key: Any = _MIN
        elif event.kind == "limit" and event.version == "*":
            key = _MAX
        else:
            try:
                key = _key(scheme, event.version)
            except InvalidVersion:
                if event.kind == "introduced":
                    if problems is not None:
                        problems.append(
                            Problem(
                                "entry",
                                f"introduced {event.version!r} cannot be read as a {scheme.name} version",
                            )
                        )
                    return False, None
                continue
        events.append((key, position, event.kind, event.version))
    limits = [key for key, _, kind, _ in events if kind == "limit"]
    if limits and not any(vkey < limit for limit in limits):
        return False, None
    events.sort(key=lambda item: (item[0], item[1]))
    affected = False
    for key, _, kind, _ in events:
        if kind == "introduced":
            if vkey >= key:
                affected = True
        elif kind == "fixed":
            if vkey >= key:
                affected = False
        elif kind == "last_affected" and vkey > key:
            affected = False
    if not affected:
        return False, None
    fixed = next((version for key, _, kind, version in events if kind == "fixed" and key > vkey), None)
    return True, fixed


def evaluate(
    version: str,
    ranges: Sequence[AffectedRange],
    versions: Sequence[str],
    ecosystem_scheme: VersionScheme | None,
    semver_scheme: VersionScheme,
    problems: list[Problem] | None = None,
) -> Verdict | None:
    """Whether `version` is affected by one advisory entry (see the module docstring). When it is
    not and part of the entry could not be evaluated, the reasons are added to `problems`.
    """
    keys: dict[str, Any] = {}
    hits: list[tuple[Any, str | None]] = []
    found: list[Problem] = []
    for rng in ranges:
        scheme = semver_scheme if rng.type == "SEMVER" else ecosystem_scheme
        if scheme is None:
            found.append(
                Problem("entry", "an ECOSYSTEM range in an ecosystem without a version ordering here")
            )
            continue
        if scheme.name not in keys:
            try:
                keys[scheme.name] = _key(scheme, version)
            except InvalidVersion:
                keys[scheme.name] = None
                found.append(Problem("version", f"{version!r} cannot be read as a {scheme.name} version"))
        vkey = keys[scheme.name]
        if vkey is None:
            continue
        hit, fixed = _range_verdict(rng, scheme, vkey, found)
        if hit:
            hits.append((scheme, fixed))
    if hits:
        fixes = [(_key(scheme, fixed), fixed) for scheme, fixed in hits if fixed is not None]
        try:
            best = min(fixes)[1] if fixes else None
        except TypeError:  # an entry mixing SEMVER and ECOSYSTEM ranges: keys do not compare
            best = fixes[0][1]
        return Verdict(best, "range")
    if versions:
        if version in versions:
            return Verdict(None, "versions")
        if ecosystem_scheme is not None:
            try:
                vkey = ecosystem_scheme.key(version)
            except InvalidVersion:
                vkey = None
            if vkey is not None and vkey in _listed_keys(ecosystem_scheme.name, tuple(versions)):
                return Verdict(None, "versions")
    if problems is not None:
        problems.extend(found)
    return None


@lru_cache(maxsize=4096)
def _listed_keys(scheme_name: str, versions: tuple[str, ...]) -> frozenset[Any]:
    """The keys of an advisory's explicit versions (1.0 and 1.0.0 are one PyPI version), built once
    per advisory entry rather than once per installed package checked against it.
    """
    scheme = SCHEMES[scheme_name]
    keys = set()
    for listed in versions:
        try:
            keys.add(scheme.key(listed))
        except InvalidVersion:
            continue
    return frozenset(keys)
