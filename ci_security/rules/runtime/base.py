"""The runtime-rule contract: a rule is one small class with data metadata (`RuleMeta`, kind
"runtime") and a `check` method that reads one run and yields hits.

A rule never builds findings and knows nothing of the policy's suppressions: it says what it found
(`RuntimeHit`: a subject such as a destination, a path or a program, a message, the events that show
it and how many there were), and `runner.py` turns hits into `RuntimeFinding`s with fingerprints and
the Dockerfile location. What the policy expects of the run (`runtime.expect`, `exit_codes`,
`allowed_destinations`) reaches the rules through `RuntimeContext`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Protocol

from ci_security.destinations import Destination
from ci_security.models import RuntimeEvent, SandboxRun, Severity
from ci_security.models.runtime import RuntimeExpect
from ci_security.rules.base import RuleMeta


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeContext:
    """One run and what the policy expects of it."""

    run: SandboxRun
    expect: RuntimeExpect = "any"
    exit_codes: tuple[int, ...] = (0,)
    allowed: tuple[Destination, ...] = ()


@dataclass(frozen=True, slots=True)
class RuntimeHit:
    """One subject a rule fires on. `subject` is part of the fingerprint (a destination, a path, a
    program); `events` are the evidence (the runner keeps the first few) and `count` how many events
    matched. `severity` is set only by rules whose `meta.scaled` says how they rate a hit.
    """

    subject: str
    message: str
    events: tuple[RuntimeEvent, ...]
    count: int
    severity: Severity | None = None


class RuntimeRule(Protocol):
    meta: ClassVar[RuleMeta]

    def check(self, context: RuntimeContext) -> Iterable[RuntimeHit]:
        """Every hit in one run."""
        ...
