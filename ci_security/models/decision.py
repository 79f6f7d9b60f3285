"""The policy decision: whether the build passes, and exactly why.

Every report and the exit code are derived from one `Decision`, so they can never disagree. It lists
the findings that fail the build (`violations`), the findings the policy accepted and why
(`suppressed`: an ignore entry with its reason and expiry, or a VEX statement), the ignore entries
that have expired and therefore no longer suppress anything, and, when a baseline was given, which
findings are new.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ci_security.models.vulnerability import Severity

# What a violation is about: a vulnerability, misconfiguration or runtime finding, or the image itself.
ViolationKind = Literal["vulnerability", "misconfiguration", "runtime", "image"]
# Who accepted a finding: a policy ignore entry (or `checks.disable`), a VEX statement, or an inline
# suppression comment in the manifest.
SuppressionKind = Literal["ignore", "vex", "inline"]
DecisionResult = Literal["pass", "fail"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """One reason the build fails. `fingerprint` names the finding (a vulnerability or
    misconfiguration) or is "" for a rule about the image itself (`images.require_digest`).
    """

    rule: str  # the policy key that decided it: "fail_on", "images.require_digest", …
    message: str
    severity: Severity
    fingerprint: str = ""
    kind: ViolationKind = "vulnerability"


@dataclass(frozen=True, slots=True, kw_only=True)
class Suppression:
    """A finding the policy accepted: by an ignore entry (`source` is `file:line`) or a VEX statement."""

    fingerprint: str
    kind: SuppressionKind
    reason: str
    source: str
    expires: str | None = None
    justification: str | None = None  # OpenVEX justification, when one was given


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpiredIgnore:
    """An ignore entry past its expiry date: it suppresses nothing and the report says so."""

    id: str
    expires: str
    reason: str
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The verdict on one scan result under one policy."""

    passed: bool
    violations: tuple[Violation, ...] = ()
    suppressed: tuple[Suppression, ...] = ()
    expired: tuple[ExpiredIgnore, ...] = ()
    # Fingerprints of findings absent from the baseline; None when no baseline was given.
    new: frozenset[str] | None = None
    policy_source: str | None = None
    summary: str = ""

    @property
    def result(self) -> DecisionResult:
        return "pass" if self.passed else "fail"

    def suppression_of(self, fingerprint: str) -> Suppression | None:
        return next((s for s in self.suppressed if s.fingerprint == fingerprint), None)

    def is_new(self, fingerprint: str) -> bool | None:
        """True/False against the baseline, None when there is none."""
        return None if self.new is None else fingerprint in self.new
