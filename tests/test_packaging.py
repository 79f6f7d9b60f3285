"""The CI packaging is checked like code: the GitHub actions' metadata (required keys, inputs that
reach the tool only as CI_SECURITY_* variables of real options, no input interpolated into a script,
actions pinned by commit), the GitLab component's `spec: inputs` (typed, every input used and every
use defined), the legacy template, and the plugin image's Dockerfile against our own rules and policy.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
from click.testing import CliRunner
from ruamel.yaml import YAML

from ci_security.cli import main

ROOT = Path(__file__).resolve().parents[1]
INPUT_TYPES = {"string", "number", "boolean", "array"}
# Tokens are read from the environment only (platforms/context.py), never as options: an option's
# value shows in `ps` and in shell traces.
TOKEN_VARIABLES = {"CI_SECURITY_GITHUB_TOKEN", "CI_SECURITY_GITLAB_TOKEN"}


def _load(path: Path) -> object:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def _cli_envvars() -> set[str]:
    command = main.commands["ci"]
    assert isinstance(command, click.Command)
    return {p.envvar for p in command.params if isinstance(p.envvar, str)} | TOKEN_VARIABLES


def test_composite_action_metadata():
    action = _load(ROOT / "action.yml")
    assert isinstance(action, dict)
    assert {"name", "description", "inputs", "outputs", "runs"} <= set(action)
    for name, spec in action["inputs"].items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name), name
        assert spec.get("description"), name
        assert "default" in spec or spec.get("required"), name
    for name, spec in action["outputs"].items():
        assert spec.get("description") and spec.get("value", "").startswith("${{ steps.scan.outputs."), name
    runs = action["runs"]
    assert runs["using"] == "composite"
    envvars = _cli_envvars()
    for step in runs["steps"]:
        if "run" in step:
            assert step.get("shell") == "bash"
            # Inputs interpolated into a script are a workflow-injection hole; they go through env only.
            assert "${{" not in step["run"], step["run"]
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
        for variable in step.get("env", {}):
            if variable.startswith("CI_SECURITY_"):
                assert variable in envvars, f"{variable} is not an option of `ci-security ci`"


def test_every_action_input_is_used():
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    action = _load(ROOT / "action.yml")
    assert isinstance(action, dict)
    for name in action["inputs"]:
        assert f"inputs.{name} " in text or f"inputs.{name}}}" in text, f"input {name} is never used"


def test_the_reports_artifact_is_opt_in_pinned_and_uploaded_whatever_the_verdict():
    action = _load(ROOT / "action.yml")
    assert isinstance(action, dict)
    assert action["inputs"]["upload-artifact"]["default"] == "false"
    steps = [step for step in action["runs"]["steps"] if "upload-artifact" in step.get("uses", "")]
    assert len(steps) == 1
    step = steps[0]
    assert re.fullmatch(r"actions/upload-artifact@[0-9a-f]{40}", step["uses"])
    # after a failing policy (the scan step exits 1) the reports are still uploaded, when asked
    assert step["if"] == "${{ !cancelled() && inputs.upload-artifact == 'true' }}"
    paths = step["with"]["path"]
    for output in ("json-file", "markdown-file", "sarif-file"):
        assert f"steps.scan.outputs.{output}" in paths
    assert step["with"]["name"] == "${{ inputs.artifact-name }}"


def test_container_action_matches_the_composite_one():
    composite = _load(ROOT / "action.yml")
    container = _load(ROOT / "docker-action" / "action.yml")
    assert isinstance(composite, dict) and isinstance(container, dict)
    assert container["runs"]["using"] == "docker"
    assert (ROOT / "docker-action" / container["runs"]["image"]).resolve() == ROOT / "Dockerfile"
    # A container action cannot run other actions (actions/cache, actions/upload-artifact).
    assert set(container["inputs"]) == set(composite["inputs"]) - {
        "db-cache",
        "upload-artifact",
        "artifact-name",
    }
    assert set(container["outputs"]) == set(composite["outputs"])


def test_entrypoint_maps_every_container_input():
    import entrypoint

    container = _load(ROOT / "docker-action" / "action.yml")
    assert isinstance(container, dict)
    mapped = {name.lower() for name in entrypoint.INPUTS} | {"input"}
    assert set(container["inputs"]) == mapped
    assert set(entrypoint.INPUTS.values()) <= _cli_envvars()


def _component() -> tuple[dict, dict]:
    docs = list(
        YAML(typ="safe").load_all((ROOT / "templates" / "ci-security.yml").read_text(encoding="utf-8"))
    )
    assert len(docs) == 2, "a component is a spec document, then the jobs"
    return docs[0], docs[1]


def test_gitlab_component_spec_inputs():
    spec, _ = _component()
    inputs = spec["spec"]["inputs"]
    required = [name for name, item in inputs.items() if "default" not in item]
    assert required == ["plugin_image"]
    for name, item in inputs.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), name
        assert item.get("description"), name
        assert item.get("type", "string") in INPUT_TYPES, name
        if "options" in item:
            assert item["default"] in item["options"], name
        if item.get("type") == "boolean":
            assert isinstance(item["default"], bool), name


def test_gitlab_component_uses_exactly_its_inputs_and_real_variables():
    spec, jobs = _component()
    text = (ROOT / "templates" / "ci-security.yml").read_text(encoding="utf-8").split("\n---\n", 1)[1]
    used = set(re.findall(r"\$\[\[\s*inputs\.([a-z_]+)\s*\]\]", text))
    assert used == set(spec["spec"]["inputs"])
    ((name, job),) = jobs.items()
    assert name == "$[[ inputs.job_name ]]"
    assert job["artifacts"]["reports"] == {
        "container_scanning": "gl-container-scanning-report.json",
        "codequality": "gl-code-quality-report.json",
    }
    assert job["script"] == ["python /opt/ci-security/entrypoint.py"]
    envvars = _cli_envvars()
    for variable in job["variables"]:
        assert variable in envvars, f"{variable} is not an option of `ci-security ci`"


def test_gitlab_legacy_template():
    jobs = _load(ROOT / "legacy" / "ci-security.gitlab-ci.yml")
    assert isinstance(jobs, dict)
    job = jobs["ci-security"]
    assert job["image"]["name"] == "$CI_SECURITY_PLUGIN_IMAGE"
    assert set(job["artifacts"]["reports"]) == {"container_scanning", "codequality"}
    envvars = _cli_envvars()
    assert all(v in envvars for v in job["variables"])


def test_the_plugin_dockerfile_passes_its_own_policy(tmp_path):
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        main,
        ["scan", "--manifests", str(ROOT / "Dockerfile"), "--repo-root", str(ROOT),
         "--policy", str(ROOT / ".ci-security.yml"), "-o", f"json={out}"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert [
        m["rule_id"] for m in report.get("misconfigurations", []) if m["severity"] in ("CRITICAL", "HIGH")
    ] == []


def test_the_plugin_image_is_pinned_and_non_root():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    bases = re.findall(r"^FROM (\S+)", text, re.M)
    assert bases and all(re.search(r"@sha256:[0-9a-f]{64}$", b) for b in bases)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
