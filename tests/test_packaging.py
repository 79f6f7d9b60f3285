"""The CI packaging is checked like code: the GitHub actions' metadata (required keys, inputs that
reach the tool only as CI_SECURITY_* variables of real options, no input interpolated into a script,
actions pinned by commit), the GitLab component's `spec: inputs` (typed, every input used and every
use defined), the legacy template, and the plugin image's Dockerfile against our own rules and policy.
The step's own supply chain: every install is from requirements/action.lock.txt with hashes required
(the composite action, the plugin image, and so the GitLab jobs that run it), the action's virtual
environment is cached under the lock's hash, the Python version and the runner, and scripts/venv.sh
reuses an environment only when it matches the lock (run here against a local wheel directory).
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
    # A container action cannot run other actions (actions/cache, actions/upload-artifact), so the
    # caches and the artifact upload are the composite action's own.
    assert set(container["inputs"]) == set(composite["inputs"]) - {
        "db-cache",
        "venv-cache",
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


# -- the step's own supply chain --------------------------------------------------------------

LOCK = "requirements/action.lock.txt"
HASHED = ("--require-hashes", "--no-deps", "--only-binary :all:")


def _steps() -> list[dict]:
    action = _load(ROOT / "action.yml")
    assert isinstance(action, dict)
    return action["runs"]["steps"]


def _step(steps: list[dict], key: str, value: str) -> dict:
    (found,) = [s for s in steps if s.get(key) == value or str(s.get(key, "")).startswith(value + "@")]
    return found


def test_the_action_installs_only_from_the_lock_with_hashes():
    steps = _steps()
    install = _step(steps, "id", "install")
    venv = '"$RUNNER_TEMP/ci-security-venv"'
    assert install["run"] == f'bash "$ACTION_PATH/scripts/venv.sh" "$PYTHON" {venv} >> "$GITHUB_OUTPUT"'
    script = (ROOT / "scripts" / "venv.sh").read_text(encoding="utf-8")
    (pip,) = [line for line in _logical_lines(script) if " install " in line]
    assert pip.startswith('"${pip[@]}" install'), pip
    assert 'pip=("$python" -m pip --python "$vpy")' in script and 'pip=("$vpy" -m pip)' in script
    assert all(flag in pip for flag in HASHED) and '-r "$lock"' in pip, pip
    assert 'lock="$scripts/../requirements/action.lock.txt"' in script
    # Nothing else installs anything: no other step runs pip, and the package runs from the checkout.
    for step in steps:
        if "run" in step and step is not install:
            assert "pip" not in step["run"], step["run"]
    scan = _step(steps, "id", "scan")
    assert scan["env"]["VENV_PYTHON"] == "${{ steps.install.outputs.python }}"
    assert scan["run"].strip() == '"$VENV_PYTHON" "$ACTION_PATH/entrypoint.py"'


def test_the_action_caches_its_environment_under_the_lock_python_and_runner():
    steps = _steps()
    names = [s.get("id") or s.get("uses", "").split("@")[0] for s in steps]
    restore = _step(steps, "uses", "actions/cache/restore")
    save = _step(steps, "uses", "actions/cache/save")
    assert (
        names.index("lock")
        < names.index("venv-cache")
        < names.index("install")
        < names.index("actions/cache/save")
        < names.index("scan")
    )
    assert _step(steps, "id", "lock")["run"] == (
        'echo "sha256=$("$PYTHON" "$ACTION_PATH/scripts/lock.py" sha256)" >> "$GITHUB_OUTPUT"'
    )
    key = restore["with"]["key"]
    for part in ("${{ runner.os }}", "${{ runner.arch }}", "${{ steps.python.outputs.python-version }}",
                 "${{ steps.lock.outputs.sha256 }}"):  # fmt: skip
        assert part in key, f"the venv cache key lacks {part}"
    assert restore["id"] == "venv-cache" and restore["if"] == "inputs.venv-cache == 'true'"
    assert restore["with"]["path"] == save["with"]["path"] == "${{ runner.temp }}/ci-security-venv"
    assert save["with"]["key"] == "${{ steps.venv-cache.outputs.cache-primary-key }}"
    assert "steps.install.outputs.installed == 'true'" in save["if"]
    assert "steps.venv-cache.outputs.cache-hit != 'true'" in save["if"]
    assert restore["uses"].split("@")[1] == save["uses"].split("@")[1]


def test_the_lock_sha256_subcommand_is_the_files_digest():
    import hashlib
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "lock.py"), "sha256"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert done.stdout.strip() == hashlib.sha256((ROOT / LOCK).read_bytes()).hexdigest()


def _logical_lines(text: str) -> list[str]:
    return [" ".join(part.strip() for part in chunk.split("\\\n")) for chunk in re.split(r"(?<!\\)\n", text)]


def test_the_plugin_image_installs_only_from_the_lock_with_hashes():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    runs = [line for line in _logical_lines(text) if line.startswith("RUN ")]
    installs = [r for r in runs if " pip " in r and " install " in r]
    assert len(installs) == 2, installs
    dependencies, project = installs
    assert all(flag in dependencies for flag in HASHED) and "-r /tmp/action.lock.txt" in dependencies
    # The project itself: no dependencies, no index, built by the locked setuptools.
    assert all(flag in project for flag in ("--no-deps", "--no-build-isolation", "--no-index"))
    assert f"COPY {LOCK} /tmp/action.lock.txt" in text
    assert any("lock.py check-env --lock /tmp/action.lock.txt" in r for r in runs)
    # The lock's layer comes before the source is copied, so a code change keeps it cached.
    assert text.index(f"COPY {LOCK}") < text.index("COPY ci_security")


def test_the_gitlab_jobs_install_nothing_at_run_time():
    """The component and the legacy template run the plugin image, whose build installed from the
    lock with hashes required; their scripts must not install anything unpinned on top."""
    _, jobs = _component()
    ((_, job),) = jobs.items()
    legacy = _load(ROOT / "legacy" / "ci-security.gitlab-ci.yml")
    assert isinstance(legacy, dict)
    for script in (job["script"], legacy["ci-security"]["script"]):
        assert script == ["python /opt/ci-security/entrypoint.py"]


# -- the database builder and the scans that pull from it (docs/database.md) ------------------


def _db_envvars() -> set[str]:
    db = main.commands["db"]
    assert isinstance(db, click.Group)
    return {
        p.envvar
        for name in ("update", "push", "pull")
        for p in db.commands[name].params
        if isinstance(p.envvar, str)
    }


def test_the_database_builder_component():
    text = (ROOT / "templates" / "ci-security-db.yml").read_text(encoding="utf-8")
    spec, jobs = list(YAML(typ="safe").load_all(text))
    inputs = spec["spec"]["inputs"]
    assert [name for name, item in inputs.items() if "default" not in item] == ["plugin_image"]
    for name, item in inputs.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name) and item.get("description"), name
    used = set(re.findall(r"\$\[\[\s*inputs\.([a-z_]+)\s*\]\]", text.split("\n---\n", 1)[1]))
    assert used == set(inputs)
    ((_, job),) = jobs.items()
    assert set(job["variables"]) <= _db_envvars()
    # It builds (never pulls, whatever the group's variables say), shows what it built, pushes it.
    assert job["script"] == [
        "env -u CI_SECURITY_DB_REPOSITORY ci-security db update",
        "ci-security db info",
        'ci-security db push "$[[ inputs.repository ]]"',
    ]
    assert job["cache"]["paths"] == [".ci-security-db/"]
    assert job["variables"]["CI_SECURITY_DB"].startswith("$CI_PROJECT_DIR/.ci-security-db/")


def test_scans_are_pointed_at_a_database_repository_by_one_input():
    action = _load(ROOT / "action.yml")
    assert isinstance(action, dict)
    scan = _step(action["runs"]["steps"], "id", "scan")
    for name, variable in (
        ("db-repository", "CI_SECURITY_DB_REPOSITORY"),
        ("db-registry-username", "CI_SECURITY_DB_REGISTRY_USERNAME"),
        ("db-registry-password", "CI_SECURITY_DB_REGISTRY_PASSWORD"),
    ):
        assert action["inputs"][name]["default"] == ""
        assert scan["env"][variable] == f"${{{{ inputs.{name} }}}}"
    spec, jobs = _component()
    ((_, job),) = jobs.items()
    assert spec["spec"]["inputs"]["db_repository"]["default"] == ""
    assert job["variables"]["CI_SECURITY_DB_REPOSITORY"] == "$[[ inputs.db_repository ]]"


def test_the_documented_github_builder_workflow():
    """docs/database.md's workflow: pinned actions, the permission to push packages and nothing
    else written, and only real variables of the `db` commands."""
    text = (ROOT / "docs" / "database.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "db push" in b]
    assert blocks, "docs/database.md shows no builder workflow"
    for block in blocks:
        doc = YAML(typ="safe").load(block)
        if "jobs" not in doc:
            continue  # the GitLab include
        assert doc["permissions"] == {"contents": "read", "packages": "write"}
        for job in doc["jobs"].values():
            for step in job["steps"]:
                if "uses" in step:
                    assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
                for variable in step.get("env", {}):
                    if variable.startswith("CI_SECURITY_"):
                        assert variable in _db_envvars(), variable
