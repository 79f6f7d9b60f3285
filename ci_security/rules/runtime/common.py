"""What several runtime rules need to read events the same way: the name a program ran as (busybox
applets, `/proc/self/exe`, `#!` interpreters), the program families (shells, interpreters, download
tools), and grouping events into hits.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Iterator
from itertools import groupby

from ci_security.models import RuntimeEvent
from ci_security.rules.runtime.base import RuntimeHit

SHELLS = frozenset(
    {"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "yash", "fish", "csh", "tcsh", "rbash"}
)
INTERPRETERS = frozenset(
    {
        "python",
        "python2",
        "python3",
        "perl",
        "ruby",
        "node",
        "nodejs",
        "php",
        "lua",
        "tclsh",
        "pwsh",
        "deno",
        "bun",
    }
)
DOWNLOADERS = frozenset(
    {
        "curl",
        "wget",
        "nc",
        "ncat",
        "netcat",
        "socat",
        "tftp",
        "ftp",
        "ftpget",
        "aria2c",
        "fetch",
        "lwp-download",
    }
)
MULTICALL = frozenset({"busybox", "toybox"})
EVIDENCE_KEPT = 5


def basename(path: str) -> str:
    return posixpath.basename(path.rstrip("/")) if path else ""


def _family(name: str) -> str:
    """`python3.11` → `python3`, `bash5` stays: version suffixes of interpreters are dropped."""
    for prefix in ("python3", "python2", "python", "perl", "ruby", "php", "lua", "node"):
        if name.startswith(prefix) and name[len(prefix) :].replace(".", "").isdigit():
            return prefix
    return name


def run_name(event: RuntimeEvent) -> str:
    """The name a program ran as: the applet of a multi-call binary (`busybox wget` or a `wget`
    link to busybox), else its argv[0]'s file name, else the executed path's.
    """
    argv = event.argv
    first = basename(argv[0]) if argv else ""
    path_name = "" if event.path == "/proc/self/exe" else basename(event.path or "")
    if first in MULTICALL and len(argv) > 1:
        return _family(basename(argv[1]))
    if path_name in MULTICALL and first:
        return _family(first)
    return _family(first or path_name)


def names(event: RuntimeEvent) -> frozenset[str]:
    """Every name an executed program can be known by: its run name, argv[0], the executed file
    and, for a script, its interpreter (the interpreter after `env`).
    """
    out = {run_name(event)}
    if event.argv:
        out.add(_family(basename(event.argv[0])))
    if event.path and event.path != "/proc/self/exe":
        out.add(_family(basename(event.path)))
    if event.interpreter:
        words = event.interpreter.split()
        program = basename(words[0])
        if program == "env" and len(words) > 1:
            program = basename(words[1])
        out.add(_family(program))
    out.discard("")
    return frozenset(out)


def is_shell(event: RuntimeEvent) -> bool:
    return run_name(event) in SHELLS


def is_interpreter(event: RuntimeEvent) -> bool:
    return run_name(event) in SHELLS | INTERPRETERS


def execs(events: Iterable[RuntimeEvent], *, attempts: bool = False) -> Iterator[RuntimeEvent]:
    """The exec events; with `attempts`, also the ones that failed (a program that was tried)."""
    for event in events:
        if event.kind == "exec" and (attempts or event.result == "ok"):
            yield event


def command_text(event: RuntimeEvent, limit: int = 200) -> str:
    text = " ".join(event.argv) or event.path or event.program
    return text if len(text) <= limit else text[: limit - 1] + "…"


def grouped(
    events: Iterable[RuntimeEvent], key: Callable[[RuntimeEvent], str]
) -> Iterator[tuple[str, list[RuntimeEvent]]]:
    """Events grouped by `key` (subjects in sorted order, events in time order)."""
    ordered = sorted(events, key=lambda e: (key(e), e.sort_key()))
    for subject, members in groupby(ordered, key=key):
        yield subject, list(members)


def hit(subject: str, message: str, events: list[RuntimeEvent], **extra: object) -> RuntimeHit:
    return RuntimeHit(subject, message, tuple(events[:EVIDENCE_KEPT]), len(events), **extra)  # type: ignore[arg-type]


def endpoint(address: str | None, port: int | None) -> str:
    """`192.0.2.1:4444`, `[2001:db8::1]:443`, or the address alone."""
    host = address or "?"
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}" if port is not None else host


def who(event: RuntimeEvent) -> str:
    """The process an event came from, for a message: `wget (pid 5)`."""
    name = (
        run_name(event)
        if event.kind == "exec"
        else _family(basename(event.argv[0] if event.argv else event.program))
    )
    return f"{name or '?'} (pid {event.pid})" if event.pid is not None else name or "?"
