#!/usr/bin/env python3
"""Set-up time of the CI step (the composite action's steps before the scan), cold and warm, against
today's open-range install, in one run.

Each case runs the commands the composite action runs, in the same order, with a fresh pip cache:

- lock, cold: no environment yet (a cache miss): `scripts/lock.py sha256` (the cache key), then
  `scripts/venv.sh` creates the virtual environment, installs requirements/action.lock.txt
  (`pip install --require-hashes --no-deps --only-binary :all:`, downloading every wheel) and checks it;
- lock, warm: the environment is there (restored from the cache, or made by an earlier step of the
  job): the key, then venv.sh only checks the environment against the lock;
- lock, warm from archive: the same, after unpacking the cached environment from a local archive
  (tar + zstd, as actions/cache stores it), the closest local stand-in for a cache restore; the
  download from the cache service is not included (it depends on the runner's network);
- open ranges: what the action did before the lock: `python -m venv` with pip, then
  `pip install ACTION_PATH` (resolving every dependency's newest release from the index and building
  the package with an isolated setuptools).

Cold cases download from the index configured for pip, so their time depends on the network; the
cases alternate run by run so drift hits them alike. Reported: median, min and max wall time.
Target (issue 11): warm under 3 s. Exit status 0 when it holds.

    python3 bench/setup.py [--runs N] [--python PATH]
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
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements" / "action.lock.txt"
WARM_TARGET = 3.0


def _env(pip_cache: Path) -> dict[str, str]:
    # Runners do not set PYTHONDONTWRITEBYTECODE (this machine does); PYTHONPATH would change what
    # the check imports.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env["PIP_CACHE_DIR"] = str(pip_cache)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(cmd: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench: {' '.join(cmd[:3])} … failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _action_setup(python: str, venv: Path, env: dict[str, str]) -> dict[str, str]:
    """The composite action's key step and install step."""
    _run([python, str(REPO / "scripts" / "lock.py"), "sha256"], env)
    out = _run(["bash", str(REPO / "scripts" / "venv.sh"), python, str(venv)], env)
    return dict(line.split("=", 1) for line in out.splitlines())


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python", default=sys.executable, help="the set-up Python (default this one)")
    args = parser.parse_args()
    if not shutil.which("zstd"):
        raise SystemExit("bench: zstd is needed for the cache-archive case (apt-get install zstd)")
    results: dict[str, list[float]] = {k: [] for k in ("lock-cold", "lock-warm", "lock-archive", "open")}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="ci-security-bench-setup-") as tmp_name:
        tmp = Path(tmp_name)
        for run in range(args.runs):
            venv = tmp / "ci-security-venv"
            cache = tmp / f"pip-cache-{run}"
            env = _env(cache)

            def cold(venv: Path = venv, env: dict[str, str] = env) -> None:
                out = _action_setup(args.python, venv, env)
                assert out["installed"] == "true", out

            def warm(venv: Path = venv, env: dict[str, str] = env) -> None:
                out = _action_setup(args.python, venv, env)
                assert out["installed"] == "false", out

            shutil.rmtree(venv, ignore_errors=True)
            results["lock-cold"].append(_timed(cold))
            results["lock-warm"].append(_timed(warm))
            archive = tmp / "venv.tar.zst"
            _run(["tar", "--use-compress-program", "zstd -T0", "-cf", str(archive), "-C", str(tmp),
                  venv.name], env)  # fmt: skip
            sizes = {"venv": _size(venv), "archive": archive.stat().st_size}
            shutil.rmtree(venv)

            def restored(archive: Path = archive, env: dict[str, str] = env) -> None:
                _run(["tar", "--use-compress-program", "zstd -d", "-xf", str(archive), "-C", str(tmp)], env)
                warm()

            results["lock-archive"].append(_timed(restored))
            shutil.rmtree(cache, ignore_errors=True)

            old = tmp / f"open-venv-{run}"
            open_env = _env(tmp / f"pip-cache-open-{run}")
            # A copy of the source, as the action's checkout is: the in-tree build writes build/ and
            # *.egg-info next to it.
            source = tmp / f"action-{run}"
            source.mkdir()
            for name in ("pyproject.toml", "README.md"):
                shutil.copy2(REPO / name, source / name)
            shutil.copytree(REPO / "ci_security", source / "ci_security",
                            ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip

            def open_ranges(old: Path = old, env: dict[str, str] = open_env, source: Path = source) -> None:
                _run([args.python, "-m", "venv", str(old)], env)
                _run([str(old / "bin" / "pip"), "install", "--quiet", str(source)], env)

            results["open"].append(_timed(open_ranges))
            sizes["open-packages"] = len(list((old / "lib").glob("python*/site-packages/*.dist-info")))
            shutil.rmtree(old)
            shutil.rmtree(tmp / f"pip-cache-open-{run}", ignore_errors=True)
            shutil.rmtree(source)
            print(
                f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in results.items()),
                file=sys.stderr,
            )

    labels = {
        "lock-cold": "lock, cold (cache miss: venv + hash-checked install + check)",
        "lock-warm": "lock, warm (environment present: key + check)",
        "lock-archive": "lock, warm from archive (unpack tar.zst + key + check)",
        "open": "open ranges, before this change (venv with pip + `pip install .`)",
    }
    version = _run(
        [args.python, "-c", "import platform; print(platform.python_version())"], os.environ.copy()
    )
    print(f"Python {version.strip()}, {args.runs} runs, {len(_locked())} locked distributions; "
          f"environment {sizes['venv'] / 2**20:.0f} MiB, archive {sizes['archive'] / 2**20:.0f} MiB; "
          f"open ranges installed {sizes['open-packages']} distributions\n")  # fmt: skip
    print("| case | median | min | max |\n| --- | ---: | ---: | ---: |")
    for key, label in labels.items():
        values = results[key]
        print(f"| {label} | {statistics.median(values):.2f} s | {min(values):.2f} s | {max(values):.2f} s |")
    warm = statistics.median(results["lock-archive"])
    print(f"\nwarm set-up (from archive) {warm:.2f} s: target < {WARM_TARGET:.0f} s "
          f"{'met' if warm < WARM_TARGET else 'NOT met'}")  # fmt: skip
    return 0 if warm < WARM_TARGET else 1


def _locked() -> list[str]:
    return [
        line
        for line in LOCK.read_text(encoding="utf-8").splitlines()
        if "==" in line[:80] and line[0].isalnum()
    ]


if __name__ == "__main__":
    sys.exit(main())
