#!/usr/bin/env python3
"""Benchmark the dynamic scan: what the sandbox and the tracer add to running an image's entrypoint.

No other tool runs an image and judges it as a CI step, so the comparison is with the same
entrypoint run without them, in the same run. Two benign images, built from Debian packages as the
sandbox tests build them (`tests/testkit/debs.py`, packages from `scripts/setup.sh`'s cache):

- `busybox`: busybox-static, entrypoint `/bin/sh /app/run.sh`, a script that prints and exits 0;
- `python`: a minimal Python 3.11 with python3-six, entrypoint `python3.11 /app/main.py` importing
  six and printing (the interpreter opens ~50 files and maps a dozen libraries: the tracer's work).

Measured for each, median of `--runs` runs after one warm-up, wall clock:

- plain: the entrypoint run directly in the unpacked root (`chroot` as root, else the program from
  the root folder), no namespaces, no tracer;
- isolation: bubblewrap alone with the sandbox's namespaces, mounts and limits around the same root;
- sandbox: `run.execute`, the whole chain (setpriv, strace with seccomp-bpf, prlimit, bubblewrap,
  the isolation check while held, teardown), plus reading the trace into events;
- `ci-security sandbox`: the command from process start to verdict (`--no-vulns`, `-o json=…`):
  open the image, catalogue it, check the sandbox can be built, unpack, run, judge, report;
- `ci-security scan`: the same command without running the image, for reference.

    python3 bench/sandbox.py [--runs N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from testkit.debs import SANDBOX_DEBS, busybox_root, docker_archive, install  # noqa: E402

from ci_security import limits  # noqa: E402
from ci_security.image.base import SourceOptions  # noqa: E402
from ci_security.image.reference import parse_image_ref  # noqa: E402
from ci_security.image.registry import source_for  # noqa: E402
from ci_security.sandbox import strace  # noqa: E402
from ci_security.sandbox.command import Overrides, resolve  # noqa: E402
from ci_security.sandbox.dynamic import prepare, private_dir  # noqa: E402
from ci_security.sandbox.events import TimelineBuilder  # noqa: E402
from ci_security.sandbox.isolation import bwrap_args, no_input, prlimit_args, tool_env  # noqa: E402
from ci_security.sandbox.rootfs import unpack  # noqa: E402
from ci_security.sandbox.run import execute  # noqa: E402


def build_images(folder: Path) -> dict[str, Path]:
    busybox = busybox_root(folder / "busybox", ("echo",))
    (busybox / "app").mkdir()
    (busybox / "app/run.sh").write_text("echo hello from the image\nexit 0\n")
    python = folder / "python"
    install(python, [name for name in SANDBOX_DEBS if name != "busybox-static"])
    (python / "app").mkdir()
    (python / "app/main.py").write_text("import six\n\nprint('six', six.__version__)\n")
    return {
        "busybox": docker_archive(
            folder / "busybox.tar",
            busybox,
            {"Entrypoint": ["/bin/sh", "/app/run.sh"], "Env": ["PATH=/bin"], "WorkingDir": "/app"},
        ),
        "python": docker_archive(
            folder / "python.tar",
            python,
            {
                "Entrypoint": ["/usr/bin/python3.11", "/app/main.py"],
                "Env": ["PATH=/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1"],
                "WorkingDir": "/app",
            },
        ),
    }


def median_time(action: Callable[[], object], runs: int) -> float:
    action()  # warm-up: page cache, bytecode
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(name: str, archive: Path, runs: int, work: Path) -> dict[str, float]:
    prepared = prepare()
    ref = parse_image_ref(f"docker-archive:{archive}")
    (work / name).mkdir()
    image = source_for(ref).open(ref, SourceOptions(workdir=work / name))
    out: dict[str, float] = {}
    with private_dir(prepared.identity) as private:
        target = private / "rootfs"
        target.mkdir()
        rootfs = unpack(image, target, owner=prepared.identity.owner)
        command = resolve(image.config, rootfs, Overrides())
        env = dict(command.env)

        def plain() -> None:
            chroot = shutil.which("chroot") or "/usr/sbin/chroot"
            argv = (
                [chroot, str(rootfs.path), *command.argv]
                if os.geteuid() == 0
                else [str(rootfs.path) + command.argv[0], *command.argv[1:]]
            )
            with no_input() as stdin:
                subprocess.run(argv, env=env, stdin=stdin, capture_output=True, check=True, cwd="/")

        def isolation() -> None:
            argv = [
                *prlimit_args(prepared.tools, prepared.identity),
                "--",
                *bwrap_args(prepared.tools, rootfs=rootfs.path, command=command, info_fd=None, block_fd=None),
            ]
            with no_input() as stdin:
                subprocess.run(
                    argv,
                    env=tool_env(),
                    stdin=stdin,
                    capture_output=True,
                    check=True,
                    user=prepared.identity.uid,
                    group=prepared.identity.gid,
                    extra_groups=[] if prepared.identity.uid is not None else None,
                )

        def sandbox() -> None:
            run = execute(prepared.tools, prepared.identity, rootfs.path, command, private, duration=60)
            builder = TimelineBuilder(
                {prepared.tools.prlimit, prepared.tools.bwrap}, limits.active().sandbox_events
            )
            with open(run.trace, encoding="utf-8", errors="surrogateescape") as lines:
                for record in strace.calls(lines):
                    builder.feed(record)
            assert builder.finish().main_exit == 0

        out["plain"] = median_time(plain, runs)
        out["isolation"] = median_time(isolation, runs)
        out["sandbox"] = median_time(sandbox, runs)
    image.close()
    env_cli = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(work / "cache")}
    for command_name in ("sandbox", "scan"):
        report = work / f"{name}-{command_name}.json"

        def cli(command_name: str = command_name, report: Path = report) -> None:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "ci_security",
                    command_name,
                    "--image",
                    f"docker-archive:{archive}",
                    "--no-vulns",
                    "--repo-root",
                    str(work),
                    "-q",
                    "-o",
                    f"json={report}",
                ],
                env=env_cli,
                capture_output=True,
                check=False,
                cwd=work,
            )

        out[f"ci-security {command_name}"] = median_time(cli, runs)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ci-security-bench-sandbox-") as tmp:
        work = Path(tmp)
        images = build_images(work / "images")
        results = {name: measure(name, archive, args.runs, work) for name, archive in images.items()}
    columns = ("plain", "isolation", "sandbox", "ci-security sandbox", "ci-security scan")
    print(f"median of {args.runs} runs, wall clock, seconds ({os.cpu_count()} CPUs)")
    print("| image | " + " | ".join(columns) + " | sandbox - plain | sandbox - isolation |")
    print("| --- | " + " | ".join("---:" for _ in columns) + " | ---: | ---: |")
    for name, found in results.items():
        cells = " | ".join(f"{found[c]:.3f}" for c in columns)
        tracer = found["sandbox"] - found["isolation"]
        print(f"| {name} | {cells} | {found['sandbox'] - found['plain']:.3f} | {tracer:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
