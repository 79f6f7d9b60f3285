#!/usr/bin/env python3
"""Benchmark `ci-security fix`: the plan for a repository of 10 Dockerfiles over 3 base images, with
every candidate scanned, cache cold and warm, next to what the same evidence costs with Trivy.

The world is built here, on 127.0.0.1 only: Debian's docker-registry with basic auth, and three base
images (`bench/alpha`, `bench/beta`, `bench/gamma`), each with the tags 1.0, 1.1, 1.2 and 2.0. Every
image is a Debian 12 root with a 300-package dpkg database and an 8 MiB payload layer the tags of one
base share, plus a small layer with that tag's versions of three packages; advisories written here
(OSV format, `Debian:12`) make 1.0 vulnerable, 1.1 fix part, 1.2 fix the rest (and for gamma add a
CRITICAL, so 1.1 is the one recommended). The repository has 10 Dockerfiles: four on alpha (one with
the tag in an `ARG`), three on beta (one multi-stage), three on gamma. The plan lists the tags of the
three repositories, resolves and scans 3 current images and 6 candidates (2.0 is a major update,
which the default policy does not propose), and proposes 10 updates.

    ci-security fix --repo REPO --dry-run -o json=FILE

runs as its own process, as in a pipeline; "cold" is an empty layer cache (the vulnerability
database exists), "warm" the same cache again. The peer: Renovate would propose these bumps without
scanning anything, so the evidence is what a Renovate-and-Trivy pipeline would have to add: Trivy
inventorying the same 9 images from the registry (`trivy image --offline-scan --skip-db-update
--format cyclonedx`, no vulnerability database reachable here), cold and warm, one after another.
Times are medians of `--runs` runs.

    python3 bench/fix.py [--runs N] [--trivy PATH] [--skip-peers] [--json FILE]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from testkit.images import DEBIAN_RELEASE, build_oci_layout, directory, dpkg_status, file  # noqa: E402
from testkit.registries import docker_registry  # noqa: E402

USER, PASSWORD = "bench", "bench-pw-1"
BASES = ("alpha", "beta", "gamma")
TAGS = ("1.0", "1.1", "1.2", "2.0")
# package -> (severity, fixed in); the versions each tag carries are below
ADVISORIES = {
    "libone": ("HIGH", "1.1-1"),
    "libtwo": ("MEDIUM", "1.2-1"),
    "libthree": ("CRITICAL", "3.1-1"),
}
VERSIONS = {
    "1.0": {"libone": "1.0-1", "libtwo": "1.0-1"},
    "1.1": {"libone": "1.1-1", "libtwo": "1.0-1"},
    "1.2": {"libone": "1.1-1", "libtwo": "1.2-1"},
    "2.0": {"libone": "2.0-1", "libtwo": "2.0-1"},
}


def advisories(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for number, (package, (severity, fixed)) in enumerate(ADVISORIES.items(), start=1):
        record = {
            "schema_version": "1.6.0",
            "id": f"DEBIAN-CVE-2099-{9000 + number}",
            "modified": "2099-01-01T00:00:00Z",
            "upstream": [f"CVE-2099-{9000 + number}"],
            "details": f"benchmark advisory for {package}",
            "affected": [
                {
                    "package": {"ecosystem": "Debian:12", "name": package},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
                    "database_specific": {"severity": severity},
                }
            ],
        }
        (folder / f"{record['id']}.json").write_text(json.dumps(record))
    return folder


def build_world(work: Path, registry_host: str, push) -> None:
    rng = random.Random(20261126)
    common = [(f"pkg{i:03d}", f"{i}.{i % 7}-{i % 3 + 1}") for i in range(300)]
    for base in BASES:
        payload = rng.randbytes(8 << 20)
        for tag in TAGS:
            versions = dict(VERSIONS[tag])
            if base == "gamma" and tag == "1.2":
                versions["libthree"] = "3.0-1"  # the newest minor brings a CRITICAL
            status = dpkg_status(*common, *sorted(versions.items()))
            layers = [
                [*DEBIAN_RELEASE, file("opt/payload.bin", payload)],
                [directory("var/lib/dpkg"), file("var/lib/dpkg/status", status)],
            ]
            layout = work / "layouts" / f"{base}-{tag}"
            build_oci_layout(layout, layers, tag="t")
            push(layout, f"bench/{base}", tag)


def repository(root: Path, host: str) -> Path:
    root.mkdir(parents=True)
    files = {
        "alpha/api/Dockerfile": f"FROM {host}/bench/alpha:1.0\nCOPY . /app\n",
        "alpha/worker/Dockerfile": f"ARG BASE_TAG=1.0\nFROM {host}/bench/alpha:${{BASE_TAG}}\nCOPY . /app\n",
        "alpha/cron/Dockerfile": f'FROM {host}/bench/alpha:1.0\nCMD ["cron"]\n',
        "alpha/admin/Dockerfile": f"FROM {host}/bench/alpha:1.0\nUSER 1000\n",
        "beta/web/Dockerfile": f"FROM {host}/bench/beta:1.0 AS build\nRUN make\nFROM {host}/bench/beta:1.0\n",
        "beta/docs/Dockerfile": f"FROM {host}/bench/beta:1.0\n",
        "beta/tools/Dockerfile": f"FROM {host}/bench/beta:1.0\n",
        "gamma/a/Dockerfile": f"FROM {host}/bench/gamma:1.0\n",
        "gamma/b/Dockerfile": f"FROM {host}/bench/gamma:1.0\n",
        "gamma/c/Dockerfile": f"FROM {host}/bench/gamma:1.0\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} … failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--trivy", default=str(REPO / ".peers" / "trivy" / "bin" / "trivy"))
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    trivy = None if args.skip_peers else (args.trivy if Path(args.trivy).is_file() else shutil.which("trivy"))
    if not args.skip_peers and not trivy:
        raise SystemExit("Trivy not found: run scripts/setup.sh, pass --trivy, or --skip-peers")

    with tempfile.TemporaryDirectory(prefix="ci-security-bench-fix-") as tmp:
        work = Path(tmp)
        with docker_registry(work / "registry", username=USER, password=PASSWORD) as registry:

            def push(layout: Path, repo: str, tag: str) -> None:
                registry.push(layout, "t", repo, tag)

            build_world(work, registry.host, push)
            docker = work / "docker"
            docker.mkdir()
            auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            (docker / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))
            db = work / "osv.sqlite"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "ci_security",
                    "db",
                    "import",
                    "--db",
                    str(db),
                    str(advisories(work / "osv")),
                ],
                check=True,
                capture_output=True,
                env={**os.environ, "PYTHONPATH": str(REPO)},
            )
            repo = repository(work / "repo", registry.host)
            base_env = {
                "PATH": os.environ["PATH"],
                "HOME": str(work),
                "PYTHONPATH": str(REPO),
                "DOCKER_CONFIG": str(docker),
                "CI_SECURITY_DB": str(db),
            }
            plan_file = work / "plan.json"
            fix = [sys.executable, "-m", "ci_security", "fix", "--repo", str(repo), "--dry-run"]
            fix += ["-o", f"json={plan_file}"]
            images = [f"{registry.host}/bench/{b}:{t}" for b in BASES for t in ("1.0", "1.1", "1.2")]
            rows: dict[str, list[float]] = {
                "ours cold": [],
                "ours warm": [],
                "trivy cold": [],
                "trivy warm": [],
            }
            for run in range(args.runs):
                cache = work / f"cache-{run}"
                env = {
                    **base_env,
                    "CI_SECURITY_CACHE_DIR": str(cache),
                    "XDG_CACHE_HOME": str(work / f"xdg-{run}"),
                }
                rows["ours cold"].append(timed(fix, env))
                rows["ours warm"].append(timed(fix, env))
                if trivy:
                    trivy_cache = work / f"trivy-{run}"
                    trivy_env = {**base_env, "TRIVY_USERNAME": USER, "TRIVY_PASSWORD": PASSWORD}
                    for key in ("trivy cold", "trivy warm"):
                        total = 0.0
                        for image in images:
                            total += timed(
                                [trivy, "image", "--cache-dir", str(trivy_cache), "--offline-scan",
                                 "--skip-db-update", "--insecure", "--format", "cyclonedx",
                                 "--output", str(work / "trivy.json"), "--quiet", image],
                                trivy_env,
                            )  # fmt: skip
                        rows[key].append(total)
            plan = json.loads(plan_file.read_text())
    updates = plan["updates"]
    scanned = {c["digest"] for u in updates for c in u.get("candidates", [])}
    summary = {
        "dockerfiles": 10,
        "base_images": 3,
        "references": sum(len(u["lines"]) for u in updates) + len(plan["skipped"]),
        "updates": len(updates),
        "images_scanned": len(scanned),
        "runs": args.runs,
        "medians_seconds": {k: round(statistics.median(v), 2) for k, v in rows.items() if v},
    }
    print(f"repository: 10 Dockerfiles over 3 base images; {summary['references']} references")
    scanned_text = f"{summary['images_scanned']} images scanned (current and candidates)"
    print(f"plan: {summary['updates']} updates, {scanned_text}")
    proposals = sorted({(u["current"].split("/", 1)[1], u["proposed"].rsplit(":", 1)[1]) for u in updates})
    for current, proposed in proposals:
        print(f"  {current} -> {proposed}")
    print(f"medians of {args.runs} runs:")
    for key, value in summary["medians_seconds"].items():
        what = (
            "ci-security fix (plan, every candidate scanned)"
            if key.startswith("ours")
            else "Trivy, the same 9 images"
        )
        print(f"  {key:<11} {value:6.2f} s   {what}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
