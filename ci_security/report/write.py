"""Turning rendered reports into files and standard-output text: `--output FORMAT[=FILE]`, every
report rendered before any is written (a rendering error writes nothing), each file replaced
atomically (readers never see half a report, a failure leaves no partial file), and appends to the
files a CI system reads after the step. Printing is the CLI's: this returns the text for it.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ci_security.errors import ReportError, UsageError
from ci_security.models import Decision, ScanResult
from ci_security.models.fix import FixPlan
from ci_security.report.base import RenderContext
from ci_security.report.registry import REPORTERS


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """One `--output FORMAT[=FILE]`; no file means standard output."""

    format: str
    path: Path | None


def parse_output(value: str) -> OutputSpec:
    """`FORMAT[=FILE]`, FORMAT one of the registered reporters."""
    name, sep, path = value.partition("=")
    name = name.strip().lower()
    if name not in REPORTERS:
        raise UsageError(
            f"unknown output format {name!r} in --output {value!r} (choose from {', '.join(REPORTERS)})"
        )
    if sep and not path:
        raise UsageError(f"--output {value!r}: nothing after '='")
    return OutputSpec(name, Path(path) if sep else None)


@dataclass(frozen=True, slots=True)
class Written:
    """What `write_reports` did: the texts for standard output, in order; the text written to each
    file; and a note for each report that had nothing to say (and so was not written).
    """

    printed: tuple[str, ...]
    files: dict[Path, str]
    notes: tuple[str, ...]


def write_reports(
    specs: list[OutputSpec],
    result: ScanResult,
    decision: Decision,
    *,
    docs_url: str = "",
    terminal_width: int | None = None,
    log_rows: int | None = None,
    fix_plan: FixPlan | None = None,
) -> Written:
    """Render every report, then write each one that goes to a file. `terminal_width` is standard
    output's width when it is a terminal (reports printed there are coloured), None otherwise;
    `log_rows` caps the rows of the table printed on standard output (a CI job log).
    """
    rendered = []
    for spec in specs:
        to_terminal = spec.path is None and terminal_width is not None
        context = RenderContext(
            color=to_terminal,
            # A CI log does not wrap: wide enough for one line per finding with every column.
            width=terminal_width if to_terminal and terminal_width else 180,
            max_rows=log_rows if spec.path is None and spec.format == "table" else None,
            docs_url=docs_url,
            fix_plan=fix_plan,
        )
        rendered.append((spec, REPORTERS[spec.format].render(result, decision, context)))
    notes = []
    for spec, text in rendered:
        if not text:
            where = str(spec.path) if spec.path else "standard output"
            notes.append(f"{spec.format}: nothing to report, {where} not written")
        elif spec.path is not None:
            write_atomically(spec.path, text)
    return Written(
        printed=tuple(text for spec, text in rendered if spec.path is None and text),
        files={spec.path: text for spec, text in rendered if spec.path is not None and text},
        notes=tuple(notes),
    )


def write_atomically(path: Path, text: str) -> None:
    """Write a report so that readers never see half of it: temp file in the same directory, then
    rename; on any failure the temp file is removed and the old report (if any) stays.
    """
    directory = path.parent if str(path.parent) else Path()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def append_text(path: Path, text: str) -> None:
    """Append to a file the CI system reads after the step ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY),
    ending it with a newline.
    """
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
