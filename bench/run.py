#!/usr/bin/env python3
"""Benchmark ci-security against Trivy on the same inputs, in one run, and print the ratios.

Inputs: the benchmark image from bench/make-bench-image.sh (Debian 12 minbase + 6 PyPI + 53 npm
packages), as a docker-archive tarball and as an OCI layout with a gzip layer.

Cases (each measured --runs times, the two tools interleaved so machine drift hits both alike):
- docker-archive, cold: ci-security with an empty --cache-dir, Trivy with an empty --cache-dir;
- OCI layout, cold: the same;
- warm: both re-scan the docker-archive with their cache already filled.
Both produce an inventory: `ci-security scan --no-vulns -o cyclonedx=…` and
`trivy image --format cyclonedx --offline-scan --skip-db-update` (no vulnerability DB is reachable
offline, and inventory is what both do before matching).

Reported per case: median wall time, median peak RSS (per child, from wait4), and ours/Trivy ratios.
Targets (issue 3): cold ratio <= 1.0 for both inputs, warm ci-security <= 0.3 s, RSS ratio <= 1.0.
Exit status 0 when every target holds, 1 otherwise.

    python3 bench/run.py [--image-dir DIR] [--trivy PATH] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Sample:
    wall: float
    rss_kib: int


def measure(cmd: list[str]) -> Sample:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"command failed ({status}): {' '.join(cmd)}\n{err[-2000:]}")
    return Sample(wall, usage.ru_maxrss)


def ours(ref: str, cache: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "ci_security", "scan", "-q", "--no-vulns", "-i", ref,
            "--cache-dir", str(cache), "-o", f"cyclonedx={out}"]


def trivy(exe: str, target: Path, cache: Path, out: Path) -> list[str]:
    return [exe, "image", "--input", str(target), "--format", "cyclonedx", "--offline-scan", "--skip-db-update",
            "--cache-dir", str(cache), "--quiet", "-o", str(out)]


def median(samples: list[Sample]) -> Sample:
    return Sample(statistics.median(s.wall for s in samples), int(statistics.median(s.rss_kib for s in samples)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image-dir", type=Path, default=REPO / ".cache" / "bench-image")
    parser.add_argument("--trivy", default=str(REPO / ".peers" / "trivy" / "bin" / "trivy"))
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    image_dir: Path = args.image_dir
    if not (image_dir / "debian-app.tar").is_file():
        subprocess.run(["bash", str(REPO / "bench" / "make-bench-image.sh"), str(image_dir)], check=True)
    archive, layout = image_dir / "debian-app.tar", image_dir / "oci"
    trivy_exe = args.trivy if Path(args.trivy).is_file() else shutil.which("trivy")
    if not trivy_exe:
        raise SystemExit("Trivy not found: run scripts/setup.sh or pass --trivy")
    version = subprocess.run([trivy_exe, "--version"], capture_output=True, text=True, check=True).stdout.split("\n")[0]

    results: dict[str, dict[str, list[Sample]]] = {}
    with tempfile.TemporaryDirectory(prefix="ci-security-bench-") as tmp:
        work = Path(tmp)
        cases = {
            "docker-archive, cold": (f"docker-archive:{archive}", archive),
            "OCI layout, cold": (f"oci:{layout}:base", layout),
        }
        for _ in range(args.runs):
            for case, (ref, target) in cases.items():
                cold_ours, cold_trivy = Path(tempfile.mkdtemp(dir=work)), Path(tempfile.mkdtemp(dir=work))
                row = results.setdefault(case, {"ours": [], "trivy": []})
                row["ours"].append(measure(ours(ref, cold_ours, work / "ours.json")))
                row["trivy"].append(measure(trivy(trivy_exe, target, cold_trivy, work / "trivy.json")))
                shutil.rmtree(cold_ours)
                shutil.rmtree(cold_trivy)
        warm_ours, warm_trivy = work / "warm-ours", work / "warm-trivy"
        measure(ours(f"docker-archive:{archive}", warm_ours, work / "ours.json"))
        measure(trivy(trivy_exe, archive, warm_trivy, work / "trivy.json"))
        row = results.setdefault("docker-archive, warm", {"ours": [], "trivy": []})
        for _ in range(args.runs):
            row["ours"].append(measure(ours(f"docker-archive:{archive}", warm_ours, work / "ours.json")))
            row["trivy"].append(measure(trivy(trivy_exe, archive, warm_trivy, work / "trivy.json")))

    print(f"ci-security (Python {sys.version.split()[0]}) vs {version}; median of {args.runs} runs; {os.cpu_count()} CPUs")
    print()
    print("| case | ci-security wall | Trivy wall | wall ratio | ci-security peak RSS | Trivy peak RSS | RSS ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    ok = True
    for case, row in results.items():
        a, b = median(row["ours"]), median(row["trivy"])
        wall_ratio, rss_ratio = a.wall / b.wall, a.rss_kib / b.rss_kib
        print(f"| {case} | {a.wall:.2f} s | {b.wall:.2f} s | {wall_ratio:.2f} | {a.rss_kib / 1024:.0f} MiB "
              f"| {b.rss_kib / 1024:.0f} MiB | {rss_ratio:.2f} |")
        ok &= rss_ratio <= 1.0
        ok &= a.wall <= 0.3 if "warm" in case else wall_ratio <= 1.0
    print()
    print("targets: cold wall ratio <= 1.0, warm ci-security <= 0.3 s, RSS ratio <= 1.0:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
