#!/usr/bin/env python3
"""Benchmark the manifest checks against Hadolint, Trivy config and Checkov on one corpus, in one run.

The corpus is built from the files the project wrote for its tests: every rule's fire/pass/suppressed
files (`tests/fixtures/manifests/rules/`) and the importer corpus (`tests/fixtures/ingest/config/`),
copied `--copies` times into a temporary directory (each copy in its own folder, so every tool sees
distinct paths), which gives 300+ files by default. Each tool checks the whole corpus the way a CI
job would run it:

    ci-security scan --manifests DIR -o json=FILE
    hadolint --no-fail -f json <every Dockerfile>        (Dockerfiles only)
    trivy config --skip-check-update -f json DIR
    checkov -d DIR --framework dockerfile kubernetes --skip-download -o json --compact --quiet

Times are wall-clock medians of `--runs` runs (the first run of each tool is a warm-up, not
counted). The report gives each tool's time, the ratio to ours, and its finding count.

Coverage: every check id a peer reports on the corpus must be one of our rules' `peers` (so an
imported finding becomes ours) or be listed in `ci_security/rules/not_covered.py` with the reason
we do not implement it. Unexplained ids are printed and make the exit status 1.

    python3 bench/manifests.py [--copies N] [--runs N] [--peers-dir .peers]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ci_security.rules.not_covered import explains  # noqa: E402
from ci_security.rules.registry import all_metadata  # noqa: E402

SOURCES = (
    REPO / "tests" / "fixtures" / "manifests" / "rules",
    REPO / "tests" / "fixtures" / "ingest" / "config",
)
TRIVY_ID = "ID"


def build_corpus(target: Path, copies: int) -> list[Path]:
    files = []
    for copy in range(copies):
        for source in SOURCES:
            for path in sorted(source.rglob("*")):
                if not path.is_file() or path.name == "expect.json":
                    continue
                relative = path.relative_to(source)
                dest = target / f"copy{copy:02d}" / source.name / relative
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)
                files.append(dest)
    return files


def is_dockerfile(path: Path) -> bool:
    name = path.name.lower()
    return (
        name in ("dockerfile", "containerfile")
        or name.endswith(".dockerfile")
        or name.startswith("dockerfile.")
    )


def timed(command: list[str], runs: int, cwd: Path) -> tuple[float, str]:
    subprocess.run(command, cwd=cwd, capture_output=True, check=False)  # warm-up (page cache, .pyc)
    times, output = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        output = done.stdout
        if done.returncode not in (0, 1):
            raise SystemExit(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return statistics.median(times), output


def ours(corpus: Path, out: Path, runs: int) -> tuple[float, list[str]]:
    command = [sys.executable, "-m", "ci_security", "scan", "--manifests", str(corpus), "-o", f"json={out}"]
    command += ["--repo-root", str(corpus), "-q"]
    seconds, _ = timed(command, runs, corpus)
    report = json.loads(out.read_text())
    return seconds, [m["rule_id"] for m in report.get("misconfigurations", [])]


def hadolint(peers: Path, corpus: Path, files: list[Path], runs: int) -> tuple[float, list[str]]:
    dockerfiles = [str(f) for f in files if is_dockerfile(f)]
    seconds, output = timed([str(peers / "hadolint"), "--no-fail", "-f", "json", *dockerfiles], runs, corpus)
    return seconds, [item["code"] for item in json.loads(output or "[]")]


def trivy(peers: Path, corpus: Path, runs: int, cache: Path) -> tuple[float, list[str]]:
    command = [str(peers / "trivy" / "bin" / "trivy"), "config", "--skip-check-update", "-q", "-f", "json"]
    command += ["--cache-dir", str(cache), str(corpus)]
    seconds, output = timed(command, runs, corpus)
    ids = []
    for result in json.loads(output).get("Results") or []:
        ids += [m[TRIVY_ID] for m in result.get("Misconfigurations") or [] if m.get("Status") == "FAIL"]
    return seconds, ids


def checkov(peers: Path, corpus: Path, runs: int) -> tuple[float, list[str]]:
    command = [str(peers / "checkov"), "-d", str(corpus), "--framework", "dockerfile", "kubernetes"]
    command += ["--skip-download", "-o", "json", "--compact", "--quiet"]
    seconds, output = timed(command, runs, corpus)
    data = json.loads(output) if output.strip() else []
    reports = data if isinstance(data, list) else [data]
    ids = []
    for report in reports:
        ids += [c["check_id"] for c in report.get("results", {}).get("failed_checks", [])]
    return seconds, ids


def coverage(found: dict[str, list[str]]) -> list[tuple[str, str, int]]:
    covered = {(tool, pid.upper()) for meta in all_metadata() for tool, pid in meta.peers}
    missing = []
    for tool, ids in found.items():
        for pid, count in sorted(Counter(ids).items()):
            if (tool, pid.upper()) not in covered and not explains(tool, pid):
                missing.append((tool, pid, count))
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peers-dir", type=Path, default=REPO / ".peers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ci-security-bench-") as tmp:
        work = Path(tmp)
        corpus = work / "corpus"
        files = build_corpus(corpus, args.copies)
        dockerfiles = sum(1 for f in files if is_dockerfile(f))
        print(f"corpus: {len(files)} files ({dockerfiles} Dockerfiles, {len(files) - dockerfiles} YAML)")
        results = {
            "ci-security": ours(corpus, work / "ours.json", args.runs),
            "hadolint": hadolint(args.peers_dir, corpus, files, args.runs),
            "trivy": trivy(args.peers_dir, corpus, args.runs, work / "trivy-cache"),
            "checkov": checkov(args.peers_dir, corpus, args.runs),
        }
    base = results["ci-security"][0]
    print(f"{'tool':<12} {'median s':>9} {'vs ours':>8} {'findings':>9}  checks")
    for tool, (seconds, ids) in results.items():
        print(f"{tool:<12} {seconds:9.2f} {seconds / base:7.1f}x {len(ids):9d}  {len(set(ids))}")
    missing = coverage({tool: ids for tool, (_, ids) in results.items() if tool != "ci-security"})
    if missing:
        print("\npeer checks that are neither one of our rules' peers nor in rules/not_covered.py:")
        for tool, pid, count in missing:
            print(f"  {tool} {pid} ({count} findings)")
        return 1
    print("\ncoverage: every check the peers reported is ours or listed in docs/rules.md with a reason")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
