"""The helper that finds `../shared` (tests/testkit/shared.py): where it looks, what it returns, and
that a missing file skips the test, or fails it when CI requires the data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from testkit import shared


def _run_pytest(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A one-test pytest session asking the helper for a file, in a child process."""
    test = tmp_path / "test_child.py"
    test.write_text(
        "from testkit.shared import shared_path\n\n"
        "def test_reads():\n"
        "    assert shared_path('data', 'x.txt').read_text() == 'x'\n"
    )
    tests_dir = Path(__file__).resolve().parent
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(test)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tests_dir), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_configured_directory_wins(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.txt").write_text("x")
    monkeypatch.setenv("CI_SECURITY_SHARED_DIR", str(tmp_path))
    assert shared.candidates() == [tmp_path]
    assert shared.shared_dir() == tmp_path
    assert shared.shared_path("data", "x.txt") == tmp_path / "data" / "x.txt"


def test_beside_the_checkout_and_beside_a_worktrees_main_checkout(tmp_path, monkeypatch):
    monkeypatch.delenv("CI_SECURITY_SHARED_DIR", raising=False)
    main = tmp_path / "work" / "main"
    (main / ".git" / "worktrees" / "w1").mkdir(parents=True)
    (main / ".git" / "worktrees" / "w1" / "commondir").write_text("../..\n")
    worktree = tmp_path / "work" / "wt" / "w1"
    worktree.mkdir(parents=True)
    (worktree / ".git").write_text(f"gitdir: {main / '.git' / 'worktrees' / 'w1'}\n")
    assert shared.main_checkout(main) is None  # a main checkout's .git is a directory
    assert shared.main_checkout(worktree) == main
    assert shared.candidates(main) == [tmp_path / "work" / "shared"]
    assert shared.candidates(worktree) == [tmp_path / "work" / "wt" / "shared", tmp_path / "work" / "shared"]


def test_missing_file_skips_with_the_documented_reason(tmp_path):
    proc = _run_pytest(tmp_path, {"CI_SECURITY_SHARED_DIR": str(tmp_path / "none")})
    assert proc.returncode == 0, proc.stdout
    assert "1 skipped" in proc.stdout
    assert "needs ../shared (third-party data)" in proc.stdout


def test_missing_file_fails_when_required(tmp_path):
    env = {"CI_SECURITY_SHARED_DIR": str(tmp_path / "none"), "CI_SECURITY_REQUIRE_SHARED": "1"}
    proc = _run_pytest(tmp_path, env)
    assert proc.returncode == 1, proc.stdout
    assert "1 failed" in proc.stdout
    assert "data/x.txt not found (looked in" in proc.stdout


def test_present_file_is_read_even_when_required(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.txt").write_text("x")
    env = {"CI_SECURITY_SHARED_DIR": str(tmp_path), "CI_SECURITY_REQUIRE_SHARED": "1"}
    proc = _run_pytest(tmp_path, env)
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout


@pytest.mark.parametrize(("value", "required"), [("", False), ("0", False), ("1", True), ("yes", True)])
def test_require_variable(monkeypatch, value, required):
    monkeypatch.setenv("CI_SECURITY_REQUIRE_SHARED", value)
    assert shared.required() is required
