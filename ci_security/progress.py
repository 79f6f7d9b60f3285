"""The progress contract between long-running stages and whoever displays progress.

Stages report byte counts per task (a layer being read, a blob being downloaded);
`progress_display.py` renders them on stderr when it is a terminal. Implementations must be
thread-safe: layers are read in parallel.
"""

from __future__ import annotations

from typing import Protocol


class ProgressSink(Protocol):
    """Receives progress for named tasks; totals may be unknown (None)."""

    def start(self, task: str, total: int | None) -> None: ...

    def advance(self, task: str, amount: int) -> None: ...

    def finish(self, task: str) -> None: ...
