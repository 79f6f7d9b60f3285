"""`.gitignore` matching: gitignore(5) semantics, checked against git itself on one tree, and bounded
work on hostile patterns."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ci_security import limits
from ci_security.rules import gitignore
from ci_security.rules.discover import _walk

GITIGNORE = """\
# comments and blank lines are skipped

*.log
!keep.log
/root-only.txt
build/
docs/**/draft-*.md
**/cache
tmp*/
[abc]x.yaml
[!a-c]y.yaml
q?.yaml
trailing.yaml\\u0020\\u0020
escaped\\\\ space.yaml\\u0020
\\#hash.yaml
\\!bang.yaml
deep/**
a/**/z.yaml
""".replace("\\\\u0020", " ")

TREE = [
    "app.log",
    "keep.log",
    "sub/app.log",
    "sub/keep.log",
    "root-only.txt",
    "sub/root-only.txt",
    "build/out.yaml",
    "sub/build/out.yaml",
    "other/build",  # a file named like an ignored directory is not a directory
    "docs/draft-1.md",
    "docs/x/draft-2.md",
    "docs/x/y/final.md",
    "cache/a.yaml",
    "sub/cache/b.yaml",
    "tmp1/a.yaml",
    "tmpfile.yaml",
    "ax.yaml",
    "dx.yaml",
    "by.yaml",
    "zy.yaml",
    "q1.yaml",
    "q12.yaml",
    "trailing.yaml",
    "escaped space.yaml",
    "#hash.yaml",
    "!bang.yaml",
    "deep/a/b.yaml",
    "deepfile.yaml",
    "a/z.yaml",
    "a/b/c/z.yaml",
    "a/b/y.yaml",
    "nested/.gitignore",
    "nested/x.yaml",
    "nested/y.yaml",
    "nested/inner/x.yaml",
]


def _build(root: Path) -> None:
    for name in TREE:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")
    (root / ".gitignore").write_text(GITIGNORE)
    # a deeper file overrides a higher one, and its patterns are relative to it
    (root / "nested" / ".gitignore").write_text("x.yaml\n!/inner/x.yaml\n*.log\n!app.log\n")
    (root / "nested" / "app.log").write_text("x\n")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is the reference here")
def test_the_walk_lists_what_git_lists(tmp_path):
    _build(tmp_path)
    # git runs here only on this test's own tree, as the reference for the semantics.
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    listed = subprocess.run(
        ["git", "-C", str(tmp_path), "ls-files", "-z", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
    ).stdout.decode()
    expected = sorted(name for name in listed.split("\0") if name)
    ours = sorted(p.relative_to(tmp_path).as_posix() for p in _walk(tmp_path, tmp_path))
    assert ours == expected
    assert "keep.log" in ours and "app.log" not in ours and "nested/app.log" in ours


def test_parent_ignore_files_apply_when_walking_a_subdirectory(tmp_path):
    _build(tmp_path)
    ours = sorted(p.relative_to(tmp_path).as_posix() for p in _walk(tmp_path / "sub", tmp_path))
    assert ours == ["sub/keep.log", "sub/root-only.txt"]


def test_info_exclude_is_read_only_from_a_real_git_directory(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git" / "info").mkdir(parents=True)
    (repo / "a.yaml").write_text("x\n")
    (repo / ".git" / "info" / "exclude").write_text("a.yaml\n")
    assert list(_walk(repo, repo)) == []
    shutil.rmtree(repo / ".git")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "info").mkdir(parents=True)
    (elsewhere / "info" / "exclude").write_text("a.yaml\n")
    (repo / ".git").write_text(f"gitdir: {elsewhere}\n")
    assert [p.name for p in _walk(repo, repo)] == ["a.yaml"]  # and the `.git` file is not listed


def test_a_gitignore_that_is_not_a_regular_file_is_not_read(tmp_path):
    (tmp_path / "a.yaml").write_text("x\n")
    target = tmp_path / "patterns"
    target.write_text("*\n")
    (tmp_path / ".gitignore").symlink_to(target)
    assert sorted(p.name for p in _walk(tmp_path, tmp_path)) == ["a.yaml", "patterns"]


def test_an_oversized_gitignore_is_refused_naming_the_limit(tmp_path):
    (tmp_path / ".gitignore").write_text("x\n" * 100)
    with (
        limits.use(limits.with_overrides(limits.DEFAULTS, {"manifest-bytes": "100"})),
        pytest.raises(limits.LimitExceededError, match=r"\.gitignore: exceeds the manifest-bytes limit"),
    ):
        list(_walk(tmp_path, tmp_path))


def test_hostile_patterns_do_not_backtrack():
    # A regex translation of this pattern backtracks exponentially on a long name without a "b".
    (pattern,) = gitignore.parse("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\n")
    assert not pattern.matches(("a" * 250,), is_dir=False)
    (deep,) = gitignore.parse("/**/**/**/**/**/**/**/**/**/**/x\n")
    assert not deep.matches((*("d",) * 200, "y"), is_dir=False)
    assert deep.matches((*("d",) * 200, "x"), is_dir=False)


@pytest.mark.parametrize(
    ("line", "path", "is_dir", "verdict"),
    [
        ("foo/", ("foo",), True, True),
        ("foo/", ("foo",), False, False),
        ("/foo", ("a", "foo"), False, False),
        ("a/*/c", ("a", "b", "c"), False, True),
        ("a/*/c", ("a", "b", "x", "c"), False, False),
        ("a/**", ("a",), True, False),
        ("a/**", ("a", "b"), False, True),
        ("**/a", ("a",), False, True),
        ("[z-a]", ("q",), False, False),
        ("[", ("[",), False, True),
        ("x\\*", ("x*",), False, True),
        ("x\\*", ("xy",), False, False),
    ],
)
def test_single_patterns(line, path, is_dir, verdict):
    (pattern,) = gitignore.parse(line + "\n")
    assert pattern.matches(path, is_dir) is verdict
