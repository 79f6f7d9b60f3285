"""Start the sandbox, hold it until its isolation is checked, let the image run for the duration, and
stop everything it started.

1. The chain (`isolation` module docstring) is started in a new session with two pipes for
   bubblewrap: it reports the sandbox's first process on `--info-fd` once the namespaces exist, and
   waits on `--block-fd` after its mounts are made, before it runs anything of the image.
2. `isolation.verify` checks that process from outside (an optional `on_isolated` callback too),
   and only then is the block released. A sandbox that fails the check, or a chain that dies before
   it is ready, is killed and the run refused with `IsolationError`: the image's code never ran.
3. The run lasts until every process of the sandbox has exited or `duration` seconds have passed,
   or the tracer's output reaches `sandbox-trace-bytes`; it is polled, never waited on blindly.
4. At the end, the processes still alive in the sandbox's pid namespace are listed (their pid
   inside, program and arguments), and its first process is killed, which makes the kernel kill
   every process in the namespace. The tracer then exits by itself; if it does not within 15 s it
   is killed too. A last look at /proc makes sure nothing of the sandbox is left.

The image's standard output and error go to files in the private directory (bounded by the file
size limit); their first bytes are kept for the report.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import select
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ci_security import limits
from ci_security.models import IsolationStep
from ci_security.sandbox.command import SandboxCommand
from ci_security.sandbox.isolation import (
    Identity,
    Tools,
    bwrap_args,
    diagnose,
    no_input,
    prlimit_args,
    strace_args,
    tool_env,
    verify,
)

OUTPUT_KEPT = 16 << 10
_POLL = 0.05
_SWEEP_POLL = 0.005
_READY_TIMEOUT = 120.0
_TRACER_GRACE = 15.0


@dataclass(frozen=True, slots=True)
class Execution:
    """What the supervisor knows at the end of a run (the trace is read afterwards)."""

    trace: Path
    steps: tuple[IsolationStep, ...]
    end: str  # "exited", "duration", "trace_limit"
    elapsed: float
    alive: tuple[tuple[int, str, tuple[str, ...]], ...]
    stdout: str
    stderr: str
    leftovers: int  # processes found and killed after the tracer ended (should be 0)


def _head(path: Path, size: int = OUTPUT_KEPT) -> str:
    try:
        with open(path, "rb") as f:
            return f.read(size).decode("utf-8", "replace")
    except OSError:
        return ""


def _read_info(fd: int, proc: subprocess.Popen[bytes], timeout: float) -> dict[str, object] | None:
    """Bubblewrap's `--info-fd` JSON object; None if the chain ended, or said nothing whole, within
    `timeout`. The pipe is not waited on to close: the tracer keeps a copy of it open.
    """
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], _POLL)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
            if len(data) > 65536:
                return None
            try:
                info = json.loads(data.decode("utf-8", "replace"))
            except ValueError:
                continue  # not whole yet
            return info if isinstance(info, dict) else None
        elif proc.poll() is not None:
            break
    return None


# The `read` system call's number, by machine: how /proc/PID/syscall shows a process blocked in it.
_READ_SYSCALL = {"x86_64": 0, "aarch64": 63, "riscv64": 63, "loongarch64": 63, "s390x": 3, "ppc64le": 3}


def _blocked_on(pid: int, fd: int) -> bool:
    """True when `pid` is blocked reading file descriptor `fd` (bubblewrap's `--block-fd`: every
    mount and namespace is made by then, and nothing of the image has run).
    """
    try:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        fields = []
    number = _READ_SYSCALL.get(platform.machine())
    if fields and number is not None and fields[0].isdigit():
        return int(fields[0]) == number and len(fields) > 1 and int(fields[1], 16) == fd
    try:
        wchan = Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False
    return "pipe_read" in wchan


def _wait_blocked(pid: int, fd: int, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _blocked_on(pid, fd):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    return False


def _pid_namespace(pid: int) -> str | None:
    try:
        return str(Path(f"/proc/{pid}/ns/pid").readlink())
    except OSError:
        return None


def members(first: int, namespace: str) -> list[tuple[int, int, str, tuple[str, ...]]]:
    """Processes in the pid namespace `namespace` other than its first process `first`: (our pid,
    pid inside, program, argv), read from /proc.
    """
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == first:
            continue
        pid = int(entry.name)
        if _pid_namespace(pid) != namespace:
            continue
        inner = pid
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("NSpid:"):
                    inner = int(line.split()[-1])
        argv: tuple[str, ...] = ()
        with contextlib.suppress(OSError):
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()[:8192]
            argv = tuple(part.decode("utf-8", "surrogateescape") for part in raw.split(b"\0") if part)
        program = ""
        with contextlib.suppress(OSError):
            program = str(Path(f"/proc/{pid}/exe").readlink())
        found.append((pid, inner, program, argv))
    return found


def _alive(pid: int) -> bool:
    """True when `pid` exists and is not a zombie (a zombie has ended; its parent reaps it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _remaining(first: int, namespace: str | None, monitor: int | None, uid: int | None) -> list[int]:
    """Processes of the sandbox still alive: in its pid namespace, its monitor, and, when the sandbox
    has a uid of its own, any process of that uid.
    """
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        mine = pid in (first, monitor) or (namespace is not None and _pid_namespace(pid) == namespace)
        if not mine and uid is not None:
            with contextlib.suppress(OSError):
                mine = entry.stat(follow_symlinks=False).st_uid == uid
        if mine and _alive(pid):
            found.append(pid)
    return found


def _sweep(first: int, namespace: str | None, monitor: int | None, uid: int | None, grace: float) -> int:
    """Kill what is left of the sandbox and wait until it is gone; how many processes were still
    alive `grace` seconds after the sweep began (0 when the kernel's namespace kill did its job).
    """
    began = time.monotonic()
    stragglers = 0
    while time.monotonic() - began < grace + 10.0:
        left = _remaining(first, namespace, monitor, uid)
        if not left:
            return stragglers
        if time.monotonic() - began >= grace:
            stragglers = max(stragglers, len(left))
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(_SWEEP_POLL)
    return stragglers


def _parent(pid: int) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return None


def execute(
    tools: Tools,
    identity: Identity,
    rootfs: Path,
    command: SandboxCommand,
    workdir: Path,
    *,
    duration: float,
    on_isolated: Callable[[int], None] | None = None,
) -> Execution:
    """Run `command` in the sandbox around `rootfs` (see the module docstring); `workdir` is the
    private directory the sandbox's user may write (the trace, the output).
    """
    trace = workdir / "trace"
    out_path, err_path = workdir / "stdout", workdir / "stderr"
    info_r, info_w = os.pipe()
    block_r, block_w = os.pipe()
    argv = [
        tools.setpriv,
        "--pdeathsig",
        "KILL",
        "--",
        *strace_args(tools, trace),
        "--",
        *prlimit_args(tools, identity),
        "--",
        *bwrap_args(tools, rootfs=rootfs, command=command, info_fd=info_w, block_fd=block_r),
    ]
    proc: subprocess.Popen[bytes] | None = None
    first: int | None = None
    namespace: str | None = None
    monitor: int | None = None
    released = swept = False
    try:
        with open(out_path, "wb") as out, open(err_path, "wb") as err, no_input() as stdin:
            proc = subprocess.Popen(
                argv,
                stdin=stdin,
                stdout=out,
                stderr=err,
                pass_fds=(info_w, block_r),
                env=tool_env(),
                user=identity.uid,
                group=identity.gid,
                extra_groups=[] if identity.uid is not None else None,
                start_new_session=True,
            )
        block_number = block_r
        os.close(info_w)
        os.close(block_r)
        info_w = block_r = -1
        info = _read_info(info_r, proc, _READY_TIMEOUT)
        child = info.get("child-pid") if info else None
        if (
            not isinstance(child, int)
            or child <= 0
            or not _wait_blocked(child, block_number, proc, _READY_TIMEOUT)
        ):
            _stop(proc)
            raise diagnose(_head(err_path), tools, identity)
        first = child
        namespace = _pid_namespace(child)
        monitor = _parent(child)
        steps = verify(child, rootfs, identity, tools)
        if on_isolated is not None:
            on_isolated(child)
        os.write(block_w, b"1")
        released = True
        start = time.monotonic()
        trace_limit = limits.active().sandbox_trace_bytes
        end = "exited"
        while proc.poll() is None:
            left = duration - (time.monotonic() - start)
            if left <= 0:
                end = "duration"
                break
            with contextlib.suppress(OSError):
                if trace.stat().st_size > trace_limit:
                    end = "trace_limit"
                    break
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=min(_POLL, left))
        alive: list[tuple[int, str, tuple[str, ...]]] = []
        if proc.poll() is None and namespace is not None:
            alive = [(inner, program, args) for _, inner, program, args in members(child, namespace)]
        elapsed = time.monotonic() - start
        # The first process's death makes the kernel kill the whole pid namespace.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child, signal.SIGKILL)
        _stop(proc, grace=_TRACER_GRACE)
        leftovers = _sweep(child, namespace, monitor, identity.uid, grace=2.0)
        swept = True
        return Execution(
            trace=trace,
            steps=steps,
            end=end,
            elapsed=elapsed,
            alive=tuple(sorted(alive)),
            stdout=_head(out_path),
            stderr=_head(err_path),
            leftovers=leftovers,
        )
    finally:
        if not released and proc is not None:
            # bubblewrap takes its end of the block pipe closing as the go-ahead: before the pipe is
            # closed, every process of the chain is killed and gone, so the image's code never runs.
            _kill_chain(proc, first, namespace, monitor, identity.uid)
        for fd in (info_r, info_w, block_r, block_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        if proc is not None and proc.poll() is None:
            _stop(proc)
        if first is not None and not swept:
            _sweep(first, namespace, monitor, identity.uid, grace=0.0)


def _descendants(root: int) -> set[int]:
    """`root` and every process below it, from the parent links in /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            parent = _parent(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found = {root}
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), ()):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def _kill_chain(
    proc: subprocess.Popen[bytes],
    first: int | None,
    namespace: str | None,
    monitor: int | None,
    uid: int | None,
) -> None:
    """Kill the whole chain (the tracer, bubblewrap, the held sandbox) and wait until none of it is
    alive, for at most 30 s.
    """
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        alive = {pid for pid in _descendants(proc.pid) if _alive(pid)}
        if first is not None:
            alive |= set(_remaining(first, namespace, monitor, uid))
        if not alive:
            break
        for pid in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=_SWEEP_POLL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=1.0)


def _stop(proc: subprocess.Popen[bytes], grace: float = 0.0) -> None:
    """Wait up to `grace` seconds for the chain to end, then kill it (its session: setpriv's death
    signal and bubblewrap's --die-with-parent take the rest down).
    """
    if grace:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)


__all__ = ["Execution", "execute", "members"]
