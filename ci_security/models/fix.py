"""A remediation plan: what `ci-security fix` proposes, with its evidence, and what it looked at and
left alone (with why). Every image reference and dependency entry the planner looked at is either
an update or a skip.

`FixUpdate` is one update line, one branch and one pull/merge request: a base-image bump (a newer
tag), a digest refresh (the same tag, rebuilt: a new digest), or a dependency bump in a manifest.
`before`/`after` count the vulnerabilities of the current and the proposed image by severity (our
own scans); `fixes` and `introduces` are the advisory ids that go away or appear. `content` is the
whole file after the edit (what the commit writes), `original` the file before it, `diff` the unified
diff `git apply` takes.
`candidates` are the images compared, the recommended one among them, each with the reason it was
or was not chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FixKind = Literal["base-image", "digest-refresh", "dependency"]
SEVERITY_KEYS = ("critical", "high", "medium", "low", "unknown")
# How much removing one finding of each severity is worth when candidates are compared.
SEVERITY_WEIGHTS = {"critical": 100, "high": 25, "medium": 5, "low": 1, "unknown": 1}


@dataclass(frozen=True, slots=True, kw_only=True)
class SeverityCounts:
    """Vulnerabilities of one image by severity."""

    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    unknown: int = 0

    @property
    def total(self) -> int:
        return self.critical + self.high + self.medium + self.low + self.unknown

    @property
    def weight(self) -> int:
        return sum(getattr(self, key) * SEVERITY_WEIGHTS[key] for key in SEVERITY_KEYS)

    def as_dict(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in SEVERITY_KEYS}

    def text(self) -> str:
        """`1 critical, 4 high, 9 medium, 2 low` (zeros left out; "none" for an empty image)."""
        parts = [f"{getattr(self, key)} {key}" for key in SEVERITY_KEYS if getattr(self, key)]
        return ", ".join(parts) or "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One image compared for a base-image update: the current one or a candidate."""

    reference: str
    digest: str
    update_type: str  # current, patch, minor, major or digest
    counts: SeverityCounts
    fixes: tuple[str, ...] = ()
    introduces: tuple[str, ...] = ()
    verdict: str = ""  # why it was or was not recommended


@dataclass(frozen=True, slots=True, kw_only=True)
class FixUpdate:
    """One proposed change (see the module docstring)."""

    kind: FixKind
    file: str
    line: int
    current: str
    proposed: str
    update_type: str
    branch: str
    title: str
    diff: str
    content: str = field(repr=False)
    original: str = field(default="", repr=False)  # the file before the edit (what the commit replaces)
    lines: tuple[int, ...] = ()
    before: SeverityCounts | None = None
    after: SeverityCounts | None = None
    fixes: tuple[str, ...] = ()
    introduces: tuple[str, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    package: str = ""  # dependency updates: the package, and its type (pypi, npm, golang)
    package_type: str = ""
    installed: str = ""  # dependency updates: the version the findings are about
    note: str = ""  # what else the user must do (regenerate a lockfile)
    final_stage: bool = False  # base-image updates: the reference is the last stage's FROM
    platform: str = ""  # the platform the images were resolved and scanned for
    executable: bool = False  # the file's mode, kept in the commit


@dataclass(frozen=True, slots=True, kw_only=True)
class FixSkip:
    """A reference or dependency entry the planner looked at and does not change, and why."""

    file: str
    line: int
    reason: str
    reference: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FixPlan:
    updates: tuple[FixUpdate, ...] = ()
    skipped: tuple[FixSkip, ...] = ()
