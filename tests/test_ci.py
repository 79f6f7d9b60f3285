"""The CI step's pure parts: report paths per platform, the comment key, workflow annotations,
inline comments, outputs, the $GITHUB_OUTPUT format, the job summary's size cap, what is asked of
the platform, and how what did not happen is said (once per reason)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from testkit.findings import deb_vuln
from testkit.workflow import runner_commands

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
from ci_security.platforms import github_actions
from ci_security.platforms.base import InlineOutcome, Notice, Outcome
from ci_security.platforms.context import CiContext
from ci_security.platforms.registry import SURFACES


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
    notes = ci.to_annotate(result, _decision(result))
    assert [(n.level, n.path, n.line) for n in notes] == [
        ("error", "Dockerfile", 1),
        ("error", "k8s/pod.yaml", 11),
    ]  # the suppressed K8S025 and the unanchored CVE get none
    command = github_actions.command(notes[1])
    assert command.startswith("::error file=k8s/pod.yaml,line=11,title=K8S001%3A K8S001 title::")
    assert "value, with commas%0Aand a newline" in command
    many = replace(
        result, misconfigurations=tuple(_misconfig("K8S030", n, Severity.LOW) for n in range(1, 30))
    )
    shown = github_actions.capped(ci.to_annotate(many, Decision(passed=True)))
    warnings = [n for n in shown if n.level == "warning"]
    assert len(warnings) == github_actions.MAX_ANNOTATIONS
    assert SURFACES["github"].annotations(ci.to_annotate(many, Decision(passed=True))) == [
        github_actions.command(n) for n in shown
    ]
    assert SURFACES["gitlab"].annotations(notes) == SURFACES["local"].annotations(notes) == []


def test_annotations_carry_hostile_text_as_data():
    result = _result()
    evil = replace(
        result.misconfigurations[0],
        path="k8s/a,b:c.yaml",
        title="t\n::warning::x",
        message="m\n::error::pwned ##[error]x \x1b[31m",
    )
    notes = SURFACES["github"].annotations(
        ci.to_annotate(replace(result, misconfigurations=(evil,)), _decision(result))
    )
    parsed = [runner_commands(n) for n in notes]
    assert all(len(commands) == 1 for commands in parsed)
    (_, props, data) = parsed[-1][0]
    assert props["file"] == "k8s/a,b:c.yaml" and props["title"] == "K8S001: t\n::warning::x"
    assert data == "m\n::error::pwned ##[error]x "  # one annotation, multi-line, the escape code gone


def test_inline_comments_escape_what_the_manifest_says():
    result = _result()
    evil = replace(
        result.misconfigurations[0],
        message="container </details><img src=x> @everyone\n/close",
        found_by="hadolint",
        title="<b>t</b>",
        remediation="*x*",
    )
    (comment,) = ci.inline_comments(replace(result, misconfigurations=(evil,)), _decision(result))
    assert "&lt;/details&gt;&lt;img src=x&gt; @&#8203;everyone\n\\/close" in comment.body
    assert "&lt;b&gt;t&lt;/b&gt;" in comment.body and "**Fix:** \\*x\\*" in comment.body
    assert "`# ci-security:ignore=K8S001 <reason>`" in comment.body


def test_inline_comments_only_for_open_manifest_findings():
    result = _result()
    (comment,) = ci.inline_comments(result, _decision(result))
    assert (comment.path, comment.line, comment.fingerprint) == ("k8s/pod.yaml", 11, "fp-K8S001-11")
    assert "**K8S001** K8S001 title (CRITICAL) · **fails the build**" in comment.body
    assert "**Fix:** set it right" in comment.body


def test_outputs(tmp_path):
    result = _result()
    decision = _decision(result)
    values = ci.outputs(result, decision, ci.report_paths("github", tmp_path), "https://x/comment/1")
    assert values["result"] == "fail" and values["violations"] == "2" and values["suppressed"] == "1"
    assert values["critical"] == "2" and values["low"] == "1"  # open findings only
    assert values["sarif-file"] == str(tmp_path / "ci-security.sarif")
    assert values["comment-url"] == "https://x/comment/1"


def test_secrets_to_mask():
    assert ci.secrets_to_mask(["abc", None, "", "token-1", "token-1-longer"]) == ["token-1-longer", "token-1"]


class _Refusing:
    """A platform whose every action is skipped for one reason, or fails."""

    name = "github"

    def __init__(self, action: str = "skipped", detail: str = "the token is read-only") -> None:
        self.action, self.detail = action, detail

    def upsert_comment(self, key, body):
        return Outcome(action=self.action, detail=self.detail)

    def sync_inline(self, key, comments):
        return InlineOutcome(action=self.action, detail=self.detail)

    def upload_sarif(self, sarif):
        return Outcome(action=self.action, detail=self.detail)


class _Working(_Refusing):
    def upsert_comment(self, key, body):
        return Outcome(action="updated", url="https://x/c/1")

    def sync_inline(self, key, comments):
        return InlineOutcome(posted=1, outside_diff=2, action="done")


def test_one_reason_is_said_once_for_every_action_it_stopped():
    plan = ci.PublishPlan(comment=True, inline=True, upload_sarif=True)
    done = ci.publish(_Refusing(), "k", "body", [], "{}", plan)
    assert done.lines == () and done.comment_url is None
    assert done.notices == (
        Notice(
            level="notice",
            subject="summary comment, inline comments and SARIF upload skipped",
            detail="the token is read-only",
        ),
    )
    failed = ci.publish(_Refusing("failed", "502 after 4 attempts"), "k", "body", [], None, plan)
    assert [(n.level, n.subject) for n in failed.notices] == [
        ("warning", "summary comment and inline comments failed"),
        ("notice", "SARIF upload skipped"),  # no SARIF report was written
    ]


def test_what_went_through_is_a_line_what_did_not_a_notice():
    plan = ci.PublishPlan(comment=True, inline=True, upload_sarif=True)
    done = ci.publish(_Working("failed", "413 too large"), "k", "body", [], "{}", plan)
    assert done.comment_url == "https://x/c/1"
    assert done.lines == (
        "summary comment updated (https://x/c/1)",
        "inline comments done (1 posted, 0 updated, 0 resolved, 2 outside the diff, not sent)",
    )
    assert done.notices == (Notice(level="warning", subject="SARIF upload failed", detail="413 too large"),)


class _Broken(_Refusing):
    """A platform with a bug: every action raises something no API failure would."""

    def upsert_comment(self, key, body):
        raise KeyError("ghs_token-in-the-message")

    def sync_inline(self, key, comments):
        raise RuntimeError("boom")

    def upload_sarif(self, sarif):
        raise ValueError


def test_a_platform_that_raises_is_a_failed_outcome_not_a_crash():
    plan = ci.PublishPlan(comment=True, inline=True, upload_sarif=True)
    done = ci.publish(_Broken(), "k", "body", [], "{}", plan, secrets=["ghs_token-in-the-message"])
    assert done.lines == () and done.comment_url is None
    assert done.notices == (
        Notice(level="warning", subject="summary comment failed", detail="unexpected KeyError: '***'"),
        Notice(level="warning", subject="inline comments failed", detail="unexpected RuntimeError: boom"),
        Notice(level="warning", subject="SARIF upload failed", detail="unexpected ValueError"),
    )


def test_a_push_build_plans_no_comments():
    push = CiContext(platform="github", token="t")
    pull = replace(push, change=7)
    assert ci.plan_for(push, comment=True, inline=True, upload_sarif=True) == ci.PublishPlan(
        comment=False, inline=False, upload_sarif=True
    )
    assert ci.plan_for(pull, comment=True, inline=False, upload_sarif=False) == ci.PublishPlan(
        comment=True, inline=False, upload_sarif=False
    )


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


def _ci_env(platform: str, tmp_path: Path) -> dict[str, str | None]:
    """A pull/merge request build on `platform` whose API is never reached (nothing listens there)."""
    import json

    if platform == "github":
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"pull_request": {"number": 7, "head": {"sha": "1" * 40}}}))
        return {
            "GITLAB_CI": None,
            "GITHUB_ACTIONS": "true",
            "GITHUB_API_URL": "http://127.0.0.1:9",
            "GITHUB_REPOSITORY": "octo-org/app",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_SHA": "f" * 40,
            "GITHUB_TOKEN": "ghs_NotARealToken0123",
            "GITHUB_OUTPUT": str(tmp_path / "output"),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        }
    return {
        "GITHUB_ACTIONS": None,
        "GITLAB_CI": "true",
        "CI_API_V4_URL": "http://127.0.0.1:9/api/v4",
        "CI_PROJECT_ID": "5",
        "CI_MERGE_REQUEST_IID": "3",
        "CI_COMMIT_SHA": "f" * 40,
        "CI_SECURITY_GITLAB_TOKEN": "glpat-NotARealToken0123",
    }


@pytest.mark.parametrize("platform", ["github", "gitlab"])
@pytest.mark.parametrize(("privileged", "code"), [(True, 1), (False, 0)])
def test_a_platform_raising_is_a_warning_and_the_exit_code_stays_the_scans(
    platform, privileged, code, tmp_path, monkeypatch
):
    from click.testing import CliRunner

    from ci_security.cli import main
    from ci_security.platforms.github import GitHubPlatform
    from ci_security.platforms.gitlab import GitLabPlatform

    def boom(self, *args):
        raise RuntimeError("a bug in the platform")

    for cls in (GitHubPlatform, GitLabPlatform):
        for method in ("upsert_comment", "sync_inline", "upload_sarif"):
            monkeypatch.setattr(cls, method, boom)
    repo = tmp_path / "repo"
    (repo / "k8s").mkdir(parents=True)
    (repo / "k8s" / "pod.yaml").write_text(POD if privileged else POD.replace("true", "false"))
    args = ["ci", "--repo-root", str(repo), "--manifests", str(repo), "--report-dir", str(tmp_path / "out")]
    result = CliRunner().invoke(main, [*args, "--upload-sarif"], env=_ci_env(platform, tmp_path))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == code, result.output
    if platform == "github":
        notices = [
            command
            for line in result.stdout.splitlines()
            for command in runner_commands(line)
            if command[1].get("title", "").startswith("ci-security:")
        ]
        assert notices == [
            (
                "warning",
                {"title": "ci-security: summary comment, inline comments and SARIF upload failed"},
                "unexpected RuntimeError: a bug in the platform",
            )
        ]
    else:
        assert "ci-security: summary comment and inline comments failed" in result.stdout
        assert "unexpected RuntimeError: a bug in the platform" in result.stdout
    assert "Traceback" not in result.output


def test_refresh_database_pulls_from_a_repository_instead(tmp_path):
    import shutil

    import pytest
    from testkit.apps import import_app_db
    from testkit.registries import docker_registry

    from ci_security.dbartifact.artifact import RegistryAccess, push
    from ci_security.errors import CiSecurityError

    if shutil.which("docker-registry") is None:
        pytest.skip("needs docker-registry")
    source = import_app_db(tmp_path / "builder" / "osv.sqlite")
    live = tmp_path / "ci" / "osv.sqlite"
    with docker_registry(tmp_path / "registry") as reg:
        repository = f"{reg.host}/org/ci-security-db"
        (pushed,) = push(source, [repository], RegistryAccess())
        # The OSV mirror is never asked (nothing listens on port 9), however old the database.
        (line,) = ci.refresh_database(live, 0.0, "http://127.0.0.1:9", repository=repository)
        assert line.startswith(f"database {live} pulled from {pushed.reference}@{pushed.digest} (built ")
        (line,) = ci.refresh_database(live, 0.0, "http://127.0.0.1:9", repository=repository)
        assert line.startswith(f"database {live} is current ({pushed.reference}@{pushed.digest}")
    # The registry is gone: the database in place is scanned with, and that is said.
    (line,) = ci.refresh_database(live, 0.0, None, repository=repository, sleep=lambda _: None)
    assert line.startswith("warning: database pull failed, scanning with the existing database: db pull ")
    with pytest.raises(CiSecurityError, match="cannot connect"):  # nothing to fall back on: the error
        ci.refresh_database(
            tmp_path / "none" / "osv.sqlite", 0.0, None, repository=repository, sleep=lambda _: None
        )
