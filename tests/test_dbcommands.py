"""The `db` commands' work (`dbcommands`): sizes, the CI project URL, what `--from` excludes, and
the lines `db import` and `db info` print (the registry round trips are in tests/dbartifact/).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_security import dbcommands
from ci_security.ci import Line
from ci_security.errors import UsageError

DISTRO = Path(__file__).parent / "fixtures" / "osv" / "distro"


def _run(steps) -> tuple[list[Line], int]:
    lines: list[Line] = []
    while True:
        try:
            lines.append(next(steps))
        except StopIteration as done:
            return lines, done.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [("4096", 4096), ("64MiB", 64 << 20), ("512k", 512 << 10), (" 2 GiB ", 2 << 30), ("1m", 1 << 20)],
)
def test_sizes_are_read_in_binary_units(text, expected):
    assert dbcommands.parse_size(text, "--chunk-size") == expected


@pytest.mark.parametrize("text", ["0", "-5", "64MB", "lots", ""])
def test_a_size_that_is_not_one_names_the_flag(text):
    with pytest.raises(UsageError, match="--chunk-size"):
        dbcommands.parse_size(text, "--chunk-size")


def test_the_ci_source_is_the_project_url(monkeypatch):
    for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "CI_PROJECT_URL"):
        monkeypatch.delenv(name, raising=False)
    assert dbcommands.ci_source() is None
    monkeypatch.setenv("CI_PROJECT_URL", "https://gitlab.example/group/db")
    assert dbcommands.ci_source() == "https://gitlab.example/group/db"
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com/")
    monkeypatch.setenv("GITHUB_REPOSITORY", "org/db")
    assert dbcommands.ci_source() == "https://github.com/org/db"


def test_from_excludes_every_option_that_chooses_downloads():
    dbcommands.check_update_from((), None, False)
    with pytest.raises(UsageError, match="--ecosystem, --mirror, --full cannot apply"):
        dbcommands.check_update_from(("Debian",), "http://127.0.0.1:1", True)


def test_import_and_info_print_results_on_stdout_and_skips_as_messages(tmp_path):
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "DSA-5600-1.json").write_bytes((DISTRO / "DSA-5600-1.json").read_bytes())
    (folder / "notes.json").write_text('{"not": "a record"}', encoding="utf-8")
    db = tmp_path / "db.sqlite"
    lines, code = _run(dbcommands.import_(db, (folder,)))
    assert code == 0
    printed = [line.text for line in lines if line.kind == "report"]
    assert printed == ["Debian: 1 record(s)\n", f"database: {db}\n"]
    assert [line.text for line in lines if line.kind == "message"] == [
        f"skipped (not an OSV record): {folder / 'notes.json'}"
    ]
    lines, code = _run(dbcommands.info(db))
    assert code == 0 and all(line.kind == "report" and line.text.endswith("\n") for line in lines)
    assert any(line.text.startswith("records:   1 (0 withdrawn") for line in lines)
