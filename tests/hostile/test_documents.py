"""Hostile repository documents and advisory records, each run as the pipeline would run the step.

The inputs a pull request or an advisory mirror controls: manifest directories (with a repository
planted in them), the policy file, VEX documents, baseline and imported reports, OSV records. Each
case is generated here, small on disk (bombs are a few KB; the 12 MB policy is written at run time),
and goes through `testkit.hostile.run_hostile`: a subprocess with a memory and time limit, checked
for its exit code, its one error line naming the file and the limit, and for files left behind.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from testkit.hostile import CaseDirs, Outcome, assert_clean_error, assert_survived, run_hostile
from testkit.report_schema import load_report

K8S = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - {name: c, image: nginx}\n"
MILLION = 1_000_000


def _scan(case: CaseDirs, *args: str) -> Outcome:
    manifests = case.input / "manifests"
    if not manifests.exists():
        manifests.mkdir()
        (manifests / "Dockerfile").write_text("FROM debian:12\n")
    report = case.out / "report.json"
    return run_hostile(
        [
            "scan",
            "--manifests",
            str(manifests),
            "--repo-root",
            str(case.input),
            "-o",
            f"json={report}",
            *args,
        ],
        case,
    )


def _report(case: CaseDirs) -> dict:
    return load_report(case.out / "report.json")


def _db_import(case: CaseDirs, record: Path) -> Outcome:
    return run_hostile(["db", "import", "--db", str(case.cache / "osv.sqlite"), str(record)], case)


def _laughs(indent: str, levels: int, width: int = 10) -> str:
    """A "billion laughs" mapping: `width ** levels` nodes once its aliases are expanded."""
    rows = [f"{indent}l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        rows.append(f"{indent}l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(rows) + "\n"


# --- code execution: a repository planted where --manifests points ------------------------------


def _plant(kind: str, manifests: Path, marker: Path) -> None:
    config = (
        "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = .\n"
        f'\tfsmonitor = "touch {marker}; false"\n\thooksPath = hooks\n'
    )
    git_dir = {
        "bare layout": manifests,
        "gitdir file": manifests.parent / "x.git",
        "git dir": manifests / ".git",
    }[kind]
    (git_dir / "objects").mkdir(parents=True)
    (git_dir / "refs").mkdir()
    (git_dir / "HEAD").write_text("ref: refs/heads/main\n")
    (git_dir / "config").write_text(config)
    hooks = git_dir / "hooks"
    hooks.mkdir()
    (hooks / "post-index-change").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (hooks / "post-index-change").chmod(0o755)
    if kind == "gitdir file":
        (manifests / ".git").write_text(f"gitdir: {git_dir}\n")
    (manifests / "Dockerfile").write_text("FROM debian:12\nRUN apt-get install curl\n")
    (manifests / "pod.yaml").write_text(K8S)


@pytest.mark.parametrize("kind", ["bare layout", "gitdir file", "git dir"])
def test_a_repository_planted_in_the_manifests_directory_runs_nothing(case, kind):
    manifests, marker = case.input / "manifests", case.root / "MARKER"
    manifests.mkdir()
    _plant(kind, manifests, marker)
    if shutil.which("git"):  # the control: git in that directory runs the plant
        subprocess.run(["git", "-C", str(manifests), "ls-files"], capture_output=True, check=False)
        assert marker.exists(), "the plant no longer triggers git; the case would prove nothing"
        marker.unlink()
    outcome = _scan(case)
    assert_survived(outcome)
    assert not marker.exists(), "a command from the planted repository ran"
    files = {m["path"] for m in _report(case)["misconfigurations"]}
    assert files == {"manifests/Dockerfile", "manifests/pod.yaml"}


# --- YAML nested a million levels deep ----------------------------------------------------------


def test_a_manifest_nested_a_million_levels_is_a_finding_not_a_crash(case):
    manifests = case.input / "manifests"
    manifests.mkdir()
    (manifests / "deep.yaml").write_text(
        "apiVersion: v1\nkind: List\nitems: " + "[" * MILLION + "]" * MILLION
    )
    outcome = _scan(case)
    assert_survived(outcome)
    (finding,) = [m for m in _report(case)["misconfigurations"] if m["path"] == "manifests/deep.yaml"]
    assert finding["rule_id"] == "MAN001"
    assert "exceeds the nesting-depth limit (200)" in finding["message"]


def test_a_policy_nested_a_million_levels(case):
    policy = case.input / "policy.yml"
    policy.write_text("checks:\n  disable:\n    " + "- " * MILLION + "x\n")  # 2 MB: past policy-bytes too
    outcome = _scan(case, "--policy", str(policy), "--limit", "policy-bytes=4MiB")
    assert_clean_error(outcome, contains=["policy.yml", "nesting-depth"])


def test_an_osv_yaml_record_nested_a_million_levels(case):
    record = case.input / "PYSEC-X.yaml"
    record.write_text(
        "id: PYSEC-X\nmodified: 2024-01-01T00:00:00Z\naffected: " + "[" * MILLION + "]" * MILLION
    )
    assert_clean_error(_db_import(case, record), contains=["PYSEC-X.yaml", "nesting-depth"])


# --- YAML alias bombs ---------------------------------------------------------------------------


def test_an_alias_bomb_in_a_policy(case):
    policy = case.input / "policy.yml"
    policy.write_text("checks:\n  severity:\n" + _laughs("    ", 9))
    assert policy.stat().st_size < 4096
    assert_clean_error(_scan(case, "--policy", str(policy)), contains=["policy.yml", "yaml-nodes"])


def test_an_alias_bomb_in_an_osv_yaml_record(case):
    record = case.input / "PYSEC-X.yaml"
    record.write_text("id: PYSEC-X\nmodified: 2024-01-01T00:00:00Z\ndatabase_specific:\n" + _laughs("  ", 9))
    assert_clean_error(_db_import(case, record), contains=["PYSEC-X.yaml", "yaml-nodes"])


def test_an_alias_bomb_in_a_manifest_is_a_finding(case):
    manifests = case.input / "manifests"
    manifests.mkdir()
    (manifests / "bomb.yaml").write_text("apiVersion: v1\nkind: ConfigMap\ndata:\n" + _laughs("  ", 9))
    assert_survived(_scan(case))
    (finding,) = [m for m in _report(case)["misconfigurations"] if m["path"] == "manifests/bomb.yaml"]
    assert finding["rule_id"] == "MAN001" and "exceeds the yaml-nodes limit" in finding["message"]


# --- deeply nested JSON in policy-side documents -------------------------------------------------


def _deep_json(key: str) -> str:
    return f'{{"{key}": ' + "[" * MILLION + "]" * MILLION + "}"


def test_a_deeply_nested_vex_document(case):
    vex = case.input / "app.openvex.json"
    vex.write_text(_deep_json("statements"))
    assert_clean_error(_scan(case, "--vex", str(vex)), contains=["app.openvex.json", "nesting-depth"])


def test_a_deeply_nested_baseline(case):
    baseline = case.input / "baseline.json"
    baseline.write_text(_deep_json("vulnerabilities"))
    assert_clean_error(_scan(case, "--baseline", str(baseline)), contains=["baseline.json", "nesting-depth"])


def test_a_deeply_nested_imported_trivy_report(case):
    report = case.input / "trivy.json"
    report.write_text(_deep_json("Results"))
    assert_clean_error(_scan(case, "--from-trivy", str(report)), contains=["trivy.json", "nesting-depth"])


def test_a_deeply_nested_osv_json_record(case):
    record = case.input / "GHSA-x.json"
    record.write_text(_deep_json("affected"))
    assert_clean_error(_db_import(case, record), contains=["GHSA-x.json", "nesting-depth"])


# --- size, keys, types and encodings ------------------------------------------------------------


def test_a_12_mb_policy_is_refused_by_its_size(case):
    policy = case.input / "policy.yml"
    with policy.open("w") as handle:
        handle.write("ignore:\n")
        entry = "  - id: CVE-2024-0001\n    reason: accepted by the security team\n    expires: 2030-01-01\n"
        handle.write(entry * (12 * 1024 * 1024 // len(entry)))
    outcome = _scan(case, "--policy", str(policy))
    assert_clean_error(outcome, contains=["policy.yml", "policy-bytes", "1 MiB"])


def test_a_sequence_as_a_mapping_key_in_a_policy(case):
    policy = case.input / "policy.yml"
    policy.write_text("version: 1\n? [fail_on, severity]\n: high\n")
    assert_clean_error(
        _scan(case, "--policy", str(policy)), contains=["policy.yml:2:3", "a key must be a string"]
    )


def test_a_sequence_as_a_mapping_key_in_an_osv_yaml_record(case):
    record = case.input / "PYSEC-X.yaml"
    record.write_text("id: PYSEC-X\nmodified: 2024-01-01T00:00:00Z\n? [a, b]\n: c\n")
    assert_clean_error(
        _db_import(case, record), contains=["PYSEC-X.yaml:3:3", "mapping key must be a scalar"]
    )


def test_wrong_json_types_in_a_vex_document(case):
    vex = case.input / "app.openvex.json"
    statement = {
        "vulnerability": {"name": "CVE-1"},
        "products": [{"@id": "pkg:pypi/x"}],
        "status": "affected",
    }
    vex.write_text(
        json.dumps(
            {"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{**statement, "subcomponents": 7}]}
        )
    )
    outcome = _scan(case, "--vex", str(vex))
    assert_clean_error(outcome, contains=["app.openvex.json", "statements[0].subcomponents: must be a list"])


def test_wrong_json_types_in_a_baseline(case):
    baseline = case.input / "baseline.json"
    baseline.write_text(json.dumps({"schema_version": ["1"], "tool": {"name": "ci-security"}}))
    assert_clean_error(_scan(case, "--baseline", str(baseline)), contains=["baseline.json", "schema_version"])


def test_a_policy_that_is_not_utf8(case):
    policy = case.input / "policy.yml"
    policy.write_bytes(b"version: 1\nignore:\n  - id: CVE-1\n    reason: caf\xe9 au lait is fine\n")
    assert_clean_error(_scan(case, "--policy", str(policy)), contains=["policy.yml", "not UTF-8", "byte 48"])
