"""The reporter contract: `render` turns a scan result into text, with no file or network I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from ci_security.models import ScanResult


@dataclass(frozen=True, slots=True)
class RenderContext:
    """How the text will be shown: colour only for terminals, width for tables."""

    color: bool = False
    width: int = 120


class Reporter(Protocol):
    """One output format (`--output NAME[=FILE]`)."""

    name: ClassVar[str]

    def render(self, result: ScanResult, context: RenderContext) -> str:
        """The complete text of the report."""
        ...
