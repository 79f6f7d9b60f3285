"""Run ci-security on one hostile input as a pipeline would: a separate process, bounded in time and
memory, in a working directory of its own, and check what it left behind.

Every case of `tests/hostile/` goes through `run_hostile`:

- the child is `python -m ci_security ARGS` with a clean environment (no CI variables, private
  `HOME`, `TMPDIR` and `XDG_CACHE_HOME` under the case's directory);
- `RLIMIT_AS` caps its address space (the RSS limit Linux enforces) and `RLIMIT_CORE` is 0; the
  wall clock is bounded, and a child that outlives it is killed with its whole process group, so
  a hang is a test failure, never a stuck suite;
- afterwards every file under the case's directory is compared with what was there before: only
  the output and cache directories may gain files, and the private temp dir must be empty again.

`assert_clean_error` states what a well-behaved refusal looks like: the documented exit code, one
line on stderr that starts `ci-security: error:`, no traceback, nothing left behind.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY = 2 << 30  # bytes of address space; a Python scan of a real image needs < 600 MiB


@dataclass(frozen=True)
class CaseDirs:
    """The directories of one case: `input` holds what the attacker wrote, `out` receives reports."""

    root: Path
    input: Path
    out: Path
    cwd: Path
    tmp: Path
    home: Path
    cache: Path

    @classmethod
    def make(cls, root: Path) -> CaseDirs:
        dirs = cls(
            root=root,
            input=root / "input",
            out=root / "out",
            cwd=root / "cwd",
            tmp=root / "tmp",
            home=root / "home",
            cache=root / "cache",
        )
        for path in (dirs.input, dirs.out, dirs.cwd, dirs.tmp, dirs.home, dirs.cache):
            path.mkdir(parents=True, exist_ok=True)
        return dirs


@dataclass(frozen=True)
class Outcome:
    """How the child ended and what it left."""

    code: int | None  # None when it was killed for running out of time
    signal: int | None  # the signal that ended it, if one did
    stdout: str
    stderr: str
    seconds: float
    leftovers: tuple[str, ...] = field(default=())

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def _snapshot(root: Path) -> set[str]:
    seen: set[str] = set()
    for current, dirs, files in os.walk(root, followlinks=False):
        for name in (*dirs, *files):
            seen.add(os.path.relpath(os.path.join(current, name), root))
    return seen


def _limits(memory: int) -> None:  # pragma: no cover - runs in the child between fork and exec
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.setsid()


def run_hostile(
    args: Sequence[str],
    dirs: CaseDirs,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    memory: int = DEFAULT_MEMORY,
    env: Mapping[str, str] | None = None,
    allowed: Sequence[Path] = (),
    program: Sequence[str] | None = None,
) -> Outcome:
    """Run `ci-security ARGS` on a hostile input in `dirs`; `allowed` adds directories (under
    `dirs.root`) that may gain files besides `out` and `cache`. `program` replaces
    `python -m ci_security` (the harness's own tests use it).
    """
    before = _snapshot(dirs.root)
    child_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(dirs.home),
        "TMPDIR": str(dirs.tmp),
        "XDG_CACHE_HOME": str(dirs.cache),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if "PYTHONPATH" in os.environ:
        child_env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    child_env.update(env or {})
    started = time.monotonic()
    process = subprocess.Popen(
        [*(program or (sys.executable, "-m", "ci_security")), *args],
        cwd=dirs.cwd,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: _limits(memory),
    )
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    seconds = time.monotonic() - started
    # The process group may hold grandchildren (git, docker save) that outlived the child.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    after = _snapshot(dirs.root)
    grown = after - before
    permitted = [dirs.out, dirs.cache, *allowed]
    leftovers = sorted(
        name
        for name in grown
        if not any(
            (dirs.root / name) == keep or (dirs.root / name).is_relative_to(keep) for keep in permitted
        )
    )
    code = process.returncode
    return Outcome(
        code=None if timed_out else (code if code >= 0 else None),
        signal=-code if code is not None and code < 0 else (signal.SIGKILL if timed_out else None),
        stdout=stdout.decode("utf-8", "replace"),
        stderr=stderr.decode("utf-8", "replace"),
        seconds=seconds,
        leftovers=tuple(leftovers),
    )


def assert_clean_error(outcome: Outcome, *, code: int = 2, contains: Sequence[str] = ()) -> str:
    """The child refused the input as documented; returns the error line."""
    assert outcome.code is not None, (
        f"killed after {outcome.seconds:.1f}s (signal {outcome.signal}); stderr: {outcome.stderr[-2000:]}"
    )
    assert "Traceback" not in outcome.stderr, outcome.stderr[-4000:]
    assert outcome.code == code, f"exit {outcome.code}, expected {code}; stderr: {outcome.stderr[-2000:]}"
    lines = outcome.stderr_lines
    errors = [line for line in lines if line.startswith("ci-security: error:")]
    assert len(errors) == 1, f"expected one error line, got: {lines}"
    line = errors[0]
    for needle in contains:
        assert needle in line, f"{needle!r} not in {line!r}"
    assert not outcome.leftovers, f"files left outside the output dirs: {outcome.leftovers[:20]}"
    return line


def assert_survived(outcome: Outcome, *, codes: Sequence[int] = (0, 1)) -> None:
    """The child finished an input it could partly read: an expected exit code, no traceback, and
    nothing left behind (used where the right answer is a partial scan with a warning).
    """
    assert outcome.code is not None, (
        f"killed after {outcome.seconds:.1f}s (signal {outcome.signal}); stderr: {outcome.stderr[-2000:]}"
    )
    assert "Traceback" not in outcome.stderr, outcome.stderr[-4000:]
    assert outcome.code in codes, (
        f"exit {outcome.code}, expected one of {codes}; stderr: {outcome.stderr[-2000:]}"
    )
    assert not outcome.leftovers, f"files left outside the output dirs: {outcome.leftovers[:20]}"
