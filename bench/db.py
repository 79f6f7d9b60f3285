#!/usr/bin/env python3
"""The database at fleet scale (issue 18): building it from OSV against pulling it from a registry,
and the import before and after, side by side in one run.

1. A synthetic export of 300,000 records (`bench/osvgen.py`: Debian, Ubuntu, Alpine, npm with
   malicious-package records, PyPI, Maven), generated once into `.cache/bench-osv/` and served from
   a loopback mirror with the bucket's layout.
2. Cold `db update` of those six ecosystems into an empty database, with this checkout and, with
   `--baseline-root DIR` (another checkout, e.g. `git archive 45e2034 | tar -x -C DIR`), with that
   one, run back to back in the same run: the import throughput before and after.
3. `db push` of the database this checkout built to a loopback `docker-registry`, then `db pull` of
   it into an empty directory (cold), and again (warm: the digest did not change).
4. The artifact's compressed size beside the database's.

Targets: the cold `db pull` takes under 10 % of the cold `db update`; the import runs at least twice
as fast as the baseline's. Exit status 0 when both hold (1 otherwise; without a baseline, only the
first is checked). Every command is a child process, as CI runs it; wall time from start to exit,
peak RSS of the largest process from wait4.

    python3 bench/db.py [--baseline-root DIR] [--records N] [--runs N]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))

import osvgen  # noqa: E402

from ci_security.vulndb.store import SCHEMA_VERSION  # noqa: E402

ECOSYSTEMS = [eco for eco, _ in osvgen.MIX]


@dataclass(frozen=True)
class Sample:
    seconds: float
    cpu: float  # user + system seconds of the process and the workers it waited for
    rss_mib: float


def _child_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env["PYTHONPATH"] = str(root)
    for name in list(env):
        if name.startswith("CI_SECURITY_"):
            del env[name]  # nothing of the caller's configuration leaks into the measured runs
    return env


def run(cmd: list[str], root: Path) -> Sample:
    # Run from outside any checkout: `python -m` puts the working directory first on sys.path, which
    # would make a checkout there win over `root`.
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        env=_child_env(root),
        cwd=tempfile.gettempdir(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench: {' '.join(cmd[:5])} … failed:\n{err[-2000:]}")
    return Sample(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def ci_security(*args: str) -> list[str]:
    return [sys.executable, "-m", "ci_security", *args]


@contextmanager
def mirror(directory: Path) -> Iterator[str]:
    """The export served over HTTP on 127.0.0.1, as the OSV bucket lays it out."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def export(records: int) -> Path:
    folder = REPO / ".cache" / "bench-osv" / f"v{osvgen.VERSION}-{records}"
    if not (folder / "complete").is_file():
        print(f"generating the synthetic export of {records:,} records into {folder} (once) …", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
        osvgen.write_export(folder, records)
        (folder / "complete").write_text("")
    return folder


def cold_update(root: Path, url: str, workdir: Path) -> tuple[Sample, Path]:
    db = workdir / f"update-{root.name}" / "osv.sqlite"
    shutil.rmtree(db.parent, ignore_errors=True)
    args = ["db", "update", "--db", str(db), "--mirror", url]
    for eco in ECOSYSTEMS:
        args += ["--ecosystem", eco]
    return run(ci_security(*args), root), db


def median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.seconds for s in samples),
        statistics.median(s.cpu for s in samples),
        statistics.median(s.rss_mib for s in samples),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-root", type=Path, help="another checkout of ci-security to compare with")
    parser.add_argument("--records", type=int, default=osvgen.DEFAULT_RECORDS)
    parser.add_argument("--runs", type=int, default=3, help="cold updates per checkout (median)")
    args = parser.parse_args()
    if shutil.which("docker-registry") is None:
        raise SystemExit("bench: docker-registry is not installed (scripts/install-test-deps.sh)")
    from testkit.registries import docker_registry

    folder = export(args.records)
    roots = [("after", REPO)] + ([("before", args.baseline_root.resolve())] if args.baseline_root else [])
    with tempfile.TemporaryDirectory(prefix="ci-security-bench-db-") as tmp, mirror(folder) as url:
        work = Path(tmp)
        updates: dict[str, list[Sample]] = {name: [] for name, _ in roots}
        built = work / "none"
        for _ in range(args.runs):
            for name, root in roots if len(updates["after"]) % 2 == 0 else list(reversed(roots)):
                sample, db = cold_update(root, url, work)
                updates[name].append(sample)
                print(f"cold db update ({name}): {sample.seconds:.1f} s, {sample.cpu:.1f} s CPU", flush=True)
                if name == "after":
                    built = db
        with docker_registry(work / "registry") as registry:
            reference = f"{registry.host}/bench/ci-security-db"
            push = run(ci_security("db", "push", "--db", str(built), reference), REPO)
            live = work / "ci" / "osv.sqlite"
            cold_pull = run(ci_security("db", "pull", "--db", str(live), reference), REPO)
            warm_pull = run(ci_security("db", "pull", "--db", str(live), reference), REPO)
            request = urllib.request.Request(
                f"http://{registry.host}/v2/bench/ci-security-db/manifests/{SCHEMA_VERSION}",
                headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
            )
            with urllib.request.urlopen(request, timeout=30) as answer:  # loopback only
                manifest = json.loads(answer.read())
        compressed = manifest["layers"][0]["size"]
        database = live.stat().st_size

    after = median(updates["after"])
    print()
    names = ", ".join(ECOSYSTEMS)
    print(f"synthetic export: {args.records:,} records ({names}), {_mib(_size(folder))} of all.zip")
    print()
    print("| measurement | wall | CPU (user + sys) | records/s (wall) | peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: |")
    rows = [(f"before ({args.baseline_root})", median(updates["before"]))] if "before" in updates else []
    for label, sample in [*rows, ("after (this checkout)", after)]:
        rate = f"{args.records / sample.seconds:,.0f}"
        print(f"| cold `db update`, {label} | {sample.seconds:.1f} s | {sample.cpu:.1f} s | {rate} | "
              f"{sample.rss_mib:.0f} MiB |")  # fmt: skip
    for label, sample in (
        ("`db push` to a loopback registry", push),
        ("cold `db pull` from it", cold_pull),
        ("warm `db pull` (same digest: one HEAD)", warm_pull),
    ):
        print(f"| {label} | {sample.seconds:.2f} s | {sample.cpu:.2f} s | | {sample.rss_mib:.0f} MiB |")
    print()
    print(f"artifact: {_mib(compressed)} compressed (zstd layer), database {_mib(database)}"
          f" ({compressed / database:.0%})")  # fmt: skip
    share = cold_pull.seconds / after.seconds
    ok = share < 0.10
    print(f"cold pull / cold update: {share:.1%} (target < 10 %: {'met' if ok else 'NOT met'})")
    if "before" in updates:
        before = median(updates["before"])
        speedup = before.seconds / after.seconds
        met = speedup >= 2.0
        ok = ok and met
        verdict = "met" if met else "NOT met"
        print(f"import throughput after / before: {speedup:.2f}x (target >= 2x: {verdict}); "
              f"CPU spent: {before.cpu / after.cpu:.2f}x less")  # fmt: skip
    return 0 if ok else 1


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("all.zip"))


def _mib(size: int) -> str:
    return f"{size / (1 << 20):,.0f} MiB"


if __name__ == "__main__":
    raise SystemExit(main())
