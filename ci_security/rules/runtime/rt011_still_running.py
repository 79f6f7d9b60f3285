"""RT011: the image was still running at the end although the policy says it is a batch job
(`runtime.expect: exit`): its entrypoint had not exited when the duration ran out, or it had, but
left processes running (a daemon that outlives its job).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.models import Severity
from ci_security.rules.base import RuleMeta
from ci_security.rules.runtime.base import RuntimeContext, RuntimeHit
from ci_security.rules.runtime.common import command_text, hit


class Rt011StillRunning:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="RT011",
        kind="runtime",
        title="Still running when the image should have exited",
        severity=Severity.MEDIUM,
        rationale="A batch image that does not finish, or finishes but leaves a process behind, is doing "
        "something its job does not: a hang at best, a miner or a backdoor that daemonised at worst.",
        remediation="Find the processes in the evidence. If the image is a service, set "
        "`runtime.expect: running` (or `any`) in the policy; if the job needs longer, raise "
        "`runtime.duration`.",
    )

    def check(self, context: RuntimeContext) -> Iterator[RuntimeHit]:
        if context.expect != "exit":
            return
        run = context.run
        alive = [e for e in run.events if e.kind == "alive"]
        if run.end == "duration":
            shown = ", ".join(command_text(e, 60) for e in alive[:3])
            yield hit(
                "still running",
                f"the entrypoint was still running after {run.duration_limit:g} s "
                f"({run.alive_at_end} processes: {shown})",
                alive,
            )
        elif alive:
            shown = ", ".join(command_text(e, 60) for e in alive[:3])
            yield hit(
                "left running",
                f"the entrypoint exited but left {len(alive)} processes running: {shown}",
                alive,
            )
