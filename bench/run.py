#!/usr/bin/env python3
"""Benchmark ci-security against Trivy on the same inputs, in one run, and print the ratios.

Inputs: the benchmark image (Debian 12 minbase + 6 PyPI + 53 npm packages), as a docker-archive tarball
and as an OCI layout with a gzip layer. It is built, when --image-dir does not hold it yet, by
`tools/make-bench-image.sh` from `../shared` (or $CI_SECURITY_SHARED_DIR): the script is shared with
the other projects that benchmark on the same image, so it is read from there, not kept here.

Cases (each measured --runs times, the tools interleaved so machine drift hits them alike):
- docker-archive, cold: ci-security with an empty --cache-dir, Trivy with an empty --cache-dir;
- OCI layout, cold: the same;
- docker-archive, warm: both re-scan with their cache already filled.
Both produce an inventory: `ci-security scan --no-vulns -o json=…` (the report a pipeline keeps) and
`trivy image --format cyclonedx --offline-scan --skip-db-update` (no vulnerability DB is reachable
offline, and inventory is what both do before matching). Each case also times ci-security writing a
CycloneDX SBOM (`-o cyclonedx=…`), which adds cyclonedx-python-lib's import and serialisation.

ci-security runs as an installed package does: with its bytecode cache (`PYTHONDONTWRITEBYTECODE`
is removed from the child's environment and one warm-up run writes the .pyc files), because
`pip install` compiles bytecode at install time.

Reported per case: median wall time, median peak RSS (per child, from wait4), and ours/Trivy ratios.
Targets (issue 3): cold ratio <= 1.0 for both inputs, warm ci-security <= 0.3 s, RSS ratio <= 1.0.
Exit status 0 when every target holds, 1 otherwise.

    python3 bench/run.py [--image-dir DIR] [--image-script PATH] [--trivy PATH] [--runs N]
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


CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(cmd: list[str]) -> Sample:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=CHILD_ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"command failed ({status}): {' '.join(cmd)}\n{err[-2000:]}")
    return Sample(wall, usage.ru_maxrss)


def ours(ref: str, cache: Path, out: Path, fmt: str = "json") -> list[str]:
    return [
        sys.executable,
        "-m",
        "ci_security",
        "scan",
        "-q",
        "--no-vulns",
        "-i",
        ref,
        "--cache-dir",
        str(cache),
        "-o",
        f"{fmt}={out}",
    ]


def trivy(exe: str, target: Path, cache: Path, out: Path) -> list[str]:
    return [
        exe,
        "image",
        "--input",
        str(target),
        "--format",
        "cyclonedx",
        "--offline-scan",
        "--skip-db-update",
        "--cache-dir",
        str(cache),
        "--quiet",
        "-o",
        str(out),
    ]


def median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.wall for s in samples), int(statistics.median(s.rss_kib for s in samples))
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image-dir", type=Path, default=REPO / ".cache" / "bench-image")
    shared = Path(os.environ.get("CI_SECURITY_SHARED_DIR") or REPO.parent / "shared")
    parser.add_argument("--image-script", type=Path, default=shared / "tools" / "make-bench-image.sh")
    parser.add_argument("--trivy", default=str(REPO / ".peers" / "trivy" / "bin" / "trivy"))
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    image_dir: Path = args.image_dir
    if not (image_dir / "debian-app.tar").is_file():
        if not args.image_script.is_file():
            raise SystemExit(f"image script not found: {args.image_script} (pass --image-script)")
        subprocess.run(["bash", str(args.image_script), str(image_dir)], check=True)
    archive, layout = image_dir / "debian-app.tar", image_dir / "oci"
    trivy_exe = args.trivy if Path(args.trivy).is_file() else shutil.which("trivy")
    if not trivy_exe:
        raise SystemExit("Trivy not found: run scripts/setup.sh or pass --trivy")
    version = subprocess.run(
        [trivy_exe, "--version"], capture_output=True, text=True, check=True
    ).stdout.split("\n")[0]

    results: dict[str, dict[str, list[Sample]]] = {}
    with tempfile.TemporaryDirectory(prefix="ci-security-bench-") as tmp:
        work = Path(tmp)
        measure(ours(f"docker-archive:{archive}", work / "warm-up", work / "ours.json"))  # writes .pyc files
        cases = {
            "docker-archive, cold": (f"docker-archive:{archive}", archive),
            "OCI layout, cold": (f"oci:{layout}:base", layout),
        }
        for _ in range(args.runs):
            for case, (ref, target) in cases.items():
                row = results.setdefault(case, {"ours": [], "ours-cdx": [], "trivy": []})
                for key in ("ours", "ours-cdx", "trivy"):
                    cold = Path(tempfile.mkdtemp(dir=work))
                    if key == "trivy":
                        cmd = trivy(trivy_exe, target, cold, work / "trivy.json")
                    else:
                        cmd = ours(ref, cold, work / "ours.out", "json" if key == "ours" else "cyclonedx")
                    row[key].append(measure(cmd))
                    shutil.rmtree(cold)
        warm = {"ours": work / "warm-ours", "ours-cdx": work / "warm-ours", "trivy": work / "warm-trivy"}
        commands = {
            "ours": lambda: ours(f"docker-archive:{archive}", warm["ours"], work / "ours.json"),
            "ours-cdx": lambda: ours(
                f"docker-archive:{archive}", warm["ours"], work / "ours.cdx.json", "cyclonedx"
            ),
            "trivy": lambda: trivy(trivy_exe, archive, warm["trivy"], work / "trivy.json"),
        }
        measure(commands["ours"]())
        measure(commands["trivy"]())
        row = results.setdefault("docker-archive, warm", {"ours": [], "ours-cdx": [], "trivy": []})
        for _ in range(args.runs):
            for key, command in commands.items():
                row[key].append(measure(command()))

    python = sys.version.split()[0]
    print(f"ci-security (Python {python}) vs {version}; median of {args.runs} runs; {os.cpu_count()} CPUs")
    print()
    print(
        "| case | ci-security (json) | ci-security (cyclonedx) | Trivy (cyclonedx) | wall ratio json / cdx "
        "| ci-security peak RSS | Trivy peak RSS | RSS ratio |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    ok = True
    for case, row in results.items():
        a, c, b = median(row["ours"]), median(row["ours-cdx"]), median(row["trivy"])
        wall_ratio, rss_ratio = a.wall / b.wall, max(a.rss_kib, c.rss_kib) / b.rss_kib
        ratios = f"{wall_ratio:.2f} / {c.wall / b.wall:.2f}"
        rss = f"{max(a.rss_kib, c.rss_kib) / 1024:.0f} MiB | {b.rss_kib / 1024:.0f} MiB | {rss_ratio:.2f}"
        print(f"| {case} | {a.wall:.2f} s | {c.wall:.2f} s | {b.wall:.2f} s | {ratios} | {rss} |")
        ok &= rss_ratio <= 1.0
        ok &= a.wall <= 0.3 if "warm" in case else wall_ratio <= 1.0
    print()
    verdict = "met" if ok else "NOT met"
    print(f"targets (json): cold wall ratio <= 1.0, warm ci-security <= 0.3 s, RSS ratio <= 1.0: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
