"""RT010: the image started processes until the sandbox's process limit refused more (fork, clone
or vfork failed with EAGAIN): a fork bomb, or a program that would exhaust a node's process table.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.models import Severity
from ci_security.rules.base import RuleMeta
from ci_security.rules.runtime.base import RuntimeContext, RuntimeHit
from ci_security.rules.runtime.common import hit, who


class Rt010ForkStorm:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="RT010",
        kind="runtime",
        title="Fork storm stopped by the process limit",
        severity=Severity.MEDIUM,
        rationale="A process that keeps forking until the kernel refuses takes the node's process table "
        "with it when nothing limits it: a denial of service of every other workload on the node.",
        remediation="Set a pids limit for the container (Kubernetes `podPidsLimit`, `docker run "
        "--pids-limit`) and find out why the image forks without bound.",
        references=("https://attack.mitre.org/techniques/T1499/",),
    )

    def check(self, context: RuntimeContext) -> Iterator[RuntimeHit]:
        refused = [e for e in context.run.events if e.kind == "fork_failed"]
        if refused:
            started = context.run.processes
            yield hit(
                "process limit",
                f"{len(refused)} forks refused by the process limit after {started} processes were "
                f"started; first by {who(refused[0])}",
                refused,
            )
