#!/usr/bin/env python3
"""Benchmark the manifest checks against Hadolint, Trivy config and Checkov on one corpus, in one run.

Two corpora:

- `python3 bench/manifests.py DIR`: a directory of real manifests, checked in place. `bench/README.md`
  says how to build the one `docs/benchmarks.md` reports (public repositories at named commits,
  extracted into a temporary directory, never committed).
- `python3 bench/manifests.py` (no DIR): the files the project wrote for its tests (every rule's
  fire/pass/suppressed files and the importer corpus), copied `--copies` times into a temporary
  directory, each copy in its own folder so every tool sees distinct paths.

Each tool checks the whole corpus the way a CI job would run it:

    ci-security scan --manifests DIR --repo-root DIR -o json=FILE
    hadolint --no-fail -f json <every Dockerfile>        (Dockerfiles only)
    trivy config --skip-check-update -f json DIR
    checkov -d DIR --framework dockerfile kubernetes --skip-download -o json --compact --quiet

Times are wall-clock medians of `--runs` runs (the first run of each tool is a warm-up, not counted).
For ci-security the report also gives what a user sees: findings per file and per object (Kubernetes
objects, compose services and Dockerfile stages, counted once with this checkout's parser so that two
versions compare on the same denominators), the findings at HIGH and above that fail the default
policy, the lines where one resource has more than one finding, and the findings by rule.
`--ci-security-root` runs another checkout of ci-security (for a before/after comparison: extract the
commit you started from with `git archive COMMIT | tar -x -C /tmp/before`); `--skip-peers` leaves the
peers out; `--json FILE` writes the numbers.

Coverage: every check id a peer reports on the corpus must be one of our rules' `peers` (so an
imported finding becomes ours) or be listed in `ci_security/rules/not_covered.py` with the reason
we do not implement it. Unexplained ids are printed and make the exit status 1.

    python3 bench/manifests.py [DIR] [--copies N] [--runs N] [--peers-dir .peers]
                               [--ci-security-root PATH] [--skip-peers] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ci_security.rules.discover import discover  # noqa: E402
from ci_security.rules.not_covered import explains  # noqa: E402
from ci_security.rules.registry import all_metadata  # noqa: E402
from ci_security.rules.runner import check_manifest  # noqa: E402

SOURCES = (
    REPO / "tests" / "fixtures" / "manifests" / "rules",
    REPO / "tests" / "fixtures" / "ingest" / "config",
)
TRIVY_ID = "ID"
FAILING = frozenset({"CRITICAL", "HIGH"})
# The object part of a finding's resource: "Deployment/ns/web container app" -> "Deployment/ns/web".
_CONTAINER = re.compile(r" (?:init |ephemeral )?container .*$")


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
        or name.endswith((".dockerfile", ".containerfile"))
        or name.startswith(("dockerfile.", "containerfile."))
    )


def timed(command: list[str], runs: int, cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    subprocess.run(command, cwd=cwd, capture_output=True, check=False, env=env)  # warm-up (page cache, .pyc)
    times, output = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, env=env)
        times.append(time.perf_counter() - start)
        output = done.stdout
        if done.returncode not in (0, 1):
            raise SystemExit(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return statistics.median(times), output


@dataclass
class Denominators:
    """What the corpus holds, counted once with this checkout's parser."""

    files: dict[str, int] = field(default_factory=dict)
    objects: int = 0
    custom_resources: int = 0

    @property
    def checked(self) -> int:
        return sum(self.files.values())


def denominators(corpus: Path) -> Denominators:
    counted = Denominators()
    kinds: Counter[str] = Counter()
    for manifest in discover([corpus], corpus):
        result = check_manifest(manifest.path, manifest.shown)
        if result.kind is not None:
            kinds[result.kind] += 1
            counted.objects += result.objects
            counted.custom_resources += len(result.custom)
    counted.files = dict(sorted(kinds.items()))
    return counted


@dataclass
class Ours:
    seconds: float
    exit_code: int
    findings: int
    failing: int
    violations: int
    per_file: float
    per_object: float
    objects_with_findings: int
    stacked_lines: int
    most_on_one_line: int
    by_rule: dict[str, int]
    by_severity: dict[str, int]


def ours(corpus: Path, out: Path, runs: int, root: Path, counted: Denominators) -> tuple[Ours, list[str]]:
    command = [sys.executable, "-m", "ci_security", "scan", "--manifests", str(corpus), "-o", f"json={out}"]
    command += ["--repo-root", str(corpus), "-q"]
    env = {**os.environ, "PYTHONPATH": str(root)}
    seconds, _ = timed(command, runs, corpus, env)
    done = subprocess.run(command, cwd=corpus, capture_output=True, check=False, env=env)
    report = json.loads(out.read_text())
    items = report.get("misconfigurations", [])
    per_line = Counter((m["path"], m["line"], m["resource"]) for m in items)
    objects = {(m["path"], _CONTAINER.sub("", m["resource"])) for m in items}
    result = Ours(
        seconds=seconds,
        exit_code=done.returncode,
        findings=len(items),
        failing=sum(1 for m in items if m["severity"] in FAILING and not m.get("suppressed")),
        violations=len(report.get("policy", {}).get("violations", [])),
        per_file=len(items) / max(counted.checked, 1),
        per_object=len(items) / max(counted.objects, 1),
        objects_with_findings=len(objects),
        stacked_lines=sum(1 for n in per_line.values() if n > 1),
        most_on_one_line=max(per_line.values(), default=0),
        by_rule=dict(sorted(Counter(m["rule_id"] for m in items).items())),
        by_severity=dict(Counter(m["severity"] for m in items)),
    )
    return result, [m["rule_id"] for m in items]


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
    parser.add_argument("corpus", nargs="?", type=Path, help="a directory of real manifests")
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peers-dir", type=Path, default=REPO / ".peers")
    parser.add_argument("--ci-security-root", type=Path, default=REPO)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ci-security-bench-") as tmp:
        work = Path(tmp)
        if args.corpus is not None:
            corpus = args.corpus.resolve()
            if not corpus.is_dir():
                raise SystemExit(f"{args.corpus}: not a directory")
            files = sorted(p for p in corpus.rglob("*") if p.is_file() and not p.is_symlink())
        else:
            corpus = work / "corpus"
            files = build_corpus(corpus, args.copies)
        counted = denominators(corpus)
        dockerfiles = sum(1 for f in files if is_dockerfile(f))
        print(f"corpus: {corpus} ({len(files)} files, {dockerfiles} named like Dockerfiles)")
        print(
            f"checked by ci-security: {counted.checked} files {counted.files}, {counted.objects} objects, "
            f"{counted.custom_resources} custom resources"
        )
        own, own_ids = ours(corpus, work / "ours.json", args.runs, args.ci_security_root.resolve(), counted)
        results: dict[str, tuple[float, list[str]]] = {"ci-security": (own.seconds, own_ids)}
        if not args.skip_peers:
            results["hadolint"] = hadolint(args.peers_dir, corpus, files, args.runs)
            results["trivy"] = trivy(args.peers_dir, corpus, args.runs, work / "trivy-cache")
            results["checkov"] = checkov(args.peers_dir, corpus, args.runs)

    print(f"\nci-security ({args.ci_security_root}): exit {own.exit_code}")
    rates = f"{own.per_file:.2f} per file, {own.per_object:.2f} per object"
    print(f"  findings            {own.findings:6d}  ({rates})")
    print(f"  HIGH and above      {own.failing:6d}  (policy violations: {own.violations})")
    print(f"  objects with any    {own.objects_with_findings:6d}")
    stacked = f"{own.stacked_lines} (at most {own.most_on_one_line})"
    print(f"  lines where one resource has several findings: {stacked}")
    print(f"  by severity         {dict(sorted(own.by_severity.items()))}")
    print(f"  by rule             {own.by_rule}")
    base = results["ci-security"][0]
    print(f"\n{'tool':<12} {'median s':>9} {'vs ours':>8} {'findings':>9} {'per file':>9}  checks")
    for tool, (seconds, ids) in results.items():
        per_file = len(ids) / max(counted.checked, 1)
        print(
            f"{tool:<12} {seconds:9.2f} {seconds / base:7.1f}x {len(ids):9d} {per_file:9.2f}  {len(set(ids))}"
        )
    if args.json is not None:
        numbers = {
            "corpus": {"files": len(files), "checked": counted.files, "objects": counted.objects},
            "ci-security": asdict(own),
            "peers": {
                t: {"seconds": s, "findings": len(i)} for t, (s, i) in results.items() if t != "ci-security"
            },
        }
        args.json.write_text(json.dumps(numbers, indent=2) + "\n")
    missing = coverage({tool: ids for tool, (_, ids) in results.items() if tool != "ci-security"})
    if missing:
        print("\npeer checks that are neither one of our rules' peers nor in rules/not_covered.py:")
        for tool, pid, count in missing:
            print(f"  {tool} {pid} ({count} findings)")
        return 1
    if not args.skip_peers:
        print("\ncoverage: every check the peers reported is ours or listed in docs/rules.md with a reason")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
