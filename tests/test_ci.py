"""The CI step's pure parts: report paths per platform, the comment key, workflow annotations,
inline comments, outputs, the $GITHUB_OUTPUT format, and the job summary's size cap."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from testkit.findings import deb_vuln

from ci_security import ci
from ci_security.models import (
    Decision,
    ImageTarget,
    Location,
    Misconfiguration,
    ScanResult,
    Severity,
    Suppression,
    Violation,
)


def _misconfig(rule: str, line: int, severity: Severity = Severity.HIGH, fp: str = "") -> Misconfiguration:
    return Misconfiguration(
        rule_id=rule,
        title=f"{rule} title",
        severity=severity,
        path="k8s/pod.yaml",
        line=line,
        message=f"{rule} says: value, with commas\nand a newline",
        remediation="set it right",
        fingerprint=fp or f"fp-{rule}-{line}",
    )


TARGET = ImageTarget(
    reference="docker-archive:/tmp/app.tar",
    transport="docker-archive",
    digest="sha256:" + "a" * 64,
    image_id="sha256:" + "a" * 64,
    platform=None,
    layers=(),
    repo_tags=("ghcr.io/acme/app:1.0",),
)


def _result() -> ScanResult:
    vulns = (
        deb_vuln("CVE-2024-1", "openssl", Severity.CRITICAL, location=Location(path="Dockerfile", line=1)),
        deb_vuln("CVE-2024-2", "zlib", Severity.LOW),  # no repository location: no annotation
    )
    misconfigs = (_misconfig("K8S001", 11, Severity.CRITICAL), _misconfig("K8S025", 9, Severity.LOW))
    return ScanResult(
        target=TARGET,
        packages=(),
        vulnerabilities_scanned=True,
        vulnerabilities=vulns,
        misconfigurations=misconfigs,
    )


def _decision(result: ScanResult) -> Decision:
    return Decision(
        passed=False,
        violations=(
            Violation(
                rule="fail_on", message="m", severity=Severity.CRITICAL, fingerprint="CVE-2024-1-openssl"
            ),
            Violation(rule="fail_on", message="m", severity=Severity.CRITICAL, fingerprint="fp-K8S001-11"),
        ),
        suppressed=(
            Suppression(fingerprint="fp-K8S025-9", kind="inline", reason="r", source="k8s/pod.yaml:8"),
        ),
        summary="fail: 2 findings",
    )


def test_report_paths_per_platform(tmp_path):
    assert set(ci.report_paths("github", tmp_path)) == {"json", "markdown", "sarif"}
    gitlab = ci.report_paths("gitlab", tmp_path)
    assert gitlab["gitlab"] == tmp_path / "gl-container-scanning-report.json"
    assert gitlab["codequality"] == tmp_path / "gl-code-quality-report.json"


def test_comment_key_is_the_image_name_without_tag():
    result = _result()
    assert ci.comment_key(result, None) == "ghcr.io/acme/app"
    assert ci.comment_key(replace(result, target=None), None) == "manifests"
    assert ci.comment_key(result, "api image!") == "api-image"
    pinned = replace(TARGET, transport="docker", reference="localhost:5000/app@sha256:" + "b" * 64)
    assert ci.comment_key(replace(result, target=pinned), None) == "localhost:5000/app"


def test_annotations_errors_for_violations_warnings_for_the_rest_escaped_and_capped():
    result = _result()
    notes = ci.workflow_annotations(result, _decision(result))
    assert [(n.level, n.path, n.line) for n in notes] == [
        ("error", "Dockerfile", 1),
        ("error", "k8s/pod.yaml", 11),
    ]  # the suppressed K8S025 and the unanchored CVE get none
    command = notes[1].command()
    assert command.startswith("::error file=k8s/pod.yaml,line=11,title=K8S001%3A K8S001 title::")
    assert "value, with commas%0Aand a newline" in command
    many = replace(
        result, misconfigurations=tuple(_misconfig("K8S030", n, Severity.LOW) for n in range(1, 30))
    )
    warnings = [n for n in ci.workflow_annotations(many, Decision(passed=True)) if n.level == "warning"]
    assert len(warnings) == ci.MAX_ANNOTATIONS


def test_inline_comments_only_for_open_manifest_findings():
    result = _result()
    (comment,) = ci.inline_comments(result, _decision(result))
    assert (comment.path, comment.line, comment.fingerprint) == ("k8s/pod.yaml", 11, "fp-K8S001-11")
    assert "**K8S001** K8S001 title (CRITICAL) · **fails the build**" in comment.body
    assert "**Fix:** set it right" in comment.body


def test_outputs_and_github_output_format(tmp_path):
    result = _result()
    decision = _decision(result)
    values = ci.outputs(result, decision, ci.report_paths("github", tmp_path), "https://x/comment/1")
    assert values["result"] == "fail" and values["violations"] == "2" and values["suppressed"] == "1"
    assert values["critical"] == "2" and values["low"] == "1"  # open findings only
    assert values["sarif-file"] == str(tmp_path / "ci-security.sarif")
    assert values["comment-url"] == "https://x/comment/1"
    text = ci.github_output({"a": "1", "b": "two\nlines ci_security_eof"})
    assert text == "a=1\nb<<ci_security_eof_\ntwo\nlines ci_security_eof\nci_security_eof_\n"


def test_step_summary_is_cut_at_a_line_below_the_limit():
    markdown = "".join(f"| row {n} |\n" for n in range(1000))
    cut = ci.step_summary(markdown, "https://ci/job/1", limit=500)
    assert len(cut.encode()) <= 500
    assert cut.endswith("…truncated: the full report is in the job's artifacts (https://ci/job/1).\n")
    assert "| row 0 |\n" in cut and "| row 999 |" not in cut
    assert ci.step_summary("short\n", "", limit=500) == "short\n"


def test_secrets_to_mask():
    assert ci.secrets_to_mask(["abc", None, "", "token-1", "token-1-longer"]) == ["token-1-longer", "token-1"]


def test_comment_body_links_the_job():
    assert (
        ci.comment_body("## ok\n\n", "https://ci/job/1")
        == "## ok\n\n<sub>[ci-security job](https://ci/job/1)</sub>"
    )
    assert ci.comment_body("## ok\n", "") == "## ok"


def test_refresh_database_keeps_a_current_database(tmp_path):
    from testkit.apps import import_app_db

    db = import_app_db(tmp_path / "osv.sqlite")
    (line,) = ci.refresh_database(db, 1000.0, "http://127.0.0.1:9")
    assert line.startswith(f"database {db} is current")


def test_refresh_database_falls_back_to_an_old_database(tmp_path):
    from testkit.apps import import_app_db

    db = import_app_db(tmp_path / "osv.sqlite")
    (line,) = ci.refresh_database(
        db, 0.0, "http://127.0.0.1:9", sleep=lambda _: None
    )  # nothing listens on port 9
    assert line.startswith("warning: database update failed, scanning with the existing database")


def test_refresh_database_without_a_database_fails(tmp_path):
    import pytest

    from ci_security.vulndb.store import VulnDbError

    with pytest.raises(VulnDbError):
        ci.refresh_database(
            tmp_path / "none" / "osv.sqlite", 24.0, "http://127.0.0.1:9", sleep=lambda _: None
        )
    assert not (tmp_path / "none" / "osv.sqlite").exists()
    assert Path(tmp_path / "none").is_dir()
