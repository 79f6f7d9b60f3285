"""The repository commits no copy of another project's data: every fixture folder carries a licence
note saying the ci-security project wrote or generated what is in it, no fixture carries another
project's licence, and no tracked file anywhere in the repository is a byte-for-byte copy of a file of
`../shared`. Whatever lives in `../shared` (third-party data, the shared ground truth, the shared
benchmark-image script) is read from there at run time, never kept in both places.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

from testkit.shared import shared_path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
NOTE = "LICENSE-NOTE.md"

# The sentence every note opens with, naming this project as the author of the whole folder.
OWN = re.compile(
    r"^(Written|Generated|Written or generated) by the ci-security project for its tests; "
    r"nothing here is copied from another project\.".replace(" ", r"\s+"),
    re.MULTILINE,
)
# What a note about someone else's data says: a copyright line, a licence grant or a licence id.
FOREIGN = re.compile(
    r"©|\(c\)|\bcopyright\b|licensed under|permission is hereby granted|"
    r"\b(Apache-2\.0|MIT|BSD-[0-9]-Clause|CC-BY-[0-9.]+|CC0-[0-9.]+|[AL]?GPL-[0-9.]+\S*|MPL-2\.0|ISC)\b",
    re.IGNORECASE,
)
LICENCE_FILE = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE)", re.IGNORECASE)


def tracked(folder: str = "") -> list[str]:
    """Paths under REPO/folder that git tracks, relative to it (every file when this is not a git
    checkout, bar git's own directory and the local caches)."""
    where = REPO / folder if folder else REPO
    proc = subprocess.run(
        ["git", "ls-files", "-z", "--", folder or "."], cwd=REPO, capture_output=True, check=False
    )
    if proc.returncode == 0 and proc.stdout:
        names = [n for n in proc.stdout.decode().split("\0") if n]
        return sorted(str(Path(n).relative_to(folder)) if folder else n for n in names)
    skip = {".git", ".cache", ".peers", ".venv"}
    return sorted(
        str(p.relative_to(where))
        for p in where.rglob("*")
        if p.is_file() and not skip.intersection(p.relative_to(REPO).parts)
    )


def tracked_fixtures() -> list[str]:
    """Paths under tests/fixtures/ that git tracks, relative to it."""
    return tracked("tests/fixtures")


def test_every_fixture_folder_has_a_note_naming_only_this_project():
    files = tracked_fixtures()
    folders = sorted({name.split("/", 1)[0] for name in files if "/" in name})
    assert folders, "no fixtures found"
    assert [name for name in files if "/" not in name] == []  # every fixture lives in a noted folder
    for folder in folders:
        assert f"{folder}/{NOTE}" in files, f"tests/fixtures/{folder} has no {NOTE}"
        text = (FIXTURES / folder / NOTE).read_text(encoding="utf-8")
        assert OWN.search(text), f"tests/fixtures/{folder}/{NOTE} does not say this project wrote it"
        foreign = sorted({m.group(0) for m in FOREIGN.finditer(text)})
        assert foreign == [], f"tests/fixtures/{folder}/{NOTE} names another project's licence: {foreign}"


def test_no_fixture_carries_another_projects_licence():
    licences = [
        name for name in tracked_fixtures() if LICENCE_FILE.match(Path(name).name) and Path(name).name != NOTE
    ]
    assert licences == []


def test_no_tracked_file_is_a_file_of_shared():
    base = shared_path("data").parent
    by_size: dict[int, list[Path]] = {}
    for path in sorted(base.rglob("*")):
        if path.is_file() and not path.is_symlink():
            by_size.setdefault(path.stat().st_size, []).append(path)
    assert sum(len(paths) for paths in by_size.values()) > 1000  # the advisory trees alone hold thousands
    same = {}
    for name in tracked():
        path = REPO / name
        if path.is_symlink() or not path.is_file():
            continue
        candidates = by_size.get(path.stat().st_size, [])  # hash only files of a size found in shared
        mine = hashlib.sha256(path.read_bytes()).digest() if candidates else b""
        for candidate in candidates:
            if hashlib.sha256(candidate.read_bytes()).digest() == mine:
                same[name] = str(candidate.relative_to(base))
                break
    assert same == {}, f"read these from ../shared at run time instead of committing them: {same}"
