"""RT003: a shell was started by an entrypoint that is not itself a shell.

The entrypoint is the first program the sandbox ran; it is a shell when it runs as one (`sh -c`,
`bash`) or is a script whose `#!` line names one. When it is not (a Python, Java or Go service), a
shell started later by any of its processes is a finding: services rarely need one, and remote code
execution almost always starts one (`system()`, `subprocess(shell=True)`, a reverse shell).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.models import Severity
from ci_security.rules.base import RuleMeta
from ci_security.rules.runtime.base import RuntimeContext, RuntimeHit
from ci_security.rules.runtime.common import SHELLS, command_text, execs, grouped, hit, names, run_name


class Rt003ShellSpawned:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="RT003",
        kind="runtime",
        title="Shell started by a non-shell entrypoint",
        severity=Severity.MEDIUM,
        rationale="A service image whose process starts a shell is either shelling out where it should "
        "not (command injection waits there) or running somebody else's commands. Entrypoints that "
        "are shell scripts start shells by design and are not judged by this rule.",
        remediation="Find what started the shell (the evidence names the parent process). Replace "
        "`system()`/`shell=True` calls with direct execution of the program, or, if the shell is "
        "legitimate, accept the finding with a policy ignore entry.",
        references=("https://attack.mitre.org/techniques/T1059/004/",),
    )

    def check(self, context: RuntimeContext) -> Iterator[RuntimeHit]:
        ran = list(execs(context.run.events))
        if not ran:
            return
        entrypoint = ran[0]
        if names(entrypoint) & SHELLS:
            return
        shells = [e for e in ran[1:] if run_name(e) in SHELLS]
        for subject, events in grouped(shells, run_name):
            first = events[0]
            yield hit(
                subject,
                f"{subject} started (pid {first.pid}, parent pid {first.ppid}) by an entrypoint that "
                f"is not a shell ({command_text(entrypoint, 80)}): {command_text(first)}",
                events,
            )
