"""What the platforms share (`platforms.base`): git blob ids, and the check that a fix is proposed
only on the files it was planned on.
"""

from __future__ import annotations

import subprocess

import pytest

from ci_security.platforms.base import (
    ChangeRequest,
    DeclinedError,
    FileChange,
    check_planned_files,
    git_blob_id,
)

OLD = "FROM debian:12.4\nRUN true\n"


def _change(*paths: str) -> ChangeRequest:
    return ChangeRequest(
        branch="ci-security/debian",
        title="Update debian to 12.5",
        body="body",
        commit_message="Update debian to 12.5\n\nCi-Security-Proposal: p\n",
        proposal="p",
        files=tuple(FileChange(path=p, content=OLD.replace("12.4", "12.5"), original=OLD) for p in paths),
    )


def test_a_blob_id_is_the_one_git_computes(tmp_path):
    (tmp_path / "f").write_text(OLD, encoding="utf-8")
    done = subprocess.run(
        ["git", "hash-object", str(tmp_path / "f")], capture_output=True, text=True, check=True
    )
    assert git_blob_id(OLD) == done.stdout.strip()


def test_files_as_planned_pass():
    check_planned_files(
        _change("Dockerfile", "app/Dockerfile"), "main", lambda path: git_blob_id(OLD), "a build"
    )


def test_a_file_missing_on_the_default_branch_declines_the_change():
    blobs = {"Dockerfile": git_blob_id(OLD)}
    with pytest.raises(
        DeclinedError, match=r"^app/Dockerfile is not on main: the fix is proposed from a pipeline"
    ):
        check_planned_files(_change("Dockerfile", "app/Dockerfile"), "main", blobs.get, "a pipeline")


def test_a_file_that_moved_on_since_the_plan_declines_the_change():
    with pytest.raises(
        DeclinedError, match="differs from the checkout the fix was planned on; it is proposed from a build"
    ):
        check_planned_files(
            _change("Dockerfile"), "main", lambda path: git_blob_id(OLD + "# edited\n"), "a build"
        )
