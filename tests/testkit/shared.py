"""Third-party data the tests read from `../shared`, never from the repository.

Advisory records (pypa, Go, RustSec), real package databases, other scanners' golden reports and
published schemas belong to the projects that published them; this repository commits only what it
wrote or generated itself. Every development machine and CI has a `shared/` directory beside the
checkout holding that data (`data/`, `schemas/`). This module finds it and hands out paths inside it.

- Where: `$CI_SECURITY_SHARED_DIR` when set, else `shared/` beside the checkout. A linked git worktree
  (`git worktree add`) has a `.git` *file*; `shared/` beside its main checkout counts too, so a
  worktree next to other worktrees finds the same data.
- Missing: the test is skipped with the reason `needs ../shared (third-party data)`, so a fresh clone
  without it still passes. With `CI_SECURITY_REQUIRE_SHARED=1` (set by `.ci/run`) a missing file is a
  failure instead: CI never skips these tests silently.

The skip reason is the same for every test, so pytest's `-ra` summary counts them on one line.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parents[2]
SKIP_REASON = "needs ../shared (third-party data)"

# Subsets chosen by file name where a test counts what it imports: the same records the repository
# used to carry, picked out of the larger shared trees.
GO_RECORDS = ("GO-2020-0015", "GO-2021-0067", "GO-2021-0113", "GO-2022-1059")
CRATES_RECORDS = ("RUSTSEC-2016-0001", "RUSTSEC-2016-0002", "RUSTSEC-2016-0003")
_OSV_TREES = {
    "pypi": ("data", "osv", "pypi", "vulns"),
    "go": ("data", "osv", "go", "data", "osv"),
    "crates.io": ("data", "osv", "crates.io", "crates"),
}
_OSV_SELECTIONS = {"go": GO_RECORDS, "crates.io": CRATES_RECORDS}


def main_checkout(repo: Path) -> Path | None:
    """The main checkout of a linked worktree (whose `.git` is a file naming its git directory)."""
    dot_git = repo / ".git"
    if not dot_git.is_file():
        return None
    text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
    if not text.startswith("gitdir:"):
        return None
    gitdir = (repo / text.removeprefix("gitdir:").strip()).resolve()
    commondir = gitdir / "commondir"
    if not commondir.is_file():
        return None
    common = (gitdir / commondir.read_text(encoding="utf-8").strip()).resolve()
    return common.parent if common.name == ".git" else None


def candidates(repo: Path = REPO) -> list[Path]:
    """Where `shared/` is looked for, in order."""
    configured = os.environ.get("CI_SECURITY_SHARED_DIR")
    if configured:
        return [Path(configured)]
    found = [repo.parent / "shared"]
    main = main_checkout(repo)
    if main is not None and main != repo:
        found.append(main.parent / "shared")
    return found


def shared_dir() -> Path | None:
    """The shared directory, or None when there is none."""
    return next((path for path in candidates() if path.is_dir()), None)


def required() -> bool:
    """Whether a missing file fails the test (CI) rather than skipping it."""
    return os.environ.get("CI_SECURITY_REQUIRE_SHARED", "") not in ("", "0")


def missing(what: str) -> NoReturn:
    """Skip the running test (fail it under CI_SECURITY_REQUIRE_SHARED=1): `what` is not there."""
    if required():
        places = ", ".join(str(p) for p in candidates())
        pytest.fail(f"{SKIP_REASON}: {what} not found (looked in {places})", pytrace=False)
    pytest.skip(SKIP_REASON)


def shared_path(*parts: str) -> Path:
    """`shared/<parts>`, which must exist; otherwise the test skips (or fails under CI)."""
    base = shared_dir()
    if base is not None:
        path = base.joinpath(*parts)
        if path.exists():
            return path
    missing("/".join(parts))


def osv_pypi(*parts: str) -> Path:
    """pypa's advisories (`vulns/<package>/PYSEC-*.yaml`, every record at 3ccb612); `parts` go below."""
    return shared_path(*_OSV_TREES["pypi"], *parts)


def osv_records(ecosystem: str) -> tuple[Path, ...]:
    """The named selection of `ecosystem`'s records (`GO_RECORDS`, `CRATES_RECORDS`), sorted."""
    return tuple(shared_path(*_OSV_TREES[ecosystem], f"{name}.json") for name in _OSV_SELECTIONS[ecosystem])


def osv_folder(ecosystem: str, parent: Path) -> Path:
    """A folder `parent/<ecosystem>` holding exactly the named selection, for tests that import a
    whole folder and count what it held."""
    records = osv_records(ecosystem)
    folder = parent / ecosystem
    folder.mkdir(parents=True, exist_ok=True)
    for record in records:
        shutil.copyfile(record, folder / record.name)
    return folder
