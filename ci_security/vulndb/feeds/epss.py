"""FIRST's EPSS scores (`epss_scores-current.csv.gz`, one row per scored CVE, ~270,000 rows).

The file may open with a comment `#model_version:v2025.03.14,score_date:2025-09-29T00:00:00+0000`
(absent from files before 2022), then the header `cve,epss,percentile` (files from before
September 2021 have no percentile column), then one row per CVE. The rows are streamed; a line longer
than 4 KiB, a header that is not EPSS's, a score or percentile outside 0..1 is an error naming the
line: the scores are replaced whole, so a half-read file must not replace a good one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ci_security.errors import CiSecurityError

_MAX_LINE = 4096
_CVE = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")


@dataclass
class EpssHeader:
    model: str | None = None
    score_date: str | None = None
    columns: list[str] = field(default_factory=list)


def lines(pieces: Iterator[bytes], where: str, error: Callable[[str], CiSecurityError]) -> Iterator[str]:
    pending = b""
    for piece in pieces:
        pending += piece
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            yield _line(raw, where, error)
        if len(pending) > _MAX_LINE:
            raise error(f"{where}: a line longer than {_MAX_LINE} bytes (not EPSS scores)")
    if pending:
        yield _line(pending, where, error)


def _line(raw: bytes, where: str, error: Callable[[str], CiSecurityError]) -> str:
    if len(raw) > _MAX_LINE:
        raise error(f"{where}: a line longer than {_MAX_LINE} bytes (not EPSS scores)")
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise error(f"{where}: a line that is not UTF-8 (not EPSS scores)") from None


def _fraction(text: str, where: str, number: int, error: Callable[[str], CiSecurityError]) -> float:
    try:
        value = float(text)
    except ValueError:
        raise error(f"{where}:{number}: {text[:40]!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise error(f"{where}:{number}: {text[:40]!r} is not between 0 and 1")
    return value


def rows(
    text_lines: Iterator[str], where: str, error: Callable[[str], CiSecurityError], header: EpssHeader
) -> Iterator[tuple[str, float, float | None]]:
    """(cve, score, percentile) per row; `header` is filled in from the comment and header lines."""
    for number, line in enumerate(text_lines, 1):
        if not line:
            continue
        if line.startswith("#"):
            for part in line[1:].split(","):
                key, _, value = part.partition(":")
                if key.strip() == "model_version":
                    header.model = value.strip()[:40]
                elif key.strip() == "score_date":
                    header.score_date = value.strip()[:10]
            continue
        cells = [c.strip() for c in line.split(",")]
        if not header.columns:
            if cells[:2] != ["cve", "epss"]:
                raise error(f"{where}:{number}: not an EPSS header (expected cve,epss[,percentile])")
            header.columns = cells
            continue
        if len(cells) != len(header.columns) or not _CVE.match(cells[0]):
            raise error(f"{where}:{number}: not an EPSS row")
        percentile = (
            _fraction(cells[2], where, number, error)
            if len(cells) > 2 and header.columns[2] == "percentile"
            else None
        )
        yield cells[0], _fraction(cells[1], where, number, error), percentile
    if not header.columns:
        raise error(f"{where}: no EPSS header (cve,epss[,percentile])")
