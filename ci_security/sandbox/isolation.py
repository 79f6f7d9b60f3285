"""The sandbox's isolation: which tools build it, as whom it runs, the command lines, the check made
of a started sandbox before the image's code may run, and the diagnosis when a step cannot be set up.

The chain is `setpriv --pdeathsig KILL -- strace … -- prlimit … -- bwrap … -- ENTRYPOINT`:

- `setpriv` (util-linux) kills the whole chain if ci-security dies, so nothing outlives it;
- `strace` traces every process (`events.py` says what it makes of them), filtered in the kernel
  with seccomp-bpf so untraced calls cost nothing;
- `prlimit` (util-linux) sets the resource limits (`sandbox-*` limits: CPU time, address space,
  processes, file size, open files) on bubblewrap and everything it starts, not on the tracer;
- `bwrap` (bubblewrap) creates new user, mount, pid, network (loopback only), UTS, IPC and cgroup
  namespaces, mounts the unpacked image read-only as the root (pivot_root), a new /proc, a minimal
  /dev (null, zero, full, random, urandom, tty, a new devpts; stdin is /dev/null), and size-bounded
  tmpfs on /tmp, /run and /var/tmp, forbids further user namespaces, starts a new session (no
  terminal to inject into), clears the environment and sets the image's, and dies with its parent.

As whom: the process limit (RLIMIT_NPROC) counts the processes of a user, and the kernel never
applies it to root. Run as an ordinary user, the sandbox runs as that user, and the limit is the
user's current number of processes plus the sandbox's allowance. Run as root, it runs as an unused
uid instead (2000000000 and up, or the top of the user namespace's mapped range), whose only
processes are the sandbox's, so the limit counts exactly those; the image's files are given to that
uid. Root whose namespace maps no other uid cannot do that, and the sandbox refuses.

Fail closed: every step is either in force or the run is refused with `IsolationError`, naming the
step and the reason, before the image's entrypoint has started. `verify` checks a started sandbox,
held before its command by bubblewrap's `--block-fd`, from the outside: each namespace differs from
ours, the network namespace has no interface but `lo`, the uid map never maps to root, and the mount
table holds the image's root and the sandbox's own mounts and nothing of the host.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ci_security import limits
from ci_security.errors import IsolationError
from ci_security.models import IsolationStep
from ci_security.sandbox.command import HOSTNAME, SandboxCommand

NAMESPACES = ("user", "mnt", "pid", "net", "uts", "ipc", "cgroup")
_NS_NAMES = {
    "user": "user namespace",
    "mnt": "mount namespace",
    "pid": "pid namespace",
    "net": "network namespace",
    "uts": "UTS namespace",
    "ipc": "IPC namespace",
    "cgroup": "cgroup namespace",
}
_UNSHARE_FLAGS = {
    "user": "--unshare-user",
    "ipc": "--unshare-ipc",
    "pid": "--unshare-pid",
    "net": "--unshare-net",
    "uts": "--unshare-uts",
    "cgroup": "--unshare-cgroup-try",
}
TMPFS_MOUNTS = ("/tmp", "/run", "/var/tmp")  # noqa: S108 - mount points inside the sandbox
# Mount points a sandbox may have besides "/": its own /proc, /dev and the tmpfs.
_ALLOWED_MOUNTS = re.compile(r"^/(proc|dev(/.*)?|tmp|run|var/tmp)$")
_DEDICATED_UID = 2_000_000_000
_PROCESS_OVERHEAD = 3  # the tracer (setpriv execs it), bubblewrap's monitor and its pid 1
PROBE_COMMAND = "/ci-security-isolation-probe"
_MIN_BWRAP = (0, 8)
_MIN_STRACE = (5, 9)


@dataclass(frozen=True, slots=True)
class Tools:
    """The programs the sandbox is made of, with their versions."""

    setpriv: str
    strace: str
    strace_version: tuple[int, ...]
    prlimit: str
    bwrap: str
    bwrap_version: tuple[int, ...]

    @property
    def description(self) -> str:
        strace = ".".join(map(str, self.strace_version))
        bwrap = ".".join(map(str, self.bwrap_version))
        return f"strace {strace} (seccomp-bpf), bubblewrap {bwrap}"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the sandbox runs as on the host: `uid`/`gid` to switch to (None: ourselves), and the
    RLIMIT_NPROC value that gives the image `processes` processes.
    """

    uid: int | None
    gid: int | None
    nproc: int

    @property
    def owner(self) -> tuple[int, int] | None:
        return (self.uid, self.gid) if self.uid is not None and self.gid is not None else None


def _version(text: str) -> tuple[int, ...]:
    found = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(part) for part in found.groups() if part is not None) if found else ()


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise IsolationError(
            f"sandbox: {name} is not installed ({package}; on Debian and Ubuntu: apt-get install {package})"
        )
    return path


def _ask_version(path: str, flag: str) -> str:
    try:
        done = subprocess.run([path, flag], capture_output=True, text=True, timeout=30, env=tool_env())
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise IsolationError(f"sandbox: {path} {flag} failed: {exc}") from None
    return done.stdout + done.stderr


def find_tools() -> Tools:
    """The tools on PATH, with versions new enough; `IsolationError` naming the one that is not."""
    setpriv = _tool("setpriv", "util-linux")
    prlimit = _tool("prlimit", "util-linux")
    strace = _tool("strace", "strace")
    bwrap = _tool("bwrap", "bubblewrap")
    strace_text = _ask_version(strace, "-V")
    strace_version = _version(strace_text) if "strace" in strace_text else ()
    if strace_version < _MIN_STRACE:
        raise IsolationError(
            f"sandbox: tracer: {strace} is not strace 5.9 or later ({strace_text.strip()[:80]!r}); "
            "install the strace package"
        )
    bwrap_text = _ask_version(bwrap, "--version")
    bwrap_version = _version(bwrap_text) if "bubblewrap" in bwrap_text else ()
    if bwrap_version < _MIN_BWRAP:
        raise IsolationError(
            f"sandbox: {bwrap} is not bubblewrap 0.8 or later ({bwrap_text.strip()[:80]!r}); "
            "install the bubblewrap package"
        )
    return Tools(setpriv, strace, strace_version, prlimit, bwrap, bwrap_version)


@contextlib.contextmanager
def no_input() -> Iterator[BinaryIO]:
    """What the sandbox's tools and the image read as standard input: /dev/null, opened read-only
    (`subprocess.DEVNULL` opens it for writing too, which an unprivileged user cannot where /dev/null
    is not the usual device).
    """
    with open(os.devnull, "rb") as handle:
        yield handle


def tool_env() -> dict[str, str]:
    """The environment the sandbox's own tools run with: a PATH and nothing else (the image's
    environment is set inside by bubblewrap; ours, with its tokens, never reaches the sandbox).
    """
    return {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C"}


# --- identity ------------------------------------------------------------------------------------


def _uid_ranges() -> list[tuple[int, int, int]]:
    ranges = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/uid_map").read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and all(p.isdigit() for p in parts):
                ranges.append((int(parts[0]), int(parts[1]), int(parts[2])))
    return ranges


def _users_in_use() -> set[int]:
    used: set[int] = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for line in Path(entry.path, "status").read_text().splitlines():
                if line.startswith("Uid:"):
                    used.update(int(u) for u in line.split()[1:] if u.isdigit())
                    break
    with contextlib.suppress(OSError):
        for line in Path("/etc/passwd").read_text(errors="replace").splitlines():
            parts = line.split(":")
            if len(parts) > 2 and parts[2].isdigit():
                used.add(int(parts[2]))
    return used


def _tasks_of(uid: int) -> int:
    """Threads of `uid` visible here: what RLIMIT_NPROC counts against it already."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            owner = threads = None
            for line in Path(entry.path, "status").read_text().splitlines():
                if line.startswith("Uid:"):
                    owner = int(line.split()[1])
                elif line.startswith("Threads:"):
                    threads = int(line.split()[1])
            if owner == uid and threads:
                count += threads
    return count


def choose_identity(processes: int) -> Identity:
    """As whom the sandbox runs (see the module docstring)."""
    if os.geteuid() != 0:
        return Identity(None, None, processes + _PROCESS_OVERHEAD + _tasks_of(os.getuid()))
    ranges = _uid_ranges()
    used = _users_in_use()
    for inner, _outer, count in sorted(ranges, key=lambda r: -r[2]):
        if count < 2:
            continue
        if inner <= _DEDICATED_UID < inner + count - 100_000:
            first = _DEDICATED_UID + (os.getpid() % 50_000) * 2
        else:
            first = inner + count - 1 - min(count // 2, 5000) + (os.getpid() % min(count // 2, 5000))
        for candidate in range(first, min(first + 2000, inner + count)):
            if candidate != 0 and candidate not in used:
                return Identity(candidate, candidate, processes + _PROCESS_OVERHEAD)
    if ranges and all(outer != 0 for inner, outer, _ in ranges if inner == 0):
        # Root of a user namespace whose root is an ordinary user outside: the limit binds it.
        return Identity(None, None, processes + _PROCESS_OVERHEAD + _tasks_of(0))
    raise IsolationError(
        "sandbox: process limit: ci-security runs as root in a user namespace that maps no other "
        "uid, and the kernel does not apply RLIMIT_NPROC to root; run ci-security as an ordinary user"
    )


# --- command lines -------------------------------------------------------------------------------


# What the tracer stops on: programs run and processes made, working directories, the network,
# every call that opens or changes a file by name, setuid bits, and the privileged calls.
TRACED_CALLS = (
    *("execve", "execveat", "fork", "vfork", "clone", "clone3", "chdir", "fchdir"),
    *("connect", "bind", "sendto", "sendmsg", "sendmmsg"),
    *("open", "openat", "openat2", "creat", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat"),
    *("rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat", "truncate"),
    *("chmod", "fchmod", "fchmodat"),
    *("ptrace", "mount", "umount2", "pivot_root", "init_module", "finit_module", "delete_module"),
    *("unshare", "setns", "kexec_load", "kexec_file_load"),
)


def strace_args(tools: Tools, trace: Path, string_bytes: int = 4096) -> list[str]:
    pidns = "--decode-pids=pidns" if tools.strace_version >= (6, 0) else "--pidns-translation"
    # `?` lets strace skip a call the architecture does not have (aarch64 has no open, fork, chmod…).
    traced = ",".join("?" + name for name in TRACED_CALLS)
    return [
        tools.strace,
        "-f",
        "-q",
        "-ttt",
        "-y",
        "-v",
        "-x",
        "-s",
        str(string_bytes),
        pidns,
        "--seccomp-bpf",
        "-e",
        "signal=none",
        "-e",
        f"trace={traced}",
        "-o",
        str(trace),
    ]


def prlimit_args(tools: Tools, identity: Identity) -> list[str]:
    active = limits.active()
    return [
        tools.prlimit,
        f"--cpu={active.sandbox_cpu_seconds}",
        f"--as={active.sandbox_memory_bytes}",
        f"--nproc={identity.nproc}",
        f"--fsize={active.sandbox_file_bytes}",
        f"--nofile={active.sandbox_open_files}",
        "--core=0",
    ]


def limit_summary() -> tuple[tuple[str, str], ...]:
    """The limits as reports show them."""
    active = limits.active()
    return (
        ("cpu_seconds", str(active.sandbox_cpu_seconds)),
        ("address_space_bytes", str(active.sandbox_memory_bytes)),
        ("processes", str(active.sandbox_processes)),
        ("file_bytes", str(active.sandbox_file_bytes)),
        ("open_files", str(active.sandbox_open_files)),
        ("tmpfs_bytes", str(active.sandbox_tmp_bytes)),
    )


def bwrap_args(
    tools: Tools,
    *,
    rootfs: Path | None,
    command: SandboxCommand | None,
    info_fd: int | None,
    block_fd: int | None,
    namespaces: Sequence[str] = NAMESPACES,
) -> list[str]:
    """The command line of bubblewrap. Without `rootfs` the root is an empty tmpfs (the isolation probe:
    everything is set up, and then there is nothing to run).
    """
    args = [tools.bwrap]
    args += [_UNSHARE_FLAGS[name] for name in namespaces if name in _UNSHARE_FLAGS]
    if "user" in namespaces:
        args.append("--disable-userns")
    args += ["--die-with-parent", "--new-session"]
    if "uts" in namespaces:
        args += ["--hostname", HOSTNAME]
    if rootfs is not None:
        args += ["--ro-bind", str(rootfs), "/"]
    else:
        args += ["--tmpfs", "/"]
    size = str(limits.active().sandbox_tmp_bytes)
    args += ["--proc", "/proc", "--dev", "/dev"]
    for mount in TMPFS_MOUNTS:
        args += ["--size", size, "--tmpfs", mount]
    args.append("--clearenv")
    if command is not None:
        for name, value in command.env:
            args += ["--setenv", name, value]
        args += ["--chdir", command.workdir, "--uid", str(command.uid), "--gid", str(command.gid)]
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    if block_fd is not None:
        args += ["--block-fd", str(block_fd)]
    args.append("--")
    args += list(command.argv) if command is not None else [PROBE_COMMAND]
    return args


# --- checking a started sandbox ------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise IsolationError(f"sandbox: cannot inspect the sandbox ({path}: {exc.strerror or exc})") from None


def interfaces(pid: int) -> list[str]:
    """The network interfaces of `pid`'s network namespace."""
    names = []
    for line in _read(f"/proc/{pid}/net/dev").splitlines()[2:]:
        name = line.split(":", 1)[0].strip()
        if name:
            names.append(name)
    return names


def _mounts(pid: int) -> list[tuple[str, str, str]]:
    """(root within its filesystem, mount point, filesystem type) of every mount `pid` sees."""
    out = []
    for line in _read(f"/proc/{pid}/mountinfo").splitlines():
        left, sep, right = line.partition(" - ")
        fields = left.split()
        if not sep or len(fields) < 5:
            continue
        out.append((_unescape(fields[3]), _unescape(fields[4]), right.split()[0] if right else ""))
    return out


def _unescape(text: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)


def verify(pid: int, rootfs: Path, identity: Identity, tools: Tools) -> tuple[IsolationStep, ...]:
    """Check the sandbox whose first process is `pid` (held before its command); the steps found
    in force, or `IsolationError` naming the first that is not.
    """
    steps: list[IsolationStep] = []
    for name in NAMESPACES:
        try:
            ours = str(Path(f"/proc/self/ns/{name}").readlink())
            theirs = str(Path(f"/proc/{pid}/ns/{name}").readlink())
        except OSError as exc:
            if name == "cgroup":
                steps.append(IsolationStep(name=_NS_NAMES[name], status="unavailable", detail=str(exc)))
                continue
            raise IsolationError(
                f"sandbox: {_NS_NAMES[name]}: cannot be checked ({exc.strerror or exc})"
            ) from None
        if ours == theirs:
            if name == "cgroup":
                steps.append(
                    IsolationStep(name=_NS_NAMES[name], status="unavailable", detail="not supported here")
                )
                continue
            raise IsolationError(f"sandbox: {_NS_NAMES[name]}: the sandbox shares ci-security's")
        steps.append(IsolationStep(name=_NS_NAMES[name], status="ok", detail=theirs))
    found = interfaces(pid)
    if found != ["lo"]:
        shown = ", ".join(found) or "none"
        raise IsolationError(
            f"sandbox: network namespace: expected only the loopback interface, found {shown}"
        )
    steps.append(IsolationStep(name="network", status="ok", detail="only the loopback interface lo"))
    mapped = _read(f"/proc/{pid}/uid_map").split()
    outer = [int(mapped[i + 1]) for i in range(0, len(mapped) - 2, 3) if mapped[i + 1].isdigit()]
    host_uid = identity.uid if identity.uid is not None else os.getuid()
    if not outer or any(uid != host_uid for uid in outer):
        raise IsolationError(
            f"sandbox: user namespace: its uid map {' '.join(mapped)!r} maps more than uid {host_uid}"
        )
    steps.append(IsolationStep(name="user", status="ok", detail=f"one uid, uid {host_uid} outside"))
    mounts = _mounts(pid)
    root = [m for m in mounts if m[1] == "/"]
    if len(root) != 1 or not root[0][0].endswith("/" + rootfs.name):
        raise IsolationError("sandbox: mounts: the root of the sandbox is not the image's filesystem")
    extra = sorted({point for _, point, _ in mounts if point != "/" and not _ALLOWED_MOUNTS.match(point)})
    if extra:
        raise IsolationError(f"sandbox: mounts: host paths visible in the sandbox: {', '.join(extra[:5])}")
    size = limits.format_value(limits.active().sandbox_tmp_bytes, "bytes")
    steps.append(
        IsolationStep(
            name="filesystem",
            status="ok",
            detail=f"the image read-only as /, a new /proc, a minimal /dev, tmpfs ({size}) on "
            + ", ".join(TMPFS_MOUNTS)
            + "; no host path",
        )
    )
    steps.append(IsolationStep(name="tracer", status="ok", detail=tools.description))
    return tuple(steps)


# --- diagnosis -----------------------------------------------------------------------------------

_HINTS = (
    (
        re.compile(
            r"Creating new namespace failed|No permissions to creat|unshare user ns|setting up uid map", re.I
        ),
        "creating the namespaces",
    ),
    (re.compile(r"Can't mount proc", re.I), "mounting a new /proc"),
    (re.compile(r"Can't mount devpts|Can't mount tmpfs on /newroot/dev|/newroot/dev", re.I), "making /dev"),
    (re.compile(r"tmpfs", re.I), "mounting the tmpfs"),
    (re.compile(r"pivot_root", re.I), "pivot_root into the image"),
    (re.compile(r"loopback|RTM_NEWADDR", re.I), "setting up loopback in the network namespace"),
    (re.compile(r"max_user_namespaces", re.I), "forbidding further user namespaces"),
    (re.compile(r"Can't bind mount|Can't find source path", re.I), "mounting the image as /"),
)


def _advice(step: str, message: str, namespace: str | None = None) -> str:
    sysctl = Path("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
    if step.startswith("creating") or "namespace" in step:
        notes = []
        with contextlib.suppress(OSError, ValueError):
            if int(sysctl.read_text().strip()) == 1:
                notes.append(
                    "AppArmor restricts unprivileged user namespaces here "
                    "(kernel.apparmor_restrict_unprivileged_userns=1; see docs/dynamic.md)"
                )
        with contextlib.suppress(OSError, ValueError):
            if int(Path("/proc/sys/kernel/unprivileged_userns_clone").read_text().strip()) == 0:
                notes.append("kernel.unprivileged_userns_clone=0 forbids user namespaces to ordinary users")
        if "ENOSPC" in message:
            limit = f"user.max_{namespace}_namespaces" if namespace else "a user.max_*_namespaces sysctl"
            notes.append(f"{limit} is 0 here, or namespaces are nested too deep")
        return "; ".join(notes)
    if step == "mounting a new /proc":
        return (
            "the kernel refuses a new /proc to a user namespace when parts of the host's /proc are hidden "
            "by other mounts, as in unprivileged Docker containers (see docs/dynamic.md)"
        )
    return ""


def diagnose(stderr: str, tools: Tools, identity: Identity) -> IsolationError:
    """An `IsolationError` naming the step bubblewrap (or strace) reported failing in `stderr`; when
    it was creating the namespaces, each is tried alone to say which one.
    """
    # The tools name themselves by argv[0], which may be their full path.
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for path, name in ((tools.strace, "strace"), (tools.bwrap, "bwrap"), (tools.prlimit, "prlimit")):
        lines = [f"{name}:{line[len(path) + 1 :]}" if line.startswith(f"{path}:") else line for line in lines]
    message = next(
        (line for line in lines if line.startswith(("bwrap:", "strace:", "prlimit:", "setpriv:"))), ""
    )
    if not message:
        message = lines[-1] if lines else "it exited before it was ready"
    if message.startswith("strace:"):
        return IsolationError(f"sandbox: tracer: {message[:300]}")
    if message.startswith(("prlimit:", "setpriv:")):
        return IsolationError(f"sandbox: resource limits: {message[:300]}")
    step = next((name for pattern, name in _HINTS if pattern.search(message)), "setting up the sandbox")
    failing = None
    if step == "creating the namespaces":
        failing = which_namespace(identity)
        if failing is not None:
            step = f"creating the {_NS_NAMES[failing]}"
    advice = _advice(step, message, failing)
    return IsolationError(f"sandbox: {step}: {message[:300]}" + (f" ({advice})" if advice else ""))


def probe_command(tools: Tools, identity: Identity, trace: Path) -> list[str]:
    """The whole chain around an empty root, where there is nothing to run (see `probe_succeeded`)."""
    return [
        tools.setpriv,
        "--pdeathsig",
        "KILL",
        "--",
        *strace_args(tools, trace),
        "--",
        *prlimit_args(tools, identity),
        "--",
        *bwrap_args(tools, rootfs=None, command=None, info_fd=None, block_fd=None),
    ]


def run_as(identity: Identity, argv: list[str], timeout: float) -> str:
    """Run `argv` as the sandbox's identity with the tools' environment; its standard error."""
    try:
        with no_input() as stdin:
            done = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                env=tool_env(),
                stdin=stdin,
                user=identity.uid,
                group=identity.gid,
                extra_groups=[] if identity.uid is not None else None,
            )
    except subprocess.TimeoutExpired:
        return f"bwrap: {argv[0]} took more than {timeout:.0f} seconds"
    except OSError as exc:
        return f"setpriv: cannot start {argv[0]}: {exc}"
    return done.stderr


def probe_succeeded(stderr: str) -> bool:
    """The probe got as far as running its command, which does not exist: every step held."""
    return f"execvp {PROBE_COMMAND}: No such file or directory" in stderr


_UNSHARE_PROBES = (
    ("user", ["--user"]),
    ("mnt", ["--user", "--map-root-user", "--mount"]),
    ("pid", ["--user", "--map-root-user", "--pid", "--fork"]),
    ("net", ["--user", "--map-root-user", "--net"]),
    ("uts", ["--user", "--map-root-user", "--uts"]),
    ("ipc", ["--user", "--map-root-user", "--ipc"]),
    ("cgroup", ["--user", "--map-root-user", "--cgroup"]),
)


def which_namespace(identity: Identity) -> str | None:
    """The first namespace that cannot be created, tried one at a time with util-linux's unshare
    running `true` (a host program: nothing of the image), or None when they all can be.
    """
    unshare = shutil.which("unshare")
    true = shutil.which("true")
    if unshare is None or true is None:
        return None
    for name, flags in _UNSHARE_PROBES:
        stderr = run_as(identity, [unshare, *flags, true], 30)
        if stderr.strip():
            return name
    return None
