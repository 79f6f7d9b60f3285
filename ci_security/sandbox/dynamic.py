"""The dynamic scan as one stage: check the sandbox can be built (`prepare`, before the image is
fetched), then unpack the opened image, run its entrypoint, read the trace and mark the packages in
use (`observe`). Returns data; never prints.

Everything the run writes lives in one private directory (mode 0700, owned by the sandbox's user,
see `isolation`) that is removed afterwards, whatever happened: the unpacked filesystem, the trace,
the image's output.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from ci_security import limits
from ci_security.errors import IsolationError, SandboxError
from ci_security.image.base import Image
from ci_security.models import IsolationStep, Package, SandboxRun, ScanWarning
from ci_security.sandbox import rootfs as rootfs_module
from ci_security.sandbox import strace
from ci_security.sandbox.command import Overrides, resolve
from ci_security.sandbox.events import Timeline, TimelineBuilder
from ci_security.sandbox.inuse import mark_in_use
from ci_security.sandbox.isolation import (
    Identity,
    Tools,
    choose_identity,
    diagnose,
    find_tools,
    limit_summary,
    probe_command,
    probe_succeeded,
    run_as,
)
from ci_security.sandbox.rootfs import Rootfs, unpack
from ci_security.sandbox.run import execute

DEFAULT_DURATION = 30.0
_SHEBANG_BYTES = 256


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxOptions:
    """What to run and for how long: `duration` None takes the policy's `runtime.duration`.
    `on_isolated` is called with the sandbox's first process (our pid) after the isolation check and
    before the image's entrypoint starts, for a caller's own checks (raise to refuse the run).
    """

    duration: float | None = None
    overrides: Overrides = field(default_factory=Overrides)
    on_isolated: Callable[[int], None] | None = None


@dataclass(frozen=True, slots=True)
class Prepared:
    """The tools and identity of a sandbox that was shown to work here."""

    tools: Tools
    identity: Identity


@dataclass(frozen=True, slots=True)
class Observed:
    """The run, the packages with `in_use` set, and what the scan should warn about."""

    run: SandboxRun
    packages: tuple[Package, ...]
    warnings: tuple[ScanWarning, ...]


@contextmanager
def private_dir(identity: Identity) -> Iterator[Path]:
    """A new directory only we and the sandbox's user can enter, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="ci-security-sandbox-"))
    try:
        if identity.owner is not None:
            os.chown(path, *identity.owner)
        yield path
    finally:
        rootfs_module.remove(path)


def prepare() -> Prepared:
    """Find the tools, choose the identity, and build the whole sandbox once around an empty root:
    `IsolationError` naming the step that cannot be set up, before anything is fetched or run.
    """
    if not sys.platform.startswith("linux"):
        raise IsolationError(f"sandbox: the dynamic scan needs Linux namespaces (this is {sys.platform})")
    tools = find_tools()
    identity = choose_identity(limits.active().sandbox_processes)
    with private_dir(identity) as probe:
        stderr = run_as(identity, probe_command(tools, identity, probe / "trace"), 60)
    if not probe_succeeded(stderr):
        raise diagnose(stderr, tools, identity)
    return Prepared(tools, identity)


def _trace_lines(path: Path, limit: int) -> Iterator[str]:
    """The trace's lines, reading at most `limit` bytes (a line cut there is dropped)."""
    read = 0
    with open(path, "rb") as f:
        for raw in f:
            read += len(raw)
            if read > limit:
                return
            yield raw.decode("utf-8", "surrogateescape")


def _shebangs(rootfs: Rootfs, timeline: Timeline) -> dict[str, str]:
    """The `#!` line (interpreter and its argument) of each script the image executed, by the path
    it was executed as: the kernel opens the interpreter itself, so the trace has no call for it.
    """
    found: dict[str, str] = {}
    for event in timeline.events:
        if event.kind != "exec" or event.result != "ok" or not event.path or event.path in found:
            continue
        real = rootfs.real_path(event.path)
        head = rootfs.read_head(real, _SHEBANG_BYTES) if real else None
        if head and head.startswith(b"#!"):
            line = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
            if line:
                found[event.path] = " ".join(line.split()[:2])
    return found


def _start_error(timeline: Timeline, stderr: str) -> SandboxError:
    said = next((line.strip() for line in stderr.splitlines() if line.startswith("bwrap:")), "")
    why = said or (f"executing {timeline.exec_error}" if timeline.exec_error else "nothing was executed")
    return SandboxError(f"sandbox: the image's entrypoint did not start: {why[:300]}")


def observe(
    image: Image,
    prepared: Prepared,
    options: SandboxOptions,
    *,
    duration: float,
    packages: Sequence[Package],
    owners: Mapping[str, str],
) -> Observed:
    """Run `image` (already opened) in the sandbox for `duration` seconds and judge nothing yet:
    the run as data, and `packages` with `in_use` set.
    """
    identity = prepared.identity
    with private_dir(identity) as workdir:
        target = workdir / "rootfs"
        target.mkdir(mode=0o755)
        rootfs = unpack(image, target, owner=identity.owner)
        command = resolve(image.config, rootfs, options.overrides)
        execution = execute(
            prepared.tools,
            identity,
            rootfs.path,
            command,
            workdir,
            duration=duration,
            on_isolated=options.on_isolated,
        )
        active = limits.active()
        builder = TimelineBuilder({prepared.tools.prlimit, prepared.tools.bwrap}, active.sandbox_events)
        for record in strace.calls(_trace_lines(execution.trace, active.sandbox_trace_bytes)):
            builder.feed(record)
        timeline = builder.finish(execution.alive, execution.elapsed)
        if timeline.start is None:
            raise _start_error(timeline, execution.stderr)
        shebangs = _shebangs(rootfs, timeline)
        interpreters = {line.split()[0] for line in shebangs.values()}
        files_read = {
            real for path in (*timeline.files_read, *interpreters) if (real := rootfs.real_path(path))
        }
        marked = mark_in_use(packages, owners, files_read, rootfs)
        warnings = _warnings(execution.end, timeline, execution.leftovers, rootfs)
        signal = timeline.main_signal
        run = SandboxRun(
            command=command.argv,
            pid=timeline.main_pid,
            user=f"{command.uid}:{command.gid}" + (f" ({command.user})" if command.user else " (root)"),
            workdir=command.workdir,
            env_names=tuple(name for name, _ in command.env),
            duration_limit=duration,
            elapsed=round(execution.elapsed, 3),
            end="duration"
            if execution.end == "duration"
            else ("trace_limit" if execution.end == "trace_limit" else "exited"),
            exit_code=timeline.main_exit,
            signal=signal,
            processes=timeline.processes,
            alive_at_end=len(timeline.alive),
            events=tuple(
                sorted(
                    (
                        replace(event, interpreter=shebangs[event.path])
                        if event.kind == "exec" and event.result == "ok" and event.path in shebangs
                        else event
                        for event in timeline.events
                    ),
                    key=lambda e: e.sort_key(),
                )
            ),
            events_total=timeline.events_total,
            isolation=(*execution.steps, _limits_step()),
            limits=limit_summary(),
            files_read=tuple(sorted(files_read)),
            stdout=execution.stdout,
            stderr=execution.stderr,
            tracer=prepared.tools.description,
        )
        return Observed(run=run, packages=marked, warnings=warnings)


def _limits_step() -> IsolationStep:
    active = limits.active()
    size = limits.format_value(active.sandbox_memory_bytes, "bytes")
    fsize = limits.format_value(active.sandbox_file_bytes, "bytes")
    return IsolationStep(
        name="limits",
        status="ok",
        detail=f"CPU {active.sandbox_cpu_seconds} s, address space {size}, {active.sandbox_processes} "
        f"processes, file size {fsize}, {active.sandbox_open_files} open files per process",
    )


def _warnings(end: str, timeline: Timeline, leftovers: int, rootfs: Rootfs) -> tuple[ScanWarning, ...]:
    out = []
    if end == "trace_limit":
        out.append(
            ScanWarning(
                source="sandbox",
                message="the run was stopped early: the tracer's output reached the "
                "sandbox-trace-bytes limit",
            )
        )
    if timeline.events_total > len(timeline.events):
        dropped = timeline.events_total - len(timeline.events)
        out.append(
            ScanWarning(
                source="sandbox",
                message=f"{dropped} events past the sandbox-events limit were counted but not kept or judged",
            )
        )
    if leftovers:
        out.append(
            ScanWarning(
                source="sandbox",
                message=f"{leftovers} processes of the sandbox outlived the tracer and were killed",
                partial=False,
            )
        )
    if rootfs.stats.unsafe:
        out.append(
            ScanWarning(
                source="sandbox",
                message=f"{rootfs.stats.unsafe} entries of the image were not unpacked: their folder is a "
                "symbolic link or a file in a layer above",
                partial=False,
            )
        )
    return tuple(out)


__all__ = ["DEFAULT_DURATION", "Observed", "Overrides", "Prepared", "SandboxOptions", "observe", "prepare"]
