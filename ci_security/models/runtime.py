"""The dynamic scan: what the image did when its entrypoint ran in the sandbox, and what the runtime
rules made of it.

A `RuntimeEvent` is one thing one process of the image did, as the tracer saw it: a program run, a
network connection attempt, a file opened for writing, a privileged system call, a process that
ended or was still running. `time` is seconds since the entrypoint started, `pid` and `ppid` are the
process ids inside the sandbox's own pid namespace (what `ps` in the container would show), and
`result` is `ok` or the error the kernel returned (`ENETUNREACH`: there is no network). Every text
field holds what the image chose (program names, arguments, paths): reporters pass it through their
sink's sanitiser.

`SandboxRun` says how the run went: what was run, as whom, for how long, how it ended, the isolation
in force (`IsolationStep`, each checked before the entrypoint was started) and the limits applied.
A `RuntimeFinding` is one runtime rule's verdict on one subject (a destination, a path, a program),
with up to a few events as evidence and the number of events that matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ci_security.models.vulnerability import Location, Severity

RuntimeEventKind = Literal[
    "exec",
    "connect",
    "send",
    "bind",
    "file_write",
    "file_read",
    "chmod",
    "privileged",
    "fork_failed",
    "exit",
    "alive",
]
# How a run ended: its processes all exited, the duration ran out, the tracer's output reached its
# limit, or the run was stopped because too many events were recorded.
RunEnd = Literal["exited", "duration", "trace_limit"]
IsolationStatus = Literal["ok", "unavailable"]
# What the policy expects of the image's first process: to exit (a batch job), to keep running (a
# service), or nothing.
RuntimeExpect = Literal["exit", "running", "any"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeEvent:
    """One observed action of one process of the image (see the module docstring)."""

    time: float
    pid: int | None
    ppid: int | None
    kind: RuntimeEventKind
    syscall: str
    program: str
    argv: tuple[str, ...] = ()
    path: str | None = None
    address: str | None = None  # an IP address, or a Unix socket's path
    port: int | None = None
    family: str | None = None  # "inet", "inet6", "unix"
    name: str | None = None  # the name a DNS query asked for, when the query was seen
    mode: int | None = None  # chmod mode bits
    interpreter: str | None = None  # for a script executed: its `#!` interpreter (the kernel runs it)
    detail: str = ""  # flags, namespaces, exit status: what the call was, in strace's words
    result: str = "ok"

    def sort_key(self) -> tuple[float, int, str, str]:
        return (self.time, self.pid or 0, self.kind, self.path or self.address or "")


@dataclass(frozen=True, slots=True, kw_only=True)
class IsolationStep:
    """One isolation measure of the sandbox and how it was found when checked before the run."""

    name: str
    status: IsolationStatus
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxRun:
    """How the dynamic run went (see the module docstring). `files_read` are the files of the image
    that the process tree opened, mapped or executed, as real paths (symlinks resolved, no leading
    slash); `events_total` counts every event, including those past the `sandbox-events` limit,
    which are not kept.
    """

    command: tuple[str, ...]
    pid: int | None  # the entrypoint's pid inside the sandbox
    user: str
    workdir: str
    env_names: tuple[str, ...]
    duration_limit: float
    elapsed: float
    end: RunEnd
    exit_code: int | None = None
    signal: str | None = None
    processes: int = 0
    alive_at_end: int = 0
    events: tuple[RuntimeEvent, ...] = ()
    events_total: int = 0
    isolation: tuple[IsolationStep, ...] = ()
    limits: tuple[tuple[str, str], ...] = ()
    files_read: tuple[str, ...] = ()
    stdout: str = ""
    stderr: str = ""
    tracer: str = ""

    @property
    def timed_out(self) -> bool:
        return self.end == "duration"


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeFinding:
    """One runtime rule's verdict on one subject, with evidence."""

    rule_id: str
    title: str
    severity: Severity
    message: str
    subject: str
    evidence: tuple[RuntimeEvent, ...]
    count: int
    remediation: str = ""
    references: tuple[str, ...] = ()
    location: Location | None = None
    fingerprint: str = ""

    @property
    def path(self) -> str:
        """The evidence path, for policy ignore entries scoped by `paths` ("" when there is none)."""
        return next((e.path for e in self.evidence if e.path), "") or ""

    def sort_key(self) -> tuple[int, str, str, str]:
        return (-self.severity.rank, self.rule_id, self.subject, self.fingerprint)
