"""RT008: the image set the setuid or setgid bit on a file (chmod, fchmod, fchmodat)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.models import Severity
from ci_security.rules.base import RuleMeta
from ci_security.rules.runtime.base import RuntimeContext, RuntimeHit
from ci_security.rules.runtime.common import grouped, hit, who


class Rt008SetuidBit:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="RT008",
        kind="runtime",
        title="Setuid or setgid bit set",
        severity=Severity.HIGH,
        rationale="A program made setuid or setgid at run time is a way back to the file owner's "
        "privileges for anyone who can run it: a classic privilege-escalation backdoor.",
        remediation="Nothing in a running container should need this. Find the process in the evidence; "
        "run containers with `allowPrivilegeEscalation: false` and the filesystem read-only.",
        references=("https://attack.mitre.org/techniques/T1548/001/",),
    )

    def check(self, context: RuntimeContext) -> Iterator[RuntimeHit]:
        found = [
            e for e in context.run.events if e.kind == "chmod" and e.mode is not None and e.mode & 0o6000
        ]
        for subject, events in grouped(found, lambda e: e.path or "?"):
            first = events[0]
            bits = "setuid" if (first.mode or 0) & 0o4000 else "setgid"
            yield hit(
                subject, f"{who(first)} set the {bits} bit on {subject} (mode {first.mode or 0:04o})", events
            )
