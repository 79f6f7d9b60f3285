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
from ci_security.vulndb.osv import iter_documents, parse_record
from ci_security.vulndb.store import DbWriter


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

    try:
        for path in paths:
            origin = str(path.resolve())
            source = f"import:{origin}"
            newest: str | None = None
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
            for where, doc in () if streamed_file else iter_documents(path):
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
                    named = f"{where}[{index}]" if isinstance(doc, list) else where
                    advisory = parse_record(item, named)
                    if writer.add(advisory, item, source, where=named):
                        for eco in {a.ecosystem.split(":", 1)[0] for a in advisory.affected}:
                            count(eco, 1)
                    newest = max(newest or advisory.modified, advisory.modified)
            held = writer.source_count(source)
            if held or not feeds_seen:  # a path of feed files only has no OSV source of its own
                writer.set_source(source, origin, held, newest)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    return ImportSummary(counts, tuple(skipped))
