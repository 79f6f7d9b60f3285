"""`ci-security fix` on the command line: its options and their environment variables, usage errors
(exit 2, one line), and the database it needs."""

from __future__ import annotations

from click.testing import CliRunner

from ci_security.cli import main


def test_help_names_every_option_and_its_variable():
    result = CliRunner().invoke(main, ["fix", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for option, variable in [
        ("--repo", "CI_SECURITY_REPO"),
        ("--dry-run", "CI_SECURITY_DRY_RUN"),
        ("--max-prs", "CI_SECURITY_MAX_PRS"),
        ("--output", "CI_SECURITY_FIX_OUTPUT"),
        ("--fix-token", "CI_SECURITY_FIX_TOKEN"),
        ("--image", "CI_SECURITY_IMAGE"),
        ("--db", "CI_SECURITY_DB"),
        ("--platform", "CI_SECURITY_PLATFORM"),
        ("--registry-username", "CI_SECURITY_REGISTRY_USERNAME"),
        ("--docker-config", "CI_SECURITY_DOCKER_CONFIG"),
        ("--policy", "CI_SECURITY_POLICY"),
        ("--limit", "CI_SECURITY_LIMIT"),
    ]:
        assert option in result.output and variable in result.output, option
    ci = CliRunner().invoke(main, ["ci", "--help"], terminal_width=200)
    assert "--fix-prs / --no-fix-prs" in ci.output and "CI_SECURITY_FIX_PRS" in ci.output


def test_usage_errors_exit_2_with_one_line(tmp_path, monkeypatch):
    for variable in ("GITHUB_ACTIONS", "GITLAB_CI"):
        monkeypatch.delenv(variable, raising=False)
    bad = CliRunner().invoke(main, ["fix", "--repo", str(tmp_path), "-o", "sarif=x.sarif"])
    assert bad.exit_code == 2
    assert bad.output == "ci-security: error: --output 'sarif=x.sarif': expected json=FILE or markdown=FILE\n"
    missing = CliRunner().invoke(
        main, ["fix", "--repo", str(tmp_path), "--db", str(tmp_path / "none.sqlite")]
    )
    assert missing.exit_code == 2
    assert (
        "vulnerability database" in missing.output and "run `ci-security db update` first" in missing.output
    )
    (tmp_path / "db.sqlite").write_bytes(b"")
    nowhere = CliRunner().invoke(
        main, ["fix", "--repo", str(tmp_path / "nope"), "--db", str(tmp_path / "db.sqlite")]
    )
    assert nowhere.exit_code == 2 and "no such directory" in nowhere.output
    policy = tmp_path / "p.yml"
    policy.write_text("fix:\n  max_open_prs: -3\n")
    broken = CliRunner().invoke(
        main, ["fix", "--repo", str(tmp_path), "--db", str(tmp_path / "db.sqlite"), "--policy", str(policy)]
    )
    assert broken.exit_code == 2 and "p.yml:2:17: fix.max_open_prs: -3 is negative" in broken.output
