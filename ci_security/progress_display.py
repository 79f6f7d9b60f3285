"""The terminal's view of `progress.ProgressSink`: layer and byte progress bars on stderr, drawn by
rich, for interactive runs only (the CLI asks for it when stderr is a terminal and `--quiet` is
not set). Task names can hold a digest or a path from the image, so they are escaped for rich's
markup (`sanitize.rich_markup`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ci_security import sanitize

if TYPE_CHECKING:
    from rich.progress import TaskID

    from ci_security.progress import ProgressSink


class RichProgress:
    """Progress bars on stderr; a `ProgressSink`, safe to call from the layer-reading threads."""

    def __init__(self) -> None:
        # rich costs ~60 ms to import; only interactive runs draw progress.
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start(self, task: str, total: int | None) -> None:
        with self._lock:
            self._tasks[task] = self._progress.add_task(sanitize.rich_markup(task), total=total)

    def advance(self, task: str, amount: int) -> None:
        task_id = self._tasks.get(task)
        if task_id is not None:
            self._progress.advance(task_id, amount)

    def finish(self, task: str) -> None:
        with self._lock:
            task_id = self._tasks.pop(task, None)
        if task_id is not None:
            self._progress.remove_task(task_id)


@contextmanager
def progress_display(enabled: bool) -> Iterator[ProgressSink | None]:
    """Progress bars while the block runs when `enabled`, else no sink at all."""
    if not enabled:
        yield None
        return
    with RichProgress() as progress:
        yield progress
