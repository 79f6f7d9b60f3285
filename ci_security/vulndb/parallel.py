"""Reading the records of an OSV export on several processes, for `db update` and `db import`.

A cold update of the default ecosystems is about 300,000 records, and most of the time per record is
pure Python: decoding the JSON, parsing the record, rating it and compressing it (`store.prepare`).
Only the database writes need the one connection. So:

- this process plans the archive once (`osvzip.plan_entries`: every check that needs no inflating,
  and the archive's inflated total, since each entry is read to exactly its declared size) and cuts
  the entries into batches of at most `BATCH_ENTRIES` entries and `BATCH_BYTES` inflated bytes;
- worker processes read, decode and prepare the batches (`_read_batch`), each under the command's
  limits, which travel with every batch;
- the prepared records come back in the archive's order and are stored here as they arrive; at most
  `WINDOW` batches per worker are in flight, so memory is bounded by the batches, not by the archive.

An archive of fewer than `PARALLEL_MIN_ENTRIES` entries, or a machine with one CPU, is read in this
process by the same code: starting the workers costs more than they would save there. Workers are
spawned, never forked (the parent may have HTTP threads, and forking a threaded process is unsafe);
a spawned worker imports the program's main module again, which every entry point of ci-security
allows (`if __name__ == "__main__"`). Workers that cannot start at all leave the work to this
process; one that dies midway (killed for memory) fails the update. An error in a worker (a corrupt
entry, a limit, a record that is not OSV) is raised here as it was raised there, with the same
message.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ci_security import limits
from ci_security.errors import CiSecurityError
from ci_security.structured import load_json
from ci_security.vulndb.osvzip import PlannedEntry, plan_entries, read_planned
from ci_security.vulndb.store import Prepared, compressed_record, prepare

PARALLEL_MIN_ENTRIES = 4_000
BATCH_ENTRIES = 1_000
BATCH_BYTES = 16 * limits.MiB
WINDOW = 3  # batches in flight per worker: one being read, one waiting, one coming back
MAX_WORKERS = 4  # the database writes are serial: past a few readers they are the bottleneck

# "records": every entry is one OSV record in JSON (`db update`'s exports). "documents": an entry may
# be JSON or YAML, a list of records, or a feed document (`db import`), which comes back as a
# `Document` for the caller to store.
Mode = Literal["records", "documents"]


@dataclass(frozen=True, slots=True)
class Document:
    """An entry that is not an OSV record (a feed document `db import` recognises), decoded."""

    where: str
    document: Any


@dataclass(frozen=True, slots=True)
class _Task:
    path: Path
    label: str
    entries: tuple[PlannedEntry, ...]
    mode: Mode
    error: Callable[[str], CiSecurityError]
    bounds: limits.Limits


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def _read_batch(task: _Task) -> list[Prepared | Document]:
    from ci_security.vulndb.feeds.importer import kind_of
    from ci_security.vulndb.osv import decode

    out: list[Prepared | Document] = []
    bound = task.bounds.record_bytes
    for where, data, deflated in read_planned(task.path, task.entries, task.label, error=task.error):
        if task.mode == "records":
            doc = load_json(data, where, max_bytes=bound, size_limit="record_bytes", error=task.error)
        else:
            doc = decode(data, where, where)
            if kind_of(doc) is not None:
                out.append(Document(where, doc))
                continue
            if isinstance(doc, list):
                if len(doc) > task.bounds.records_per_file:
                    raise limits.LimitExceededError(where, "records_per_file", f"it holds {len(doc):,}")
                out.extend(prepare(item, f"{where}[{index}]") for index, item in enumerate(doc))
                continue
        # One record, whose JSON text the export holds compressed already: stored without a second
        # deflate (a YAML file's text is not JSON, and a stored entry has no stream to reuse).
        reuse = deflated is not None and where.endswith(".json")
        out.append(prepare(doc, where, compressed_record(data, deflated) if reuse else None))
    return out


def _work(task: _Task) -> list[Prepared | Document]:
    """A worker's job: one batch, under the limits the command runs with."""
    with limits.use(task.bounds):
        return _read_batch(task)


def _batches(entries: list[PlannedEntry]) -> Iterator[tuple[PlannedEntry, ...]]:
    batch: list[PlannedEntry] = []
    size = 0
    for entry in entries:
        if batch and (len(batch) >= BATCH_ENTRIES or size + entry.file_size > BATCH_BYTES):
            yield tuple(batch)
            batch, size = [], 0
        batch.append(entry)
        size += entry.file_size
    if batch:
        yield tuple(batch)


class RecordReader:
    """Reads exports for one `db update` or `db import`; the worker processes, started on the first
    archive large enough to need them, serve every later archive of the same command.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, min(MAX_WORKERS, workers if workers is not None else available_cpus()))
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> RecordReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def read(
        self,
        path: Path,
        label: str,
        suffixes: tuple[str, ...],
        *,
        mode: Mode,
        error: Callable[[str], CiSecurityError],
    ) -> Iterator[Prepared | Document]:
        """Every record (and, in "documents" mode, feed document) of the archive at `path`, in the
        archive's order; `label` names it in messages, `error` builds the stage's exception.
        """
        entries = plan_entries(path, label, suffixes, error=error)
        bounds = limits.active()
        tasks = (_Task(path, label, batch, mode, error, bounds) for batch in _batches(entries))
        if self.workers < 2 or len(entries) < PARALLEL_MIN_ENTRIES:
            for task in tasks:
                yield from _read_batch(task)
            return
        pool = self._executor()
        window: deque[Future[list[Prepared | Document]]] = deque()
        given = False
        try:
            for task in tasks:
                window.append(pool.submit(_work, task))
                if len(window) >= WINDOW * self.workers:
                    batch = window.popleft().result()
                    given = True
                    yield from batch
            while window:
                batch = window.popleft().result()
                given = True
                yield from batch
        except BrokenProcessPool:
            self.close()
            if given:
                raise error(
                    f"{label}: a process reading the records ended unexpectedly (out of memory?)"
                ) from None
            # The workers could not start at all (an embedding program whose main module cannot be
            # imported again, no semaphores in a sandbox): the same work, in this process.
            self.workers = 1
            yield from self.read(path, label, suffixes, mode=mode, error=error)
        finally:
            for future in window:
                future.cancel()
