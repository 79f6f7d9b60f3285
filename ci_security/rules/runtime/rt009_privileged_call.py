"""RT009: a privileged or kernel-level system call: ptrace, mount, umount, pivot_root, loading or
removing a kernel module (init_module, finit_module, delete_module), kexec, and creating or joining
namespaces (unshare, setns, clone with CLONE_NEW*). Attempts count, whatever the kernel answered.

Severity is scaled: CRITICAL for module loading and kexec (code into the kernel), HIGH otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.models import RuntimeEvent, Severity
from ci_security.rules.base import RuleMeta
from ci_security.rules.runtime.base import RuntimeContext, RuntimeHit
from ci_security.rules.runtime.common import grouped, hit, who

KERNEL = frozenset({"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load"})


def _subject(event: RuntimeEvent) -> str:
    if event.syscall in ("clone", "clone3", "unshare", "setns"):
        return f"{event.syscall} {event.detail}".strip()
    return f"{event.syscall} {event.path}" if event.path else event.syscall


class Rt009PrivilegedCall:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="RT009",
        kind="runtime",
        title="Privileged system call",
        severity=Severity.HIGH,
        rationale="Application code has no use for debugging other processes, mounting file systems, "
        "loading kernel modules or making namespaces: these are how code breaks out of a container or "
        "hides in it. Container runtimes' default seccomp profiles refuse most of them.",
        remediation="Find the process in the evidence. Keep the default seccomp profile and drop every "
        "capability in production; if a tool in the image needs one of these calls, run it elsewhere.",
        references=(
            "https://attack.mitre.org/techniques/T1611/",
            "https://docs.docker.com/engine/security/seccomp/",
        ),
        scaled="CRITICAL for module loading and kexec",
    )

    def check(self, context: RuntimeContext) -> Iterator[RuntimeHit]:
        found = [e for e in context.run.events if e.kind == "privileged"]
        for subject, events in grouped(found, _subject):
            first = events[0]
            outcome = "" if first.result == "ok" else f" (failed: {first.result})"
            severity = Severity.CRITICAL if first.syscall in KERNEL else Severity.HIGH
            yield hit(subject, f"{who(first)} called {subject}{outcome}", events, severity=severity)
