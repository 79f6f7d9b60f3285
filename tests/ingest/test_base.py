"""Shared importer helpers: repository-relative paths, line numbers, and naming other tools' reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_security import limits
from ci_security.ingest.base import RepoPaths, ShapeError, guess_tool, line_number, one_line, read_json


def test_relative_paths_are_normalised(tmp_path):
    paths = RepoPaths.at(tmp_path)
    assert paths.relative("./k8s//web.yaml") == "k8s/web.yaml"
    assert paths.relative("k8s\\web.yaml") == "k8s/web.yaml"
    assert paths.relative(str(tmp_path / "k8s" / "web.yaml")) == "k8s/web.yaml"
    assert paths.relative(f"{tmp_path}/./k8s/../Dockerfile") == "Dockerfile"
    assert paths.relative(f"{tmp_path}x/Dockerfile") == f"{tmp_path}x/Dockerfile"  # a sibling, not under
    assert paths.relative("/other/Dockerfile") == "/other/Dockerfile"
    assert paths.relative("") == ""


def test_symlinked_root_matches_both_spellings(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    paths = RepoPaths.at(link)
    assert paths.relative(str(real / "Dockerfile")) == "Dockerfile"
    assert paths.relative(str(link / "Dockerfile")) == "Dockerfile"


def test_filesystem_root_as_base():
    assert RepoPaths.at(Path("/")).relative("/srv/app/Dockerfile") == "srv/app/Dockerfile"


def test_file_lookup_stays_under_the_root(tmp_path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    (tmp_path / "outside").write_text("x", encoding="utf-8")
    paths = RepoPaths.at(tmp_path / "repo")
    assert paths.file("Dockerfile") == tmp_path / "repo" / "Dockerfile"
    assert paths.file("../outside") is None
    assert paths.file(str(tmp_path / "outside")) is None
    assert paths.file("missing") is None
    assert paths.file("") is None


@pytest.mark.parametrize(("value", "expected"), [(None, None), (0, None), (7, 7), (7.0, 7)])
def test_line_numbers(value, expected):
    assert line_number(value, "x") == expected


@pytest.mark.parametrize("value", [True, "3", 1.5, -2, float("inf")])
def test_bad_line_numbers(value):
    with pytest.raises(ShapeError):
        line_number(value, "x")


def test_one_line():
    assert one_line("unexpected 'F'\nexpecting a new line  ") == "unexpected 'F' expecting a new line"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            [{"code": "DL3007", "column": 1, "file": "Dockerfile", "level": "warning", "line": 2}],
            "a Hadolint report",
        ),
        ({"check_type": "kubernetes", "results": {}, "summary": {}}, "a Checkov report"),
        ([{"check_type": "dockerfile", "results": {}}], "a Checkov report"),
        ({"passed": 0, "resource_count": 0, "checkov_version": "3.3.30"}, "a Checkov report"),
        ({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Trivy"}}}]}, "a SARIF log from Trivy"),
        ({"version": "2.1.0", "runs": [{"tool": {}}]}, "a SARIF log"),
        ([], None),
        ([1, 2], None),
    ],
)
def test_guess_tool(doc, expected):
    assert guess_tool(doc) == expected


def test_reports_are_read_within_the_document_limits(tmp_path):
    deep = tmp_path / "trivy.json"
    deep.write_text('{"SchemaVersion": 2, "Results": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(limits.LimitExceededError, match=r"trivy.json: exceeds the nesting-depth limit"):
        read_json(deep)
    with (
        limits.use(limits.with_overrides(limits.DEFAULTS, {"document-bytes": "1KiB"})),
        pytest.raises(
            limits.LimitExceededError, match=r"trivy.json: exceeds the document-bytes limit \(1 KiB\)"
        ),
    ):
        read_json(deep)
    utf16 = tmp_path / "ps.json"
    utf16.write_bytes('{"a": [1]}'.encode("utf-16"))
    assert read_json(utf16) == {"a": [1]}
