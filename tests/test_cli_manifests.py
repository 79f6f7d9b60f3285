"""Manifest checks through the command line: discovery from the repository root, the policy's
`checks` keys, inline suppressions in every report, imports of Hadolint, Checkov and Trivy config
results mapped to our rules, and the SARIF manifests run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from testkit.codequality import check_code_quality
from testkit.sarif import validate as validate_sarif

from ci_security.cli import main

INGEST = Path(__file__).parent / "fixtures" / "ingest"
DOCKERFILE = """\
FROM python:3.12-slim
RUN curl -fsSL https://get.example.com/install.sh | sh
ENV API_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB
# ci-security:ignore=DF001 the entrypoint drops to uid 10001 after binding port 80
USER root
"""
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: prod
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        privileged: true
"""


def scan(repo: Path, *args: str) -> tuple[Result, dict]:
    out = repo / "report.json"
    result = CliRunner().invoke(
        main, ["scan", "--repo-root", str(repo), "-o", f"json={out}", *args], catch_exceptions=False
    )
    return result, (json.loads(out.read_text()) if out.exists() else {})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "k8s").mkdir(parents=True)
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "k8s" / "pod.yaml").write_text(POD)
    return root


def by_rule(report: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for item in report["misconfigurations"]:
        found.setdefault(item["rule_id"], []).append(item)
    return found


def test_scan_without_an_image_checks_the_repository(repo):
    sarif, quality = repo / "r.sarif", repo / "cq.json"
    result, report = scan(repo, "-o", f"sarif={sarif}", "-o", f"codequality={quality}")
    assert result.exit_code == 1, result.output  # CRITICAL and HIGH findings fail the default policy
    found = by_rule(report)
    assert [(f["path"], f["line"]) for f in found["DF006"]] == [("Dockerfile", 2)]
    assert [(f["path"], f["line"]) for f in found["DF007"]] == [("Dockerfile", 3)]
    assert found["K8S001"][0]["line"] == 11 and found["K8S001"][0]["resource"] == "Pod/prod/web container app"
    (root_user,) = found["DF001"]
    assert root_user["suppressed"]["kind"] == "inline"
    assert root_user["suppressed"]["reason"].startswith("the entrypoint drops")
    assert "ghp_0123456789" not in json.dumps(report)  # a secret's value is never repeated
    violations = {v["fingerprint"] for v in report["policy"]["violations"]}
    assert found["K8S001"][0]["fingerprint"] in violations and root_user["fingerprint"] not in violations

    (run,) = validate_sarif(sarif.read_text())["runs"]
    assert run["automationDetails"]["id"] == "ci-security/manifests/"
    results = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run["results"]
    }
    assert {("DF006", 2), ("K8S001", 11), ("DF001", 5)} <= results
    suppressed = [r for r in run["results"] if r["ruleId"] == "DF001"]
    assert suppressed[0]["suppressions"][0]["justification"].startswith("the entrypoint drops")
    assert check_code_quality(json.loads(quality.read_text())) == []


def test_policy_checks_disable_severity_and_enable(repo):
    policy = repo / ".ci-security.yml"
    policy.write_text(
        "checks:\n  disable: [K8S001]\n  severity:\n    DF006: low\n    DF007: low\n  enable: [K8S036]\n"
        "ignore:\n  - id: K8S021\n    reason: the image sets a numeric non-root USER (checked in DF001)\n"
        "    expires: 2099-01-01\n"
    )
    result, report = scan(repo)
    assert result.exit_code == 0, result.output
    found = by_rule(report)
    assert found["K8S001"][0]["suppressed"]["reason"].startswith("disabled by checks.disable")
    assert found["K8S021"][0]["suppressed"]["kind"] == "ignore"
    assert "K8S036" not in found  # the pod names its namespace
    (pod := repo / "k8s" / "pod.yaml").write_text(pod.read_text().replace("  namespace: prod\n", ""))
    _, report = scan(repo)
    assert by_rule(report)["K8S036"][0]["line"] == 3


def test_manifests_option_narrows_and_reports_paths_from_the_repository_root(repo):
    result, report = scan(repo, "--manifests", str(repo / "k8s"))
    assert {m["path"] for m in report["misconfigurations"]} == {"k8s/pod.yaml"}
    assert result.exit_code == 1


def test_a_broken_manifest_is_a_finding_not_a_crash(repo):
    (repo / "k8s" / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nspec: [\n")
    _, report = scan(repo)
    (broken,) = by_rule(report)["MAN001"]
    assert broken["path"] == "k8s/broken.yaml" and "invalid YAML" in broken["message"]


def test_imported_findings_become_ours_or_keep_their_tool_id(tmp_path):
    repo = tmp_path / "config"
    shutil.copytree(INGEST / "config", repo)
    args = [
        "--from-hadolint",
        str(INGEST / "hadolint-2.15.1-config.json"),
        "--from-checkov",
        str(INGEST / "checkov-3.3.30-config.json"),
        "--from-trivy",
        str(INGEST / "trivy-0.76-config.json"),
    ]
    _, imported_only = scan(repo, *args)
    found = imported_only["misconfigurations"]
    mapped = [f for f in found if f["rule_id"].startswith(("DF", "K8S"))]
    assert mapped and all(f["found_by"] in ("hadolint", "checkov", "trivy") for f in mapped)
    privileged = [f for f in found if f["rule_id"] == "K8S001"]
    # Trivy, Checkov (and kube-linter, were it here) name it differently; it is one rule, kept once a line.
    assert len({(f["path"], f["line"]) for f in privileged}) == len(privileged) >= 1
    assert all(f["severity"] == "CRITICAL" for f in privileged)
    unmapped = {f["rule_id"] for f in found} - {f["rule_id"] for f in mapped}
    assert "KSV-0125" in unmapped  # explained in docs/rules.md, kept with Trivy's id and severity
    assert all(f["fingerprint"] for f in found)

    # With our own scan of the same files, mapped imports add nothing; unmapped ones stay.
    _, both = scan(repo, "--manifests", str(repo), *args)
    ours = [f for f in both["misconfigurations"] if f["found_by"] == "ci-security"]
    theirs = [f for f in both["misconfigurations"] if f["found_by"] != "ci-security"]
    assert ours and theirs
    assert all(not f["rule_id"].startswith(("DF", "K8S", "COMPOSE")) for f in theirs)


def test_checks_disable_accepts_the_peer_id_of_an_imported_finding(tmp_path):
    repo = tmp_path / "config"
    shutil.copytree(INGEST / "config", repo)
    (repo / "p.yml").write_text("checks:\n  disable: [KSV-0125]\n")
    _, report = scan(
        repo, "--policy", str(repo / "p.yml"), "--from-trivy", str(INGEST / "trivy-0.76-config.json")
    )
    untrusted = [f for f in report["misconfigurations"] if f["rule_id"] == "KSV-0125"]
    assert untrusted and all(f["suppressed"] for f in untrusted)


# --- issue 13: fail closed, one finding per problem, what was checked -----------------------------


def test_manifests_that_match_nothing_are_an_error_naming_the_path(repo):
    empty = repo / "deploy"
    empty.mkdir()
    (empty / "README.md").write_text("nothing to see\n")
    (empty / "values.yaml").write_text("replicas: 3\n")
    result, report = scan(repo, "--manifests", str(empty))
    assert result.exit_code == 2 and report == {}
    assert f"--manifests {empty}: no Dockerfile, Kubernetes manifest or compose file found" in result.output


def test_the_repository_root_without_manifests_is_a_note_not_an_error(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "README.md").write_text("an image-only project\n")
    result, report = scan(root, "--manifests", str(root))
    assert result.exit_code == 0, result.output
    assert report["manifests"]["total_files"] == 0 and report["misconfigurations"] == []
    assert any("nothing was checked" in w["message"] for w in report["warnings"])


def test_the_report_says_what_was_checked(repo):
    (repo / "compose.yaml").write_text(
        "services:\n  web:\n    image: nginx:1.27\n  db:\n    image: postgres:16\n"
    )
    (repo / "k8s" / "monitor.yaml").write_text(
        "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: web\n"
        "  namespace: prod\n---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\n"
        "metadata:\n  name: api\n  namespace: prod\n"
    )
    _, report = scan(repo)
    summary = report["manifests"]
    assert summary["files"] == {"compose": 1, "dockerfile": 1, "kubernetes": 2}
    assert summary["total_files"] == 4
    assert summary["objects"] == 1 + 2 + 3  # one stage, two services, three Kubernetes objects
    assert summary["custom_resources_not_checked"] == [
        {"api_version": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "count": 2}
    ]
    (note,) = [w for w in report["warnings"] if "custom resources" in w["message"]]
    assert "2 custom resources not checked" in note["message"] and "ServiceMonitor" in note["message"]
    assert "MAN003" not in by_rule(report)  # a custom resource is not an unknown kind


def test_a_file_that_could_not_be_analysed_fails_the_default_policy_until_accepted(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "broken.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: [\n")
    result, report = scan(root)
    assert result.exit_code == 1
    (broken,) = by_rule(report)["MAN001"]
    assert broken["severity"] == "HIGH" and broken["fingerprint"] in {
        v["fingerprint"] for v in report["policy"]["violations"]
    }
    assert report["manifests"]["files"] == {"not_analysed": 1}
    (root / ".ci-security.yml").write_text(
        "ignore:\n  - id: MAN001\n    reason: generated by our templating step, checked after rendering\n"
        "    expires: 2099-01-01\n    paths: [broken.yaml]\n"
    )
    result, report = scan(root)
    assert result.exit_code == 0, result.output
    assert by_rule(report)["MAN001"][0]["suppressed"]["kind"] == "ignore"


def test_yaml_that_does_not_look_like_a_manifest_is_not_a_finding(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Dockerfile").write_text(
        "FROM python:3.12@sha256:" + "a" * 64 + "\nUSER 10001\nHEALTHCHECK CMD true\n"
    )
    # Discovery reads it (it mentions services), it does not parse, and nothing says it is a manifest.
    (root / "playbook.yml").write_text(
        "- hosts: all\n  tasks:\n    - name: restart services\n      x: [1, 2\n"
    )
    result, report = scan(root)
    assert "MAN001" not in by_rule(report) and result.exit_code == 0, result.output


FOLDING_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: prod
spec:
  automountServiceAccountToken: false
  containers:
    - name: app
      image: nginx:latest
      securityContext:
        privileged: true
"""


def test_folded_ids_reach_json_and_sarif_and_the_policy_decides_by_the_remaining_id(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pod.yaml").write_text(FOLDING_POD)
    sarif = root / "r.sarif"
    result, report = scan(root, "-o", f"sarif={sarif}")
    found = by_rule(report)
    (privileged,) = found["K8S001"]
    assert {"K8S013", "K8S020"} <= set(privileged["folded"]) and "K8S020" not in found
    (latest,) = found["K8S029"]
    assert latest["folded"] == ["K8S030"] and "K8S030" not in found
    results = validate_sarif(sarif.read_text())["runs"][0]["results"]
    (sarif_privileged,) = [r for r in results if r["ruleId"] == "K8S001"]
    assert set(privileged["folded"]) == set(sarif_privileged["properties"]["folded"])
    assert result.exit_code == 1

    # Ignoring or disabling a covered rule never hides the more severe finding that covers it.
    (root / ".ci-security.yml").write_text(
        "checks:\n  disable: [K8S020]\nignore:\n  - id: K8S013\n    reason: capabilities are dropped by PSA\n"
        "    expires: 2099-01-01\n"
    )
    result, report = scan(root)
    assert result.exit_code == 1 and not by_rule(report)["K8S001"][0]["suppressed"]

    # Accepting the remaining finding accepts what it covers.
    (root / ".ci-security.yml").write_text(
        "ignore:\n  - id: K8S001\n    reason: node agent that needs the host's devices (SEC-7)\n"
        "    expires: 2099-01-01\n"
    )
    result, report = scan(root)
    assert result.exit_code == 0, result.output
    assert by_rule(report)["K8S001"][0]["suppressed"]["kind"] == "ignore"

    # checks.severity of a covered rule raises the finding that covers it.
    (root / ".ci-security.yml").write_text(
        "ignore:\n  - id: K8S001\n    reason: node agent that needs the host's devices (SEC-7)\n"
        "    expires: 2099-01-01\nchecks:\n  severity:\n    K8S030: high\n"
    )
    result, report = scan(root)
    assert result.exit_code == 1
    assert any("K8S029 (HIGH)" in v["message"] for v in report["policy"]["violations"])


def test_a_disabled_rule_folds_nothing(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pod.yaml").write_text(FOLDING_POD)
    (root / ".ci-security.yml").write_text("checks:\n  disable: [K8S001]\n")
    _, report = scan(root)
    found = by_rule(report)
    assert found["K8S001"][0]["folded"] == [] and found["K8S001"][0]["suppressed"]
    (escalation,) = found["K8S020"]
    assert not escalation["suppressed"] and "remove privileged: true first" in escalation["message"]
