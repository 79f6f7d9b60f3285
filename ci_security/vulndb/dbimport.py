"""`ci-security db import`: OSV records (files, folders, `all.zip` exports) and the feed files `db
update` downloads (`feeds.importer`), added to the database in one transaction.

It sits above the store and the feed readers: the store keeps data, the feeds read their formats,
and this module decides what each file given to `db import` is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci_security import limits
from ci_security.vulndb.feeds import importer
from ci_security.vulndb.osv import OsvError, iter_documents
from ci_security.vulndb.parallel import Document, RecordReader
from ci_security.vulndb.store import DbWriter, Prepared, prepare

_RECORD_SUFFIXES = (".json", ".yaml", ".yml")


def _looks_like_record(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("id"), str) and isinstance(doc.get("modified"), str)


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What `import_paths` stored: records per base ecosystem, and files skipped in folders."""

    stored: dict[str, int]
    skipped: tuple[str, ...]


def import_paths(target: Path, paths: Iterable[Path]) -> ImportSummary:
    """`ci-security db import`: add every OSV record under `paths` to the database at `target`, and
    the feed files `db update` downloads (`feeds.importer`: NVD, CVE 5, KEV, EPSS, Red Hat's
    repository-to-CPE mapping, Amazon `updateinfo.xml`, Oracle OVAL).

    A file named on the command line must be an OSV record (or a list of them, or a zip export) or a
    feed file; inside a folder, files that are neither (an advisory repository's triage notes, say)
    are skipped and listed. All or nothing: on any error the database is left as it was.
    """
    writer = DbWriter(target)
    counts: dict[str, int] = {}
    skipped: list[str] = []

    def count(what: str, number: int) -> None:
        counts[what] = counts.get(what, 0) + number

    def store(batch: list[Prepared], source: str) -> None:
        for item in writer.add_prepared(batch, source):
            for eco in item.ecosystems:
                count(eco, 1)
        batch.clear()

    reader = RecordReader()
    try:
        for path in paths:
            origin = str(path.resolve())
            source = f"import:{origin}"
            newest: str | None = None
            batch: list[Prepared] = []
            streamed_file = path.is_file() and importer.is_streamed(path)
            streamed = [path] if streamed_file else []
            if path.is_dir():
                streamed = sorted(p for p in path.rglob("*") if p.is_file() and importer.is_streamed(p))
            feeds_seen = bool(streamed)
            for feed_file in streamed:
                done = importer.import_streamed(writer, feed_file, source, strict=streamed_file)
                if done is None:
                    skipped.append(str(feed_file))
                else:
                    count(*done)
            if path.is_file() and path.suffix == ".zip":
                # An export: read on several processes, stored in batches (see `parallel`).
                writer.bulk()
                for item in reader.read(path, str(path), _RECORD_SUFFIXES, mode="documents", error=OsvError):
                    if isinstance(item, Document):
                        kind = importer.kind_of(item.document)
                        assert kind is not None
                        count(*importer.store_document(writer, item.document, kind, item.where, source))
                        feeds_seen = True
                        continue
                    batch.append(item)
                    newest = max(newest or item.modified, item.modified)
                    if len(batch) >= 1_000:
                        store(batch, source)
            for where, doc in () if streamed_file or path.suffix == ".zip" else iter_documents(path):
                if path.is_dir() and importer.is_streamed(Path(where)):
                    continue  # read as a stream above
                kind = importer.kind_of(doc)
                if kind is not None:
                    count(*importer.store_document(writer, doc, kind, where, source))
                    feeds_seen = True
                    continue
                items = doc if isinstance(doc, list) else [doc]
                if path.is_dir() and not all(_looks_like_record(item) for item in items):
                    skipped.append(where)
                    continue
                if len(items) > limits.active().records_per_file:
                    raise limits.LimitExceededError(where, "records_per_file", f"it holds {len(items):,}")
                for index, item in enumerate(items):
                    record = prepare(item, f"{where}[{index}]" if isinstance(doc, list) else where)
                    batch.append(record)
                    newest = max(newest or record.modified, record.modified)
                    if len(batch) >= 1_000:
                        store(batch, source)
            store(batch, source)
            held = writer.source_count(source)
            if held or not feeds_seen:  # a path of feed files only has no OSV source of its own
                writer.set_source(source, origin, held, newest)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    finally:
        reader.close()
    return ImportSummary(counts, tuple(skipped))
