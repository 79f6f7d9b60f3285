"""Reading exports on worker processes (`vulndb.parallel`) and storing them in bulk: the same database
as reading them in this process, errors raised here as the worker raised them, the compressed
record kept as the export holds it, and the newest record of an id winning across ecosystems."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from ci_security import limits
from ci_security.vulndb import parallel
from ci_security.vulndb.dbimport import import_paths
from ci_security.vulndb.osv import OsvError, parse_record
from ci_security.vulndb.store import PAGE_SIZE, DbWriter, VulnDB, VulnDbError


def _record(n: int, *, ecosystem: str = "npm", modified: str = "2024-01-01T00:00:00Z") -> dict:
    return {
        "id": f"MAL-2024-{n}",
        "modified": modified,
        "summary": f"Malicious code in pkg-{n % 50} (npm)",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": f"pkg-{n % 50}"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": f"1.{n}.0"}]}],
                "database_specific": {"source": f"https://example.org/{n}"},
            }
        ],
    }


def _export(path: Path, docs: list[dict], *, indent: int | None = 2) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for doc in docs:
            out.writestr(f"{doc['id']}.json", json.dumps(doc, indent=indent))
    return path


def _dump(db_path: Path) -> tuple[list[tuple], list[tuple]]:
    with sqlite3.connect(db_path) as conn:
        advisories = conn.execute(
            "SELECT id, source, modified, withdrawn FROM advisory ORDER BY id"
        ).fetchall()
        affected = conn.execute("SELECT * FROM affected ORDER BY advisory_id, rowid").fetchall()
    return advisories, affected


@pytest.fixture
def small_batches(monkeypatch):
    """Make a few hundred records enough for the worker processes, in small batches."""
    monkeypatch.setattr(parallel, "PARALLEL_MIN_ENTRIES", 10)
    monkeypatch.setattr(parallel, "BATCH_ENTRIES", 25)


def test_workers_build_the_same_database_as_one_process(tmp_path, small_batches, monkeypatch):
    archive = _export(tmp_path / "all.zip", [_record(n) for n in range(300)])
    monkeypatch.setattr(parallel, "available_cpus", lambda: 1)
    one = import_paths(tmp_path / "one.sqlite", [archive])
    monkeypatch.setattr(parallel, "available_cpus", lambda: 2)
    several = import_paths(tmp_path / "several.sqlite", [archive])
    assert one.stored == several.stored == {"npm": 300}
    assert _dump(tmp_path / "one.sqlite") == _dump(tmp_path / "several.sqlite")
    with VulnDB(tmp_path / "several.sqlite") as db:
        assert [c.advisory_id for c in db.candidates("npm", "pkg-7")][:2] == ["MAL-2024-107", "MAL-2024-157"]
        # The record is kept as the export holds it (its deflate stream, not compressed again).
        assert db.record("MAL-2024-42") == _record(42)
    with sqlite3.connect(tmp_path / "several.sqlite") as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"affected_lookup", "affected_by_advisory"} <= indexes


def test_an_error_in_a_worker_is_raised_here_with_its_message(tmp_path, small_batches, monkeypatch):
    monkeypatch.setattr(parallel, "available_cpus", lambda: 2)
    docs = [_record(n) for n in range(200)]
    docs[150] = {"id": "MAL-2024-150", "affected": []}  # no `modified`: not an OSV record
    target = tmp_path / "db.sqlite"
    with pytest.raises(OsvError, match=r"all\.zip!MAL-2024-150\.json: not an OSV record"):
        import_paths(target, [_export(tmp_path / "all.zip", docs)])
    assert not target.exists()
    assert list(tmp_path.glob(".db.sqlite.*")) == []

    big = [_record(n) for n in range(100)] + [{**_record(100), "details": "x" * 5000}]
    with (
        limits.use(limits.with_overrides(limits.DEFAULTS, {"record_bytes": 4096})),
        pytest.raises(
            limits.LimitExceededError, match=r"MAL-2024-100\.json: exceeds the record-bytes limit"
        ) as err,
    ):
        import_paths(target, [_export(tmp_path / "big.zip", big)])
    assert err.value.limit == "record_bytes"


class _FailingPool:
    """A process pool whose workers do `good` batches (inline), then die."""

    def __init__(self, good: int) -> None:
        self.good = good

    def submit(self, fn, *args):
        from concurrent.futures import Future

        future: Future = Future()
        if self.good > 0:
            self.good -= 1
            future.set_result(fn(*args))
        else:
            future.set_exception(parallel.BrokenProcessPool("a worker died"))
        return future

    def shutdown(self, **kwargs) -> None:
        return


def test_workers_that_cannot_start_leave_the_work_to_this_process(tmp_path, small_batches, monkeypatch):
    monkeypatch.setattr(parallel, "available_cpus", lambda: 2)
    archive = _export(tmp_path / "all.zip", [_record(n) for n in range(100)])
    reader = parallel.RecordReader()
    monkeypatch.setattr(reader, "_executor", lambda: _FailingPool(0))
    records = list(reader.read(archive, "all.zip", (".json",), mode="records", error=VulnDbError))
    assert [r.id for r in records] == [f"MAL-2024-{n}" for n in range(100)]
    assert reader.workers == 1


def test_a_worker_that_dies_midway_fails_the_read(tmp_path, small_batches, monkeypatch):
    monkeypatch.setattr(parallel, "available_cpus", lambda: 2)
    archive = _export(tmp_path / "all.zip", [_record(n) for n in range(200)])
    reader = parallel.RecordReader()
    monkeypatch.setattr(reader, "_executor", lambda: _FailingPool(2))
    with pytest.raises(VulnDbError, match="a process reading the records ended unexpectedly"):
        list(reader.read(archive, "all.zip", (".json",), mode="records", error=VulnDbError))


def test_newest_record_of_an_id_wins_in_a_bulk_load(tmp_path):
    """The same id in two exports (a GHSA for npm and Maven): whichever is newer stays, with only its
    own affected rows, and the index by advisory comes back for the replacement."""
    target = tmp_path / "db.sqlite"
    writer = DbWriter(target)
    writer.bulk()
    first = parallel._read_batch(
        parallel._Task(
            _export(tmp_path / "a.zip", [_record(1)]),
            "a",
            tuple(parallel.plan_entries(tmp_path / "a.zip", "a", (".json",))),
            "records",
            VulnDbError,
            limits.active(),
        )
    )
    newer = _record(1, ecosystem="Maven", modified="2025-01-01T00:00:00Z")
    older = _record(1, ecosystem="PyPI", modified="2023-01-01T00:00:00Z")
    second = parallel._read_batch(
        parallel._Task(
            _export(tmp_path / "b.zip", [newer]),
            "b",
            tuple(parallel.plan_entries(tmp_path / "b.zip", "b", (".json",))),
            "records",
            VulnDbError,
            limits.active(),
        )
    )
    assert [p.id for p in writer.add_prepared(first, "npm")] == ["MAL-2024-1"]
    assert [p.id for p in writer.add_prepared(second + first, "Maven")] == ["MAL-2024-1"]  # first is older
    assert writer.add(parse_record(older, "older"), older, "PyPI") is False
    writer.commit()
    advisories, affected = _dump(target)
    assert advisories == [("MAL-2024-1", "Maven", "2025-01-01T00:00:00Z", None)]
    assert [row[1] for row in affected] == ["Maven"]
