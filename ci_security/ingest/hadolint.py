"""Hadolint JSON reports (`hadolint -f json Dockerfile ...`) into misconfigurations.

The report is a JSON array with one object per finding: `{code, column, file, level, line,
message}`. Only this format is imported: Hadolint's SARIF, Checkstyle, CodeClimate and other formats
are refused with a message saying to use `-f json`. An empty array (no findings) is a valid report.

Mapping decisions:
- `rule_id` and `peer_id` are Hadolint's `code` (`DL3007`, `SC2086`, and `DL1000` when Hadolint
  could not parse the file, in which case it reports nothing else for it). `found_by` is "hadolint".
- `severity` from `level`: `error` → MEDIUM, `warning` → LOW, `info` and `style` → LOW (Hadolint's
  levels rate style, not risk; our rule catalog replaces them for mapped ids). An unknown level is
  UNKNOWN.
- `path` is `file` made repository-relative (`RepoPaths`); `line` is `line` (Hadolint gives the
  instruction's first line; 0 or absent becomes None). The column is always 1 and is dropped.
- `message` is Hadolint's message on one line (a parse error's message spans lines). Hadolint has no
  separate title, so `title` is the message too, except for `DL1000`: "Dockerfile could not be
  parsed". `references` is the rule's wiki page: Hadolint's for `DL` codes (`DL1000` has none),
  ShellCheck's for `SC` codes. There is no resource or remediation.
- Findings Hadolint suppressed itself (`# hadolint ignore=`) are not in its output.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from ci_security.ingest.base import (
    FindingKind,
    Imported,
    JSONObject,
    RepoPaths,
    ReportImportError,
    ShapeError,
    field_line,
    field_str,
    is_hadolint_item,
    not_this_tool,
    obj,
    one_line,
    read_json,
    required_str,
)
from ci_security.models import Misconfiguration, Severity

_SEVERITY = {
    "error": Severity.MEDIUM,
    "warning": Severity.LOW,
    "info": Severity.LOW,
    "style": Severity.LOW,
}
_ADVICE = "only `hadolint -f json` output can be imported"
_PARSE_ERROR = "DL1000"


class HadolintImporter:
    """Imports `hadolint -f json` reports."""

    name: ClassVar[str] = "hadolint"
    report: ClassVar[str] = "a Hadolint JSON report (`hadolint -f json`)"
    produces: ClassVar[tuple[FindingKind, ...]] = ("misconfigurations",)

    def load(self, path: Path, base: Path | None = None) -> Imported:
        doc = read_json(path)
        if not isinstance(doc, list) or (doc and not is_hadolint_item(doc[0])):
            raise not_this_tool(path, "Hadolint", doc, _ADVICE)
        paths = RepoPaths.at(base)
        try:
            found = tuple(_finding(obj(item, f"[{i}]"), f"[{i}]", paths) for i, item in enumerate(doc))
        except ShapeError as exc:
            raise ReportImportError(f"{path}: not a valid Hadolint report: {exc}") from None
        return Imported(
            tool="hadolint",
            tool_version=None,  # the JSON format does not carry it
            target=None,
            os=None,
            packages=(),
            vulnerabilities=(),
            misconfigurations=found,
        )


def _finding(raw: JSONObject, where: str, paths: RepoPaths) -> Misconfiguration:
    code = required_str(raw, "code", where)
    message = one_line(field_str(raw, "message", where)) or code
    return Misconfiguration(
        rule_id=code,
        title="Dockerfile could not be parsed" if code == _PARSE_ERROR else message,
        severity=_SEVERITY.get(field_str(raw, "level", where).lower(), Severity.UNKNOWN),
        path=paths.relative(required_str(raw, "file", where)),
        line=field_line(raw, "line", where),
        message=message,
        references=_references(code),
        found_by="hadolint",
        peer_id=code,
    )


def _references(code: str) -> tuple[str, ...]:
    if code.startswith("DL") and code != _PARSE_ERROR:
        return (f"https://github.com/hadolint/hadolint/wiki/{code}",)
    if code.startswith("SC"):
        return (f"https://www.shellcheck.net/wiki/{code}",)
    return ()
