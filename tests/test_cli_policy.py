"""The policy through the command line: exit codes 0/1/2, the policy file found in the repository,
expired ignores, alias matching, VEX in and out, `new_only` against a baseline, image rules and
`ci-security policy check` — each checked in the reports the scan writes, not only in the exit code.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from testkit.apps import build_app, import_app_db
from testkit.codequality import check_code_quality
from testkit.gitlab_report import check_container_scanning_15
from testkit.sarif import validate as validate_sarif

from ci_security.cli import main

TODAY = datetime.now(UTC).date()
LATER = (TODAY + timedelta(days=30)).isoformat()
OPENSSL_FP = "CVE-2024-0727"
UTIL_LINUX = (("util-linux", "2.38.1-5+b1"),)
ENTRY = "ignore:\n  - id: CVE-2024-0727\n    reason: PKCS12 files are never parsed by this service\n"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return import_app_db(tmp_path_factory.mktemp("db") / "osv.sqlite")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_app(tmp_path_factory.mktemp("app") / "app.tar")


def scan(db: Path, image: Path, tmp_path: Path, *args: str) -> tuple[Result, dict]:
    out = tmp_path / "report.json"
    out.unlink(missing_ok=True)
    result = CliRunner().invoke(
        main,
        [
            "scan",
            "-i",
            f"docker-archive:{image}",
            "--db",
            str(db),
            "--db-max-age",
            "100000d",
            "--repo-root",
            str(tmp_path),
            "-o",
            f"json={out}",
            *args,
        ],
        catch_exceptions=False,
    )
    report = json.loads(out.read_text()) if out.exists() else {}
    return result, report


def write_policy(tmp_path: Path, text: str, name: str = "policy.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def by_id(report: dict) -> dict[str, dict]:
    return {v["id"]: v for v in report["vulnerabilities"]}


def test_default_policy_passes_without_fixable_high_findings(db, app, tmp_path):
    result, report = scan(db, app, tmp_path)
    assert result.exit_code == 0, result.output
    assert report["policy"]["result"] == "pass"
    assert report["policy"]["source"] is None
    assert "policy pass: no findings at or above HIGH with a fix" in result.stderr


def test_policy_file_in_the_repository_is_used_and_fails_the_build(db, app, tmp_path):
    write_policy(tmp_path, "fail_on:\n  severity: medium\n", ".ci-security.yml")
    result, report = scan(db, app, tmp_path)
    assert result.exit_code == 1, result.output
    policy = report["policy"]
    assert policy["result"] == "fail"
    assert policy["source"].endswith(".ci-security.yml")
    (violation,) = policy["violations"]
    assert violation["fingerprint"] == by_id(report)[OPENSSL_FP]["fingerprint"]
    assert violation["severity"] == "MEDIUM"
    assert "policy fail: 1 finding at or above MEDIUM with a fix" in result.stderr


def test_every_report_agrees_with_the_exit_code(db, app, tmp_path):
    policy = write_policy(tmp_path, "fail_on:\n  severity: medium\n")
    sarif, gitlab, markdown = tmp_path / "r.sarif", tmp_path / "gl.json", tmp_path / "summary.md"
    quality = tmp_path / "cq.json"
    result, report = scan(
        db, app, tmp_path, "--policy", str(policy), "-o", f"sarif={sarif}", "-o", f"gitlab={gitlab}",
        "-o", f"markdown={markdown}", "-o", f"codequality={quality}", "-o", "table",
    )  # fmt: skip
    assert result.exit_code == 1
    validate_sarif(sarif.read_text())
    assert check_container_scanning_15(json.loads(gitlab.read_text()), strict=True) == []
    assert check_code_quality(json.loads(quality.read_text())) == []
    assert "FAIL" in result.stdout and "Policy" in result.stdout
    summary = markdown.read_text()
    assert "fail" in summary.lower() and OPENSSL_FP in summary
    runs = json.loads(sarif.read_text())["runs"]
    results = [r for run in runs for r in run["results"]]
    assert {r["ruleId"] for r in results} == set(by_id(report))  # nothing dropped by the threshold
    assert json.loads(gitlab.read_text())["scan"]["status"] == "success"


# A report as a later ci-security might write it: same tool, schema version 2.
NEWER_REPORT = json.dumps(
    {"schema_version": "2", "tool": {"name": "ci-security", "version": "9.0.0"}, "vulnerabilities": []}
)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: ["--policy", str(write_policy(p, "fail_on:\n  severty: high\n"))], "policy.yml:2:3:"),
        (lambda p: ["--policy", str(p / "missing.yml")], "missing.yml"),
        (lambda p: ["--baseline", str(write_policy(p, "{not json", "base.json"))], "base.json:1:2:"),
        (lambda p: ["--vex", str(write_policy(p, '{"statements": 3}', "bad.vex.json"))], "bad.vex.json"),
        (
            lambda p: ["--baseline", str(write_policy(p, NEWER_REPORT, "newer.json"))],
            "newer.json: JSON report schema_version '2' is not supported (expected 1)",
        ),
    ],
    ids=["misspelt-key", "missing-policy", "broken-baseline", "broken-vex", "baseline-of-another-schema"],
)
def test_bad_policy_inputs_exit_2_with_one_line_and_no_report(db, app, tmp_path, setup, message):
    result, report = scan(db, app, tmp_path, *setup(tmp_path))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ci-security: error: ") and message in lines[0]
    assert report == {}  # the report file was never written
    assert not list(tmp_path.glob(".report.json.*"))


def test_an_expired_ignore_stops_suppressing_and_says_so(db, app, tmp_path):
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    policy = write_policy(
        tmp_path,
        f"""fail_on:
  severity: medium
ignore:
  - id: CVE-2024-0727
    reason: PKCS12 files are never parsed by this service
    expires: {yesterday}
""",
    )
    markdown = tmp_path / "summary.md"
    result, report = scan(db, app, tmp_path, "--policy", str(policy), "-o", f"markdown={markdown}")
    assert result.exit_code == 1
    assert f"policy.yml:4: ignore entry for CVE-2024-0727 expired on {yesterday}" in result.stderr
    (expired,) = report["policy"]["expired"]
    assert expired["id"] == "CVE-2024-0727" and expired["expires"] == yesterday
    assert report["policy"]["suppressed"] == []
    assert by_id(report)[OPENSSL_FP]["suppressed"] is None
    assert "expired" in markdown.read_text()


def test_the_expiry_day_itself_still_suppresses(db, app, tmp_path):
    policy = write_policy(
        tmp_path,
        f"fail_on:\n  severity: medium\nignore:\n  - id: CVE-2024-0727\n"
        f"    reason: PKCS12 files are never parsed\n    expires: {TODAY.isoformat()}\n",
    )
    result, _ = scan(db, app, tmp_path, "--policy", str(policy))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("entry_id", ["CVE-2018-18074", "GHSA-x84v-xcm2-53pg", "pysec-2018-28"])
def test_an_ignore_matches_the_record_by_any_alias(db, app, tmp_path, entry_id):
    # The advisory in the database is PYSEC-2018-28; it aliases CVE-2018-18074 and a GHSA id.
    policy = write_policy(
        tmp_path,
        f"""fail_on:
  severity: unknown
ignore:
  - id: {entry_id}
    reason: the proxy that strips Authorization headers fronts every request
    expires: {LATER}
    packages: [requests]
  - id: CVE-2023-32681
    reason: no proxies are configured in this service
    expires: {LATER}
  - id: CVE-2024-0727
    reason: PKCS12 files are never parsed by this service
    expires: {LATER}
    packages: ["pkg:deb/debian/openssl"]
""",
    )
    sarif = tmp_path / "r.sarif"
    result, report = scan(db, app, tmp_path, "--policy", str(policy), "-o", f"sarif={sarif}")
    assert result.exit_code == 0, result.output
    validate_sarif(sarif.read_text())
    found = by_id(report)["CVE-2018-18074"]
    assert "PYSEC-2018-28" in found["aliases"]
    assert found["suppressed"]["reason"].startswith("the proxy")
    assert found["suppressed"]["expires"] == LATER
    assert found["suppressed"]["source"].endswith("policy.yml:4")
    (run,) = json.loads(sarif.read_text())["runs"]
    suppressed = [r for r in run["results"] if r["ruleId"] == "CVE-2018-18074"]
    (sarif_result,) = suppressed
    (suppression,) = sarif_result["suppressions"]
    assert suppression["kind"] == "external" and "the proxy" in suppression["justification"]


def test_a_scope_that_does_not_match_leaves_the_finding(db, app, tmp_path):
    policy = write_policy(
        tmp_path,
        f"fail_on:\n  severity: medium\nignore:\n  - id: CVE-2024-0727\n"
        f"    reason: only the staging image is affected\n    expires: {LATER}\n"
        f"    images: ['ghcr.io/acme/*']\n",
    )
    result, report = scan(db, app, tmp_path, "--policy", str(policy))
    assert result.exit_code == 1
    assert by_id(report)[OPENSSL_FP]["suppressed"] is None


def test_vex_in_suppresses_not_affected_and_vex_out_round_trips(db, app, tmp_path):
    vex = write_policy(
        tmp_path,
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "https://example.com/vex/1",
                "author": "security@example.com",
                "timestamp": "2026-01-01T00:00:00Z",
                "version": 1,
                "statements": [
                    {
                        "vulnerability": {"name": "CVE-2024-0727"},
                        "products": [{"@id": "pkg:deb/debian/openssl"}],
                        "status": "not_affected",
                        "justification": "vulnerable_code_not_in_execute_path",
                    }
                ],
            }
        ),
        "app.vex.json",
    )
    gate = write_policy(tmp_path, "fail_on:\n  severity: medium\n")
    result, report = scan(db, app, tmp_path, "--policy", str(gate), "--vex", str(vex))
    assert result.exit_code == 0, result.output
    suppressed = by_id(report)[OPENSSL_FP]["suppressed"]
    assert suppressed["kind"] == "vex" and "app.vex.json" in suppressed["source"]

    # The policy's ignore entries go out as OpenVEX and come back in as --vex on the next scan.
    policy = write_policy(
        tmp_path,
        f"fail_on:\n  severity: medium\nignore:\n  - id: CVE-2024-0727\n"
        f"    reason: PKCS12 files are never parsed by this service\n    expires: {LATER}\n"
        f"    vex_justification: vulnerable_code_not_in_execute_path\n",
        "ignoring.yml",
    )
    out = tmp_path / "out.vex.json"
    result, _ = scan(db, app, tmp_path, "--policy", str(policy), "-o", f"openvex={out}")
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    (statement,) = document["statements"]
    assert statement["vulnerability"]["name"] == "CVE-2024-0727"
    assert statement["status"] == "not_affected"
    assert statement["justification"] == "vulnerable_code_not_in_execute_path"
    result, report = scan(db, app, tmp_path, "--policy", str(gate), "--vex", str(out))
    assert result.exit_code == 0, result.output
    assert by_id(report)[OPENSSL_FP]["suppressed"]["kind"] == "vex"


def test_openvex_output_without_accepted_findings_writes_nothing(db, app, tmp_path):
    out = tmp_path / "out.vex.json"
    result, _ = scan(db, app, tmp_path, "-o", f"openvex={out}")
    assert result.exit_code == 0
    assert not out.exists()
    assert f"openvex: nothing to report, {out} not written" in result.stderr


def test_new_only_fails_only_on_findings_missing_from_the_baseline(db, app, tmp_path):
    policy = write_policy(tmp_path, "fail_on:\n  severity: unknown\n  new_only: true\n")
    first, baseline = scan(db, app, tmp_path, "--policy", str(policy))
    assert first.exit_code == 1  # no baseline: new_only cannot apply, every fixable finding fails
    assert "new_only ignored: no baseline" in first.stderr
    base = tmp_path / "baseline.json"
    base.write_text(json.dumps(baseline))

    same, report = scan(db, app, tmp_path, "--policy", str(policy), "--baseline", str(base))
    assert same.exit_code == 0, same.output
    assert all(v["new"] is False for v in report["vulnerabilities"])

    # The next build bumps requests (CVE-2023-32681 stays: same finding, not new) and adds util-linux.
    v2 = build_app(tmp_path / "v2.tar", requests="2.20.0", extra_debs=UTIL_LINUX)
    sarif, markdown = tmp_path / "r.sarif", tmp_path / "summary.md"
    result, report = scan(
        db, v2, tmp_path, "--policy", str(policy), "--baseline", str(base), "-o", f"sarif={sarif}",
        "-o", f"markdown={markdown}",
    )  # fmt: skip
    assert result.exit_code == 1
    found = by_id(report)
    assert "CVE-2018-18074" not in found  # fixed by the bump
    assert found["CVE-2023-32681"]["new"] is False
    assert found["CVE-2024-28085"]["new"] is True
    (violation,) = report["policy"]["violations"]
    assert violation["fingerprint"] == found["CVE-2024-28085"]["fingerprint"]
    runs = validate_sarif(sarif.read_text())["runs"]
    states = {r["ruleId"]: r["baselineState"] for run in runs for r in run["results"]}
    assert states["CVE-2024-28085"] == "new" and states["CVE-2023-32681"] == "unchanged"
    assert "new" in markdown.read_text().lower()

    # Without new_only the same scan fails on the existing fixable findings too.
    strict = write_policy(tmp_path, "fail_on:\n  severity: unknown\n", "strict.yml")
    result, report = scan(db, v2, tmp_path, "--policy", str(strict), "--baseline", str(base))
    assert result.exit_code == 1 and len(report["policy"]["violations"]) == 3


def test_image_rules(db, tmp_path):
    root_image = build_app(tmp_path / "root.tar", user="", tag="docker.io/acme/app:latest")
    policy = write_policy(
        tmp_path,
        """fail_on:
  severity: none
images:
  allowed_registries: [ghcr.io/acme]
  require_digest: true
  forbid_latest: true
  require_non_root: true
""",
    )
    result, report = scan(db, root_image, tmp_path, "--policy", str(policy))
    assert result.exit_code == 1
    rules = {v["rule"] for v in report["policy"]["violations"]}
    assert rules == {
        "images.allowed_registries",
        "images.require_digest",
        "images.forbid_latest",
        "images.require_non_root",
    }
    relaxed = write_policy(
        tmp_path, "fail_on:\n  severity: none\nimages:\n  require_non_root: true\n", "ok.yml"
    )
    app_user = build_app(tmp_path / "user.tar", user="app")
    result, report = scan(db, app_user, tmp_path, "--policy", str(relaxed))
    assert result.exit_code == 0, result.output


def test_checks_keys_are_accepted_by_the_cli(db, app, tmp_path):
    policy = write_policy(
        tmp_path,
        "fail_on:\n  severity: critical\n  fixable_only: false\nchecks:\n  disable: [DL3008]\n"
        "  severity:\n    DL3007: critical\nvex: []\nversion: 1\n",
    )
    result, report = scan(db, app, tmp_path, "--policy", str(policy))
    assert result.exit_code == 0, result.output
    assert report["policy"]["source"] == str(policy)


def test_policy_check_prints_every_problem_with_its_position(tmp_path):
    path = write_policy(
        tmp_path,
        """fail_on:
  severity: hgh
  fixable_only: "yes"
ignore:
  - id: CVE-2024-0727
    reason: short
    expires: 2026-02-30
  - id: CVE-2024-0727
    id: CVE-2024-0728
    reason: PKCS12 files are never parsed by this service
    expires: 2026-12-01
imgaes: {}
""",
    )
    result = CliRunner().invoke(main, ["policy", "check", str(path)])
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    where = [line.split(": ", 1)[0] for line in lines]
    assert f"{path}:2:13" in where  # unknown severity
    assert f"{path}:3:17" in where  # wrong type
    assert f"{path}:7:14" in where  # not a real date
    assert f"{path}:9:5" in where  # duplicate key
    assert f"{path}:12:1" in where  # misspelt key
    assert any("did you mean 'images'" in line for line in lines)


def test_policy_check_accepts_a_good_file(tmp_path):
    path = write_policy(tmp_path, f"fail_on:\n  severity: high\n{ENTRY}    expires: {LATER}\n")
    result = CliRunner().invoke(main, ["policy", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_policy_check_reports_expired_entries_as_notes(tmp_path):
    expired = date(2020, 1, 1).isoformat()
    path = write_policy(tmp_path, f"{ENTRY}    expires: {expired}\n")
    result = CliRunner().invoke(main, ["policy", "check", str(path)])
    assert result.exit_code == 0
    assert f"{path}:4:14: note:" in result.stdout and "expired" in result.stdout


# --- the policy's limits: ----------------------------------------------------------------------


def _manifest_scan(tmp_path: Path, *args: str) -> tuple[Result, dict]:
    (tmp_path / "k8s").mkdir(exist_ok=True)
    (tmp_path / "k8s" / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n")
    out = tmp_path / "report.json"
    out.unlink(missing_ok=True)
    result = CliRunner().invoke(
        main,
        [
            "scan",
            "--manifests",
            str(tmp_path / "k8s"),
            "--repo-root",
            str(tmp_path),
            "-o",
            f"json={out}",
            *args,
        ],
        catch_exceptions=False,
    )
    return result, json.loads(out.read_text()) if out.exists() else {}


def _baseline(tmp_path: Path) -> Path:
    path = tmp_path / "baseline.json"
    report = {"schema_version": "1", "tool": {"name": "ci-security"}, "vulnerabilities": []}
    path.write_text(json.dumps(report))
    return path


def test_the_policys_limits_apply_to_the_documents_read_after_it(tmp_path):
    policy = tmp_path / "policy.yml"
    policy.write_text("limits:\n  document-bytes: 10\n")
    result, report = _manifest_scan(tmp_path, "--policy", str(policy), "--baseline", str(_baseline(tmp_path)))
    assert result.exit_code == 2
    assert "baseline.json: exceeds the document-bytes limit (10 bytes)" in result.output
    assert report == {}


def test_the_command_line_wins_over_the_policys_limits(tmp_path):
    policy = tmp_path / "policy.yml"
    policy.write_text("limits:\n  document_bytes: 10\n  manifest-bytes: 20\n")
    args = ("--policy", str(policy), "--baseline", str(_baseline(tmp_path)), "--limit", "document-bytes=1MiB")
    result, report = _manifest_scan(tmp_path, *args)
    assert result.exit_code in (0, 1), result.output
    (finding,) = [m for m in report["misconfigurations"] if m["rule_id"] == "MAN001"]
    assert finding["message"].startswith("not analysed: exceeds the manifest-bytes limit (20 bytes)")


def test_policy_check_reports_limits_problems_and_takes_limit(tmp_path):
    policy = tmp_path / "policy.yml"
    policy.write_text("limits:\n  layer-byte: 1GiB\n")
    result = CliRunner().invoke(main, ["policy", "check", str(policy)])
    assert result.exit_code == 2
    assert f"{policy}:2:3: limits: unknown limit 'layer-byte' (did you mean 'layer-bytes'?)" in result.output
    policy.write_text("version: 1\n" + "#" * 2000 + "\n")
    result = CliRunner().invoke(main, ["policy", "check", str(policy), "--limit", "policy-bytes=1KiB"])
    assert result.exit_code == 2
    assert "exceeds the policy-bytes limit (1 KiB): 2,012 bytes" in result.output
    assert CliRunner().invoke(main, ["policy", "check", str(policy)]).exit_code == 0


def test_the_ci_command_reads_the_policy_first_and_applies_its_limits(tmp_path, monkeypatch):
    for name in ("GITHUB_ACTIONS", "GITLAB_CI", "CI"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n")
    policy = tmp_path / "policy.yml"
    policy.write_text("limits:\n  document-bytes: 10\n")
    args = ["ci", "--manifests", str(tmp_path / "k8s"), "--repo-root", str(tmp_path), "--policy", str(policy)]
    args += ["--report-dir", str(tmp_path / "reports"), "--baseline", str(_baseline(tmp_path))]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 2
    assert "baseline.json: exceeds the document-bytes limit (10 bytes)" in result.output
    result = CliRunner().invoke(main, [*args, "--limit", "document-bytes=1KiB"], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
