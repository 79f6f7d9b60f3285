"""Finding manifests: names and content, git-ignored and vendored trees, Helm templates, symlinks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ci_security.errors import UsageError
from ci_security.rules.discover import discover

K8S = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
COMPOSE = "services:\n  web:\n    image: nginx\n"


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


FILES = {
    "Dockerfile": "FROM debian:12\n",
    "docker/api.Dockerfile": "FROM debian:12\n",
    "docker/Containerfile": "FROM debian:12\n",
    "k8s/deploy.yaml": K8S,
    "compose.yml": COMPOSE,
    ".github/workflows/ci.yml": "on: push\njobs: {}\n",
    "node_modules/pkg/Dockerfile": "FROM x\n",
    "vendor/lib/k8s.yaml": K8S,
    "chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 1\n",
    "chart/templates/deploy.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release }}\n",
    "chart/values.yaml": "image: nginx\n",
    "build/out.yaml": K8S,
    "README.md": "apiVersion kind services",
}
EXPECTED = ["Dockerfile", "compose.yml", "docker/Containerfile", "docker/api.Dockerfile", "k8s/deploy.yaml"]


def test_a_plain_directory(tmp_path):
    _tree(tmp_path, FILES)
    found = [m.shown for m in discover([tmp_path], tmp_path)]
    assert found == sorted([*EXPECTED, "build/out.yaml"])


def test_a_git_work_tree_skips_ignored_files(tmp_path):
    _tree(tmp_path, {**FILES, ".gitignore": "build/\n"})
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    found = [m.shown for m in discover([tmp_path], tmp_path)]
    assert found == EXPECTED


def test_symlinks_are_not_followed(tmp_path):
    outside = tmp_path / "outside"
    _tree(outside, {"Dockerfile": "FROM x\n"})
    repo = tmp_path / "repo"
    _tree(repo, {"Dockerfile": "FROM debian:12\n"})
    (repo / "linked").symlink_to(outside)
    (repo / "Containerfile").symlink_to(outside / "Dockerfile")
    assert [m.shown for m in discover([repo], repo)] == ["Dockerfile"]


def test_explicit_files_are_always_checked_and_listed_once(tmp_path):
    _tree(tmp_path, FILES)
    given = [tmp_path / "build" / "out.yaml", tmp_path / "k8s", tmp_path / "k8s" / "deploy.yaml"]
    found = discover(given, tmp_path)
    assert [m.shown for m in found] == ["build/out.yaml", "k8s/deploy.yaml"]
    assert found[0].path == tmp_path / "build" / "out.yaml"


def test_paths_outside_the_repository_are_shown_as_given(tmp_path):
    _tree(tmp_path / "elsewhere", {"Dockerfile": "FROM x\n"})
    repo = tmp_path / "repo"
    repo.mkdir()
    (found,) = discover([tmp_path / "elsewhere" / "Dockerfile"], repo)
    assert found.shown == (tmp_path / "elsewhere" / "Dockerfile").as_posix()


def test_a_missing_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no-such-dir: no such file or directory"):
        discover([tmp_path / "no-such-dir"], tmp_path)


# --- repositories planted in the input: git is never run on them ---------------------------------


def _hostile_config(marker: Path) -> str:
    return (
        "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = .\n"
        f'\tfsmonitor = "touch {marker}; false"\n\thooksPath = hooks\n'
    )


def _bare_layout(directory: Path, marker: Path) -> None:
    """The four files of the report: HEAD, config, objects/, refs/ (a bare repository's layout)."""
    (directory / "objects").mkdir(parents=True)
    (directory / "refs").mkdir()
    (directory / "HEAD").write_text("ref: refs/heads/main\n")
    (directory / "config").write_text(_hostile_config(marker))


def _plant(kind: str, manifests: Path, marker: Path) -> None:
    manifests.mkdir(parents=True, exist_ok=True)
    if kind == "bare layout":
        _bare_layout(manifests, marker)
    elif kind == "gitdir file":
        elsewhere = manifests.parent / "elsewhere.git"
        _bare_layout(elsewhere, marker)
        (manifests / ".git").write_text(f"gitdir: {elsewhere}\n")
    else:  # a .git directory inside the manifests directory
        _bare_layout(manifests / ".git", marker)
        hooks = manifests / ".git" / "hooks"
        hooks.mkdir()
        for hook in ("post-checkout", "pre-commit", "post-index-change"):
            (hooks / hook).write_text(f"#!/bin/sh\ntouch {marker}\n")
            (hooks / hook).chmod(0o755)
    (manifests / "Dockerfile").write_text("FROM debian:12\n")
    (manifests / "k8s.yaml").write_text(K8S)
    (manifests / ".gitignore").write_text("ignored.yaml\n")
    (manifests / "ignored.yaml").write_text(K8S)


@pytest.mark.parametrize("kind", ["bare layout", "gitdir file", "git directory"])
def test_a_planted_repository_runs_nothing_and_discovery_still_works(tmp_path, kind):
    repo, marker = tmp_path / "repo", tmp_path / "MARKER"
    manifests = repo / "deploy"
    _plant(kind, manifests, marker)
    if shutil.which("git"):
        # The control: the plant is live (git in that directory runs its command)...
        subprocess.run(["git", "-C", str(manifests), "ls-files"], capture_output=True, check=False)
        assert marker.exists(), "the plant no longer triggers git; the test would prove nothing"
        marker.unlink()
    # ...and discovery does not run it, and still finds the manifests and honours .gitignore.
    found = [m.shown for m in discover([manifests], repo)]
    assert not marker.exists()
    assert found == ["deploy/Dockerfile", "deploy/k8s.yaml"]
