"""The Hadolint importer: a real Hadolint 2.15.1 report on tests/fixtures/ingest/config (see
tests/fixtures/ingest/LICENSE-NOTE.md), hand-built edge cases, and malformed input.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from ci_security.ingest.base import Importer, ReportImportError
from ci_security.ingest.hadolint import HadolintImporter
from ci_security.ingest.registry import IMPORTERS
from ci_security.models import Misconfiguration, Severity

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ingest"
REPORT = FIXTURES / "hadolint-2.15.1-config.json"
CORPUS = FIXTURES / "config"


def load(path: Path, base: Path | None = CORPUS):
    return HadolintImporter().load(path, base)


def write(tmp_path: Path, doc: object, name: str = "hadolint.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def item(**fields: object) -> dict:
    base: dict = {
        "code": "DL3007",
        "column": 1,
        "file": "Dockerfile",
        "level": "warning",
        "line": 1,
        "message": "Using latest is prone to errors",
    }
    base.update(fields)
    return base


def test_registered_as_a_manifest_importer():
    importer: Importer = HadolintImporter()
    assert importer.name == "hadolint"
    assert isinstance(IMPORTERS["hadolint"], HadolintImporter)
    assert IMPORTERS["hadolint"].produces == ("misconfigurations",)


# --- the real report (`hadolint -f json api/Dockerfile worker/Dockerfile`)


def test_real_report_ids_paths_and_lines():
    imported = load(REPORT)
    assert (imported.tool, imported.tool_version, imported.packages, imported.vulnerabilities) == (
        "hadolint",
        None,
        (),
        (),
    )
    # As Hadolint's own text output lists them (`api/Dockerfile:2 DL3007 warning: ...`).
    assert [(m.path, m.line, m.rule_id) for m in imported.misconfigurations] == [
        ("api/Dockerfile", 2, "DL3007"),
        ("api/Dockerfile", 3, "DL4000"),
        ("api/Dockerfile", 6, "DL3064"),
        ("api/Dockerfile", 8, "DL3000"),
        ("api/Dockerfile", 10, "DL3009"),
        ("api/Dockerfile", 10, "DL3008"),
        ("api/Dockerfile", 10, "DL3015"),
        ("api/Dockerfile", 11, "DL4006"),
        ("api/Dockerfile", 12, "DL3013"),
        ("api/Dockerfile", 12, "DL3042"),
        ("api/Dockerfile", 17, "DL3066"),
        ("api/Dockerfile", 17, "DL3002"),
        ("api/Dockerfile", 18, "DL3025"),
        ("worker/Dockerfile", 10, "DL1000"),
    ]
    # error → MEDIUM (DL4000, DL3000, DL1000); warning and info → LOW.
    assert Counter(m.severity for m in imported.misconfigurations) == {Severity.MEDIUM: 3, Severity.LOW: 11}
    assert all(m.peer_id == m.rule_id and m.found_by == "hadolint" for m in imported.misconfigurations)
    assert all(m.fingerprint == "" and m.inline_reason is None for m in imported.misconfigurations)


def test_real_finding_maps_every_field():
    found = load(REPORT).misconfigurations[0]
    message = (
        "Using latest is prone to errors if the image will ever update. Pin the version explicitly to a "
        "release tag"
    )
    assert found == Misconfiguration(
        rule_id="DL3007",
        title=message,
        severity=Severity.LOW,
        path="api/Dockerfile",
        line=2,
        message=message,
        references=("https://github.com/hadolint/hadolint/wiki/DL3007",),
        found_by="hadolint",
        peer_id="DL3007",
    )


def test_parse_error_of_the_heredoc_dockerfile():
    # Hadolint 2.15.1 cannot parse `RUN <<EOF ... EOF` followed directly by an instruction
    # (hadolint#960): it reports DL1000 on the next instruction and nothing else for the file.
    found = load(REPORT).misconfigurations[-1]
    assert (found.rule_id, found.path, found.line, found.severity) == (
        "DL1000",
        "worker/Dockerfile",
        10,
        Severity.MEDIUM,
    )
    assert found.title == "Dockerfile could not be parsed"
    assert found.message == "unexpected 'F' expecting a new line followed by the next instruction"
    assert found.references == ()


# --- edge cases on hand-built reports


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        ("error", Severity.MEDIUM),
        ("warning", Severity.LOW),
        ("info", Severity.LOW),
        ("style", Severity.LOW),
        ("Error", Severity.MEDIUM),
        ("fatal", Severity.UNKNOWN),
        ("", Severity.UNKNOWN),
    ],
)
def test_levels(tmp_path, level, severity):
    (found,) = load(write(tmp_path, [item(level=level)])).misconfigurations
    assert found.severity is severity


def test_shellcheck_codes_link_to_shellcheck(tmp_path):
    (found,) = load(write(tmp_path, [item(code="SC2086", level="info")])).misconfigurations
    assert found.references == ("https://www.shellcheck.net/wiki/SC2086",)


def test_paths_become_repository_relative(tmp_path):
    repo = tmp_path / "repo"
    doc = [
        item(file="./api/Dockerfile"),
        item(file=str(repo / "worker" / "Dockerfile")),
        item(file="/elsewhere/Dockerfile"),
        item(file="build\\Dockerfile"),
        item(file="a/../Dockerfile"),
    ]
    paths = [m.path for m in load(write(tmp_path, doc), repo).misconfigurations]
    assert paths == [
        "api/Dockerfile",
        "worker/Dockerfile",
        "/elsewhere/Dockerfile",
        "build/Dockerfile",
        "Dockerfile",
    ]


def test_base_defaults_to_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = write(tmp_path, [item(file=str(tmp_path / "Dockerfile"))])
    assert HadolintImporter().load(report).misconfigurations[0].path == "Dockerfile"


def test_missing_line_and_message(tmp_path):
    doc = [item(line=0, message=None), item(line=None, message="  two\n lines ")]
    first, second = load(write(tmp_path, doc)).misconfigurations
    assert (first.line, first.message, first.title) == (None, "DL3007", "DL3007")
    assert (second.line, second.message) == (None, "two lines")


def test_empty_report_has_no_findings(tmp_path):
    assert load(write(tmp_path, [])).misconfigurations == ()


# --- malformed input


def error(path: Path) -> str:
    with pytest.raises(ReportImportError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message[len(f"{path}: ") :]


ADVICE = "; only `hadolint -f json` output can be imported"


def test_missing_file_and_invalid_json(tmp_path):
    assert error(tmp_path / "nope.json") == "cannot read the report: No such file or directory"
    broken = tmp_path / "broken.json"
    broken.write_text('[{"code": "DL3007",', encoding="utf-8")
    assert error(broken).startswith("invalid JSON at line 1 column ")


@pytest.mark.parametrize(
    ("doc", "hint"),
    [
        (
            {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Hadolint"}}, "results": []}]},
            " (it looks like a SARIF log from Hadolint)",
        ),
        ({"SchemaVersion": 2, "ArtifactName": ".", "Results": []}, " (it looks like a Trivy report)"),
        ({"check_type": "dockerfile", "results": {}, "summary": {}}, " (it looks like a Checkov report)"),
        ([{"check_type": "dockerfile", "results": {}}], " (it looks like a Checkov report)"),
        ({"code": "DL3007"}, ""),
        ([{"rule": "DL3007"}], ""),
    ],
)
def test_other_documents_are_not_hadolint_reports(tmp_path, doc, hint):
    assert error(write(tmp_path, doc)) == f"not a Hadolint JSON report{hint}{ADVICE}"


def test_real_checkov_and_trivy_reports_are_named():
    with pytest.raises(ReportImportError, match=r"looks like a Checkov report\)"):
        load(FIXTURES / "checkov-3.3.30-config.json")
    with pytest.raises(ReportImportError, match=r"looks like a Trivy report\)"):
        load(FIXTURES / "trivy-0.76-config.json")


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ([item(), 3], "[1]: expected an object, found a number"),
        ([item(line="2")], "[0].line: expected a number, found a string"),
        ([item(line=2.5)], "[0].line: expected a line number, found 2.5"),
        ([item(line=-1)], "[0].line: expected a line number, found -1"),
        ([item(), item(code="")], "[1].code: missing or empty"),
        ([item(file=7)], "[0].file: expected a string, found a number"),
        ([item(message=["a"])], "[0].message: expected a string, found an array"),
        ([item(level=None), item(level=2)], "[1].level: expected a string, found a number"),
    ],
)
def test_wrong_field_types_name_the_field(tmp_path, doc, where):
    assert error(write(tmp_path, doc)) == f"not a valid Hadolint report: {where}"
