"""`scan.check`, the one entry point a program calls: it decides exactly as `ci-security scan` does
with the same options (the policy file, `--fail-on`, `checks.enable`, the policy's `limits:` under
`--limit`), while `scan.run` alone applies no policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ci_security.cli import main
from ci_security.scan import ScanOptions, check, run

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        privileged: true
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "k8s").mkdir(parents=True)
    (root / "k8s" / "pod.yaml").write_text(POD)
    (root / ".ci-security.yml").write_text("checks:\n  enable: [K8S036]\n")  # found in the root
    return root


def _cli(repo: Path, *args: str) -> tuple[int, list[tuple[str, str, int | None, str]]]:
    out = repo.parent / "report.json"
    out.unlink(missing_ok=True)
    result = CliRunner().invoke(
        main, ["scan", "--repo-root", str(repo), "-o", f"json={out}", *args], catch_exceptions=False
    )
    report = json.loads(out.read_text())
    found = sorted(
        (m["rule_id"], m["path"], m.get("line"), m["fingerprint"]) for m in report["misconfigurations"]
    )
    return result.exit_code, found


def _found(options: ScanOptions) -> list[tuple[str, str, int | None, str]]:
    checked = check(options)
    return sorted((m.rule_id, m.path, m.line, m.fingerprint) for m in checked.result.misconfigurations)


@pytest.mark.parametrize("fail_on", [None, "none", "critical"])
def test_check_decides_as_the_cli_does(repo, fail_on):
    options = ScanOptions(image=None, repo_root=repo, fail_on=fail_on)
    checked = check(options)
    code, found = _cli(repo, *(("--fail-on", fail_on) if fail_on else ()))
    assert _found(options) == found
    assert code == (0 if checked.decision.passed else 1)
    assert checked.decision.passed is (fail_on == "none")  # K8S001 is CRITICAL: only `none` passes it
    assert "K8S036" in {rule for rule, *_ in found}  # turned on by the policy's checks.enable
    assert "K8S036" not in {m.rule_id for m in run(options).misconfigurations}  # run applies no policy


def test_check_applies_the_policys_limits_beneath_the_command_lines(repo):
    (repo / ".ci-security.yml").write_text("limits:\n  manifest-bytes: 20\n")
    options = ScanOptions(image=None, repo_root=repo)
    (skipped,) = [m for m in check(options).result.misconfigurations if m.rule_id == "MAN001"]
    assert skipped.message.startswith("not analysed: exceeds the manifest-bytes limit (20 bytes)")
    assert _found(options) == _cli(repo)[1]
    wider = ScanOptions(image=None, repo_root=repo, limits=(("manifest-bytes", "1MiB"),))
    assert "MAN001" not in {rule for rule, *_ in _found(wider)}
    assert _found(wider) == _cli(repo, "--limit", "manifest-bytes=1MiB")[1]
