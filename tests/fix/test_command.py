"""`ci-security fix` as its own process, configured by the environment a GitHub Actions job has and
the step's variables: the plan on standard output, the JSON plan file, and the pull request on the
GitHub stand-in; outside a CI system the same command is a dry run that prints the diff."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
from testkit.github_standin import GitHubStandIn

from ci_security.fix.report import schema

ROOT = Path(__file__).resolve().parents[2]


def _env(world, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT)),
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
        "DOCKER_CONFIG": str(world.docker_config.parent),
        "CI_SECURITY_DB": str(world.db),
        **extra,
    }


def test_fix_on_github_actions(world, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    files = {"Dockerfile": f"FROM {world.host}/team/base:1.0-slim\nUSER app\n"}
    (repo / "Dockerfile").write_text(files["Dockerfile"])
    with GitHubStandIn() as gh:
        gh.put_files(files)
        env = _env(
            world,
            tmp_path,
            GITHUB_ACTIONS="true",
            GITHUB_API_URL=gh.url,
            GITHUB_REPOSITORY=gh.repository,
            GITHUB_EVENT_NAME="schedule",
            GITHUB_WORKSPACE=str(repo),
            GITHUB_TOKEN=gh.token,
            CI_SECURITY_FIX_OUTPUT=f"json={tmp_path / 'plan.json'}",
        )
        proc = subprocess.run(
            [sys.executable, "-m", "ci_security", "fix"], env=env, capture_output=True, text=True, timeout=300
        )
        assert proc.returncode == 0, proc.stderr
        (pull,) = gh.fix_pulls()
        assert gh.files_at(pull.head_ref)["Dockerfile"] == f"FROM {world.host}/team/base:1.2-slim\nUSER app\n"
    assert f"::add-mask::{gh.token}" in proc.stdout and gh.token not in proc.stdout.replace(
        f"::add-mask::{gh.token}", ""
    )
    assert "base-image Dockerfile:1:" in proc.stdout and "pull request created" in proc.stdout
    plan = json.loads((tmp_path / "plan.json").read_text())
    jsonschema.Draft202012Validator(schema()).validate(plan)
    assert plan["updates"][0]["pull_request"]["url"] == f"https://github.com/octo-org/app/pull/{pull.number}"


def test_outside_ci_it_is_a_dry_run(world, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "Dockerfile").write_text(f"FROM {world.host}/team/base:1.1.4\n")
    proc = subprocess.run(
        [sys.executable, "-m", "ci_security", "fix", "--repo", str(repo)],
        env=_env(world, tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "a dry run, nothing is opened" in proc.stderr
    assert f"-FROM {world.host}/team/base:1.1.4\n+FROM {world.host}/team/base:1.1.5\n" in proc.stdout
