"""Turn the tracer's system calls into the image's timeline: `RuntimeEvent`s, the files it read, and
how its first process ended.

The trace starts with the sandbox's own set-up: the limit setter and bubblewrap (`setup_programs`),
whose mounts, namespaces and pivot_root are ours and never events. A process is the image's from the
moment it successfully executes a program that is not one of those, and every process it starts is
the image's too. Events are only made for the image's processes, with their pids inside the
sandbox's pid namespace (paired with strace's pids through `--decode-pids=pidns`).

Per process the builder follows what later calls need: the program and arguments it runs (inherited
across fork, replaced by execve), its working directory (so `openat(AT_FDCWD, "passwd")` after
`chdir("/etc")` is `/etc/passwd`), and the peers of its connected sockets (so a DNS query sent on a
connected socket is known as one). A child whose first calls are printed before its parent's clone
returns is held back (bounded) until the parent's line pairs it.

What becomes an event (`RuntimeEvent.kind`): `exec` (also failed attempts, once per program name
and process: a shell's PATH search is one attempt), `connect`, `send` (a datagram with an explicit
address, or a DNS query), `bind`, `file_write` (open for writing, creat, rename, link, symlink,
unlink, mkdir, rmdir, truncate), `file_read` (once per file: opened read-only or executed; these
feed "packages in use"), `chmod` (only when it sets the setuid or setgid bit), `privileged`
(ptrace, mount, umount, pivot_root, module loading, unshare, setns, a clone that creates
namespaces), `fork_failed` (fork refused: the process limit) and `exit`. At most `max_events`
events are kept; all are counted.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ci_security.models import RuntimeEvent
from ci_security.models.runtime import RuntimeEventKind
from ci_security.sandbox import strace
from ci_security.sandbox.strace import Call, Exit

_SOCKADDR_FAMILY = re.compile(r"sa_family=(AF_[A-Z0-9]+)")
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
_INET = re.compile(r'inet_addr\("([^"]+)"\)')
_INET6 = re.compile(r'inet_pton\(AF_INET6, "([^"]+)"')
_UNIX = re.compile(r'sun_path=@?("(?:[^"\\]|\\.)*")')
_MSG_NAME = re.compile(r"msg_name=(\{[^{}]*\})")
_IOV_BASE = re.compile(r'iov_base=("(?:[^"\\]|\\.)*")')
_FLAGS_FIELD = re.compile(r"flags=([A-Z0-9_|]+)")
_WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")
_NOT_A_READ = ("O_PATH", "O_DIRECTORY")
_FAMILIES = {"AF_INET": "inet", "AF_INET6": "inet6", "AF_UNIX": "unix", "AF_LOCAL": "unix"}
_PRIVILEGED = frozenset(
    {
        "ptrace",
        "mount",
        "umount",
        "umount2",
        "pivot_root",
        "init_module",
        "finit_module",
        "delete_module",
        "unshare",
        "setns",
        "kexec_load",
        "kexec_file_load",
    }
)
# (index of the path argument, index of its directory fd argument or None) of calls that change
# the filesystem by name.
_PATH_WRITES = {
    "creat": (0, None),
    "mkdir": (0, None),
    "mkdirat": (1, 0),
    "rmdir": (0, None),
    "unlink": (0, None),
    "unlinkat": (1, 0),
    "truncate": (0, None),
    "rename": (1, None),
    "renameat": (3, 2),
    "renameat2": (3, 2),
    "link": (1, None),
    "linkat": (3, 2),
    "symlink": (1, None),
    "symlinkat": (2, 1),
}
# The sandbox's own file systems: nothing there belongs to a package of the image.
_NOT_IMAGE_FILES = ("/proc/", "/dev/", "/sys/")
_CLONES = frozenset({"clone", "clone3", "fork", "vfork"})
_MAX_HELD = 20_000  # calls of not-yet-paired children held back


def dns_query_name(payload: bytes) -> str | None:
    """The name a DNS query asks for (UDP, or TCP with its two-byte length), or None when `payload`
    is not a standard query. Bounded: at most 128 labels, 255 characters.
    """
    for start in (0, 2):
        message = payload[start:]
        if len(message) < 17:
            continue
        flags = message[2]
        questions = int.from_bytes(message[4:6], "big")
        if flags & 0x80 or (flags >> 3) & 0x0F != 0 or questions < 1:
            continue
        labels: list[str] = []
        at = 12
        for _ in range(128):
            if at >= len(message):
                break
            size = message[at]
            if size == 0:
                name = ".".join(labels)
                return name if name and len(name) <= 255 else None
            if size & 0xC0 or at + 1 + size > len(message):
                break
            labels.append(message[at + 1 : at + 1 + size].decode("ascii", "replace"))
            at += 1 + size
    return None


def sockaddr(token: str) -> tuple[str, str, int | None] | None:
    """(family, address, port) of a decoded socket address; None for families other than IPv4, IPv6
    and Unix (netlink, packet: not network traffic a rule judges).
    """
    found = _SOCKADDR_FAMILY.search(token)
    if found is None:
        return None
    family = _FAMILIES.get(found.group(1))
    if family is None:
        return None
    if family == "unix":
        path = _UNIX.search(token)
        decoded = strace.decode_string(path.group(1)) if path else None
        return family, decoded[0] if decoded else "", None
    port = _PORT.search(token)
    address = (_INET if family == "inet" else _INET6).search(token)
    if address is None:
        return None
    return family, address.group(1), int(port.group(1)) if port else None


@dataclass(slots=True, eq=False)
class _Proc:
    outer: int
    inner: int | None
    parent: _Proc | None
    program: str = ""
    argv: tuple[str, ...] = ()
    cwd: str = "/"
    workload: bool = False
    exited: bool = False
    peers: dict[int, tuple[str, str, int | None]] = field(default_factory=dict)
    tried: set[str] = field(default_factory=set)

    @property
    def ppid(self) -> int | None:
        return self.parent.inner if self.parent is not None else None


@dataclass(slots=True)
class Timeline:
    """What the builder produced (see the module docstring)."""

    events: list[RuntimeEvent] = field(default_factory=list)
    events_total: int = 0
    files_read: set[str] = field(default_factory=set)
    processes: int = 0
    start: float | None = None
    main_pid: int | None = None
    main_exit: int | None = None
    main_signal: str | None = None
    exec_error: str | None = None  # why the entrypoint could not be executed, when it could not
    alive: list[tuple[int, str, tuple[str, ...]]] = field(default_factory=list)


class TimelineBuilder:
    """Feed it strace's calls in order (`feed`), then take `timeline`."""

    def __init__(self, setup_programs: Iterable[str], max_events: int) -> None:
        self._setup = frozenset(setup_programs)
        self._max = max_events
        self._procs: dict[int, _Proc] = {}
        self._held: dict[int, list[Call | Exit]] = {}
        self._held_count = 0
        self._root: _Proc | None = None
        self._main: _Proc | None = None
        self._failed_exec: tuple[str, str] | None = None
        # The image's processes still running when its first process exited (bubblewrap then ends
        # the sandbox, as a container runtime does when PID 1 exits), with that moment.
        self._left_at_exit: list[_Proc] = []
        self._main_exit_time: float | None = None
        self.timeline = Timeline()

    # --- bookkeeping ---------------------------------------------------------------------------

    def _rel(self, time: float) -> float:
        start = self.timeline.start
        return round(max(0.0, time - start), 6) if start is not None else 0.0

    def _emit(
        self, proc: _Proc, call_time: float, kind: RuntimeEventKind, syscall: str, **fields: object
    ) -> None:
        self.timeline.events_total += 1
        if len(self.timeline.events) >= self._max:
            return
        argv = fields.pop("argv", proc.argv)
        self.timeline.events.append(
            RuntimeEvent(
                time=self._rel(call_time),
                pid=proc.inner,
                ppid=proc.ppid,
                kind=kind,
                syscall=syscall,
                program=proc.program,
                argv=argv,  # type: ignore[arg-type]
                **fields,  # type: ignore[arg-type]
            )
        )

    def _path(self, proc: _Proc, call: Call, index: int, dirfd: int | None) -> str | None:
        if index >= len(call.args):
            return None
        decoded = strace.decode_string(call.args[index])
        if decoded is None:
            return None
        text = decoded[0]
        if text.startswith("/"):
            return posixpath.normpath(text)
        base = proc.cwd
        if dirfd is not None and dirfd < len(call.args):
            where = strace.decoration(call.args[dirfd])
            if where is not None and where.startswith("/"):
                base = where
        return posixpath.normpath(posixpath.join(base, text)) if text else base

    # --- feeding -------------------------------------------------------------------------------

    def feed(self, record: Call | Exit) -> None:
        proc = self._procs.get(record.pid)
        if proc is None:
            if self._root is None:
                # strace's own child: the limit setter, then bubblewrap's monitor.
                proc = self._root = self._procs[record.pid] = _Proc(record.pid, None, None)
            else:
                if self._held_count < _MAX_HELD:
                    self._held.setdefault(record.pid, []).append(record)
                    self._held_count += 1
                return
        self._handle(proc, record)

    def finish(
        self, alive: Iterable[tuple[int, str, tuple[str, ...]]] = (), elapsed: float = 0.0
    ) -> Timeline:
        """Flush held calls of children never paired (treated as the image's), add the processes
        still alive at the end (inner pid, program, argv from /proc) as `alive` events `elapsed`
        seconds after the start, and return the timeline.
        """
        for pid, records in sorted(self._held.items()):
            orphan = self._procs[pid] = _Proc(pid, None, None, workload=True)
            for record in records:
                self._handle(orphan, record)
        self._held.clear()
        by_inner = {p.inner: p for p in self._procs.values() if p.workload and p.inner is not None}
        alive = list(alive)
        if alive:
            end = (self.timeline.start or 0.0) + elapsed
            for inner, program, argv in alive:
                known = by_inner.get(inner)
                proc = known or _Proc(0, inner, None, program=program, argv=argv, workload=True)
                self.timeline.alive.append((inner, proc.program or program, proc.argv or argv))
                self._emit(proc, end, "alive", "", detail="still running when the run ended")
        elif self._main_exit_time is not None:
            for proc in self._left_at_exit:
                self.timeline.alive.append((proc.inner or 0, proc.program, proc.argv))
                self._emit(
                    proc,
                    self._main_exit_time,
                    "alive",
                    "",
                    detail="still running when the entrypoint exited (then stopped with the sandbox)",
                )
        if self._main is None and self._failed_exec is not None:
            self.timeline.exec_error = f"{self._failed_exec[0]}: {self._failed_exec[1]}"
        return self.timeline

    def _register(self, parent: _Proc, call: Call) -> None:
        if call.value is None or call.value < 0:
            return
        outer = call.nspid if call.nspid is not None else call.value
        inner = call.value if call.nspid is not None else None
        flags = _flags(call)
        if "CLONE_THREAD" in flags:
            self._procs[outer] = parent
            child = parent
        else:
            child = _Proc(
                outer,
                inner,
                parent,
                program=parent.program,
                argv=parent.argv,
                cwd=parent.cwd,
                workload=parent.workload,
                peers=dict(parent.peers),
            )
            self._procs[outer] = child
            if child.workload:
                self.timeline.processes += 1
        for record in self._held.pop(outer, []):
            self._held_count -= 1
            self._handle(child, record)

    def _handle(self, proc: _Proc, record: Call | Exit) -> None:
        if isinstance(record, Exit):
            self._exit(proc, record)
            return
        name = record.name
        if name in ("execve", "execveat"):
            self._exec(proc, record)
            return
        if name in _CLONES:
            if record.ok:
                if proc.workload and _namespace_flags(record):
                    self._emit(proc, record.time, "privileged", name, detail=_namespace_flags(record))
                self._register(proc, record)
            elif record.errno == "EAGAIN" and proc.workload:
                self._emit(proc, record.time, "fork_failed", name, result="EAGAIN")
            return
        if name in ("chdir", "fchdir"):
            if record.ok:
                where = (
                    self._path(proc, record, 0, None)
                    if name == "chdir"
                    else strace.decoration(record.args[0])
                    if record.args
                    else None
                )
                if where:
                    proc.cwd = where
            return
        if not proc.workload:
            return
        if name in ("connect", "bind"):
            self._socket(proc, record)
        elif name in ("sendto", "sendmsg", "sendmmsg"):
            self._send(proc, record)
        elif name in ("open", "openat", "openat2"):
            self._open(proc, record)
        elif name in _PATH_WRITES:
            index, dirfd = _PATH_WRITES[name]
            path = self._path(proc, record, index, dirfd)
            if path is not None:
                self._emit(proc, record.time, "file_write", name, path=path, result=_result(record))
        elif name in ("chmod", "fchmod", "fchmodat", "fchmodat2"):
            self._chmod(proc, record)
        elif name in _PRIVILEGED:
            detail = ", ".join(record.args[:3])[:300]
            path = None
            if name in ("mount", "umount", "umount2", "pivot_root"):
                path = self._path(proc, record, 1 if name == "mount" else 0, None)
            self._emit(
                proc, record.time, "privileged", name, path=path, detail=detail, result=_result(record)
            )

    def _exec(self, proc: _Proc, call: Call) -> None:
        path_index = 1 if call.name == "execveat" else 0
        path = self._path(proc, call, path_index, 0 if call.name == "execveat" else None) or ""
        argv = strace.string_array(call.args[path_index + 1]) if len(call.args) > path_index + 1 else None
        argv = argv or ()
        if not proc.workload:
            if not call.ok:
                self._failed_exec = (path, call.errno or "failed")
                return
            if proc is self._root and path in self._setup:
                return
            proc.workload = True
            self.timeline.start = call.time
            self.timeline.processes += 1
            self._main = proc
            self.timeline.main_pid = proc.inner
        if call.ok:
            # "/proc/self/exe" (busybox running an applet) keeps the program it already was.
            if path != "/proc/self/exe":
                proc.program = path
            proc.argv = argv
            proc.tried.clear()
            self._emit(proc, call.time, "exec", call.name, path=path)
            self._read(proc, call.time, path, call.name)
            return
        name = posixpath.basename(path)
        if name in proc.tried:
            return
        proc.tried.add(name)
        self._emit(proc, call.time, "exec", call.name, path=path, argv=argv, result=_result(call))

    def _exit(self, proc: _Proc, record: Exit) -> None:
        if proc.exited:
            return
        proc.exited = True
        if proc is self._main:
            self.timeline.main_exit = record.code
            self.timeline.main_signal = record.signal
            self._main_exit_time = record.time
            seen: set[int] = set()
            for other in self._procs.values():
                if other.workload and not other.exited and other is not proc and id(other) not in seen:
                    seen.add(id(other))
                    self._left_at_exit.append(other)
        if proc.workload:
            detail = f"exit code {record.code}" if record.code is not None else f"killed by {record.signal}"
            self._emit(proc, record.time, "exit", "", detail=detail)

    def _socket(self, proc: _Proc, call: Call) -> None:
        if len(call.args) < 2:
            return
        peer = sockaddr(call.args[1])
        if peer is None:
            return
        family, address, port = peer
        if call.name == "connect":
            fd = _int(call.args[0])
            if fd is not None:
                proc.peers[fd] = peer
        kind: RuntimeEventKind = "connect" if call.name == "connect" else "bind"
        self._emit(
            proc, call.time, kind, call.name, address=address, port=port, family=family, result=_result(call)
        )

    def _send(self, proc: _Proc, call: Call) -> None:
        if not call.args:
            return
        fd = _int(call.args[0])
        messages: list[tuple[tuple[str, str, int | None] | None, bytes | None]] = []
        if call.name == "sendto" and len(call.args) >= 5:
            messages.append((sockaddr(call.args[4]), strace.decode_bytes(call.args[1])))
        elif call.name in ("sendmsg", "sendmmsg") and len(call.args) >= 2:
            text = call.args[1]
            names = _MSG_NAME.findall(text)
            bases = _IOV_BASE.findall(text)
            for position, base in enumerate(bases[:8]):
                name = names[position] if position < len(names) else None
                messages.append((sockaddr(name) if name else None, strace.decode_bytes(base)))
            if not bases:
                messages.append((sockaddr(names[0]) if names else None, None))
        for explicit, payload in messages:
            peer = explicit or (proc.peers.get(fd) if fd is not None else None)
            query = dns_query_name(payload) if payload and peer and peer[2] == 53 else None
            if explicit is None and query is None:
                continue  # data on a connected stream: the connect was the event
            family, address, port = peer if peer else (None, None, None)
            self._emit(
                proc,
                call.time,
                "send",
                call.name,
                address=address,
                port=port,
                family=family,
                name=query,
                result=_result(call),
            )

    def _open(self, proc: _Proc, call: Call) -> None:
        if call.name == "open":
            index, dirfd, flags_at = 0, None, 1
        elif call.name == "openat2":
            index, dirfd, flags_at = 1, 0, 2
        else:
            index, dirfd, flags_at = 1, 0, 2
        flags = call.args[flags_at] if len(call.args) > flags_at else ""
        named = self._path(proc, call, index, dirfd)
        path = call.decoration if call.ok and call.decoration and call.decoration.startswith("/") else named
        if path is None:
            return
        if any(flag in flags for flag in _WRITE_FLAGS):
            self._emit(
                proc,
                call.time,
                "file_write",
                call.name,
                path=path,
                detail=flags[:120],
                result=_result(call),
            )
        elif call.ok and not any(flag in flags for flag in _NOT_A_READ):
            self._read(proc, call.time, path, call.name)

    def _read(self, proc: _Proc, time: float, path: str, syscall: str) -> None:
        if not path or path in self.timeline.files_read or path.startswith(_NOT_IMAGE_FILES):
            return
        self.timeline.files_read.add(path)
        self._emit(proc, time, "file_read", syscall, path=path)

    def _chmod(self, proc: _Proc, call: Call) -> None:
        if call.name == "chmod":
            path, mode_at = self._path(proc, call, 0, None), 1
        elif call.name == "fchmod":
            path, mode_at = (strace.decoration(call.args[0]) if call.args else None), 1
        else:
            path, mode_at = self._path(proc, call, 1, 0), 2
        if mode_at >= len(call.args):
            return
        try:
            mode = int(call.args[mode_at], 8) & 0o7777  # busybox passes the file type bits too
        except ValueError:
            return
        if mode & 0o6000:
            self._emit(
                proc,
                call.time,
                "chmod",
                call.name,
                path=path,
                mode=mode,
                detail=f"mode {mode:04o}",
                result=_result(call),
            )


def _int(token: str) -> int | None:
    head = token.split("<", 1)[0].strip()
    return int(head) if head.isdigit() else None


def _result(call: Call) -> str:
    return call.errno or ("ok" if call.ok else "failed")


def _flags(call: Call) -> str:
    if call.name == "clone3" and call.args:
        found = _FLAGS_FIELD.search(call.args[0])
        return found.group(1) if found else ""
    for arg in call.args:
        if arg.startswith("flags="):
            return arg[6:]
    return ""


def _namespace_flags(call: Call) -> str:
    return "|".join(part for part in _flags(call).split("|") if part.startswith("CLONE_NEW"))
