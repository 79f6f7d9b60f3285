"""`ci-security db update`: keep the database current from OSV's per-ecosystem exports, and from
the other sources (`feeds.sources`: NVD, CVE JSON 5, KEV, EPSS, Red Hat's repository-to-CPE
mapping, Amazon Linux `updateinfo.xml`, Oracle Linux OVAL), named the same way (`--ecosystem NVD`,
`--ecosystem "Amazon Linux:2023"`).

The bucket (`https://osv-vulnerabilities.storage.googleapis.com`, or a mirror with the same layout)
serves per ecosystem `<ECOSYSTEM>/all.zip` (every record), `<ECOSYSTEM>/modified_id.csv`
(`<modified>,<id>` rows, newest first) and `<ECOSYSTEM>/<ID>.json`. The first update of an
ecosystem downloads `all.zip`; later ones read `modified_id.csv` only down to the last record
already held and fetch just the newer records, falling back to a full download when too many
changed. A full download replaces that ecosystem's records, so records deleted upstream disappear.

Everything is written to a copy of the database; the copy replaces the live file only when every
requested ecosystem and source succeeded. A download cut off, an HTTP error, a zip that is not one: the
previous database stays exactly as it was, and the error names the URL.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from ci_security import limits
from ci_security.errors import CiSecurityError
from ci_security.http import (
    Client,
    TransferError,
    display_url,
    split_credentials,
)
from ci_security.structured import load_json
from ci_security.vulndb.parallel import RecordReader
from ci_security.vulndb.store import DbWriter, Prepared, VulnDbError, prepare

DEFAULT_MIRROR = "https://osv-vulnerabilities.storage.googleapis.com"
DEFAULT_ECOSYSTEMS = (
    "Debian",
    "Ubuntu",
    "Alpine",
    "AlmaLinux",
    "Rocky Linux",
    "Wolfi",
    "Chainguard",
    "Photon OS",
    "Azure Linux",
    "Red Hat",
    "SUSE",
    "openSUSE",
    "Amazon Linux",
    "Oracle Linux",
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
    "RubyGems",
    "NuGet",
    "Packagist",
    "Julia",
    "NVD",
    "KEV",
    "EPSS",
)
# Beyond this many changed records, one all.zip is cheaper than one request per record.
INCREMENTAL_LIMIT = 500
_BATCH = 1_000  # prepared records stored per statement batch


@dataclass
class UpdateSummary:
    """Per ecosystem: how it was updated ("full" or "incremental") and how many records changed."""

    updated: dict[str, tuple[str, int]] = field(default_factory=dict)


class _Fetcher:
    """GETs under the shared HTTP policy (`ci_security.http`): deadlines, size caps, bounded
    retries; downloads stream to private temp files.
    """

    def __init__(self, base: str, sleep: Callable[[float], None]) -> None:
        try:
            parts = urlsplit(base)
            usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        except ValueError:
            usable = False
        if not usable:
            raise VulnDbError(f"--mirror {display_url(base)!r}: expected an http:// or https:// URL")
        # A mirror URL may carry user:password@; they go to the mirror's own origin only.
        bare, self.credential = split_credentials(base.rstrip("/"))
        self.base = bare
        self.http = Client(error=VulnDbError, sleep=sleep)

    def close(self) -> None:
        self.http.close()

    def url(self, ecosystem: str, name: str) -> str:
        # Names come from the mirror's own listing: nothing in them may add a path component.
        return f"{self.base}/{quote(ecosystem, safe='')}/{quote(name, safe='')}"

    def record(self, url: str) -> bytes | None:
        """One record's bytes (at most `record_bytes`), or None on 404."""
        with self.http.exchange(url, "metadata_seconds") as ex:
            resp = ex.send(credential=self.credential)
            if resp.status_code == 404:
                return None
            if resp.status_code != 200:
                raise VulnDbError(f"{ex.where}: HTTP {resp.status_code}")
            try:
                return ex.read(resp, max_bytes=limits.active().record_bytes, size_limit="record_bytes")
            except TransferError as exc:
                raise VulnDbError(str(exc)) from None

    def changed_since(self, url: str, since: str) -> list[str] | None:
        """IDs listed in `modified_id.csv` (newest first) as modified after `since`; None when the
        listing is missing or so many changed that a full download is cheaper. Reads only as far
        as it must.
        """
        changed: list[str] = []
        with self.http.exchange(url, "metadata_seconds") as ex:
            resp = ex.send(credential=self.credential)
            if resp.status_code == 404:
                return None
            if resp.status_code != 200:
                raise VulnDbError(f"{ex.where}: HTTP {resp.status_code}")
            pieces = ex.chunks(resp, max_bytes=limits.active().download_bytes, size_limit="download_bytes")
            try:
                for line in _lines(pieces, ex.where):
                    modified, _, record_id = line.strip().partition(",")
                    if not record_id:
                        continue
                    if modified <= since:
                        break  # newest first: everything below is already held
                    changed.append(record_id)
                    if len(changed) > INCREMENTAL_LIMIT:
                        return None
            except TransferError as exc:
                raise VulnDbError(str(exc)) from None
            finally:
                pieces.close()
        return changed

    def download(self, url: str, directory: Path) -> Path:
        """Stream `url` to a temp file (at most `download_bytes`); a transfer that breaks off is
        started again, within the same `transfer_seconds` deadline.
        """
        bound = limits.active().download_bytes
        with self.http.exchange(url, "transfer_seconds") as ex:

            def transfer() -> Path:
                resp = ex.send(credential=self.credential)
                if resp.status_code == 404:
                    raise VulnDbError(f"{ex.where}: no such export (HTTP 404)")
                if resp.status_code != 200:
                    raise VulnDbError(f"{ex.where}: HTTP {resp.status_code}")
                fd, name = tempfile.mkstemp(prefix=".osv-", suffix=".zip", dir=directory)
                path = Path(name)
                try:
                    with os.fdopen(fd, "wb") as out:
                        for chunk in ex.chunks(resp, max_bytes=bound, size_limit="download_bytes"):
                            out.write(chunk)
                except BaseException:
                    path.unlink(missing_ok=True)
                    raise
                return path

            return ex.again_if_broken(transfer)


_MAX_LISTING_LINE = 4096  # "<RFC 3339 time>,<id>": a longer line is not a listing


def _lines(pieces: Iterator[bytes], where: str) -> Iterator[str]:
    """Lines of a streamed text body, each at most `_MAX_LISTING_LINE` bytes."""
    pending = b""
    for piece in pieces:
        pending += piece
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            yield _listing_line(raw, where)
        if len(pending) > _MAX_LISTING_LINE:
            raise VulnDbError(f"{where}: a line longer than {_MAX_LISTING_LINE} bytes (not a listing)")
    if pending:
        yield _listing_line(pending, where)


def _listing_line(raw: bytes, where: str) -> str:
    if len(raw) > _MAX_LISTING_LINE:
        raise VulnDbError(f"{where}: a line longer than {_MAX_LISTING_LINE} bytes (not a listing)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise VulnDbError(f"{where}: a line that is not UTF-8 (not a listing)") from None


def _full(writer: DbWriter, fetch: _Fetcher, ecosystem: str, workdir: Path, reader: RecordReader) -> int:
    url = fetch.url(ecosystem, "all.zip")
    archive = fetch.download(url, workdir)
    try:
        writer.remove_source(ecosystem)
        writer.bulk()
        count, newest = 0, None
        batch: list[Prepared] = []
        records = reader.read(archive, display_url(url), (".json",), mode="records", error=VulnDbError)
        for item in records:
            assert isinstance(item, Prepared)  # "records" mode yields nothing else
            batch.append(item)
            count += 1
            newest = max(newest or item.modified, item.modified)
            if len(batch) >= _BATCH:
                writer.add_prepared(batch, ecosystem)
                batch.clear()
        writer.add_prepared(batch, ecosystem)
        writer.set_source(ecosystem, display_url(url), writer.source_count(ecosystem), newest)
        return count
    finally:
        archive.unlink(missing_ok=True)


def _incremental(writer: DbWriter, fetch: _Fetcher, ecosystem: str, since: str) -> int | None:
    """Apply records modified after `since`; None when a full download is the better choice."""
    changed = fetch.changed_since(fetch.url(ecosystem, "modified_id.csv"), since)
    if changed is None:
        return None
    newest = since
    bound = limits.active().record_bytes
    for record_id in changed:
        url = fetch.url(ecosystem, f"{record_id}.json")
        body = fetch.record(url)
        if body is None:
            continue  # listed but gone: the next full refresh drops it
        where = display_url(url)
        doc = load_json(body, where, max_bytes=bound, size_limit="record_bytes", error=VulnDbError)
        record = prepare(doc, where)
        writer.add_prepared([record], ecosystem)
        newest = max(newest, record.modified)
    writer.set_source(
        ecosystem, display_url(fetch.url(ecosystem, "all.zip")), writer.source_count(ecosystem), newest
    )
    return len(changed)


def update(
    db_path: Path,
    ecosystems: Sequence[str] = DEFAULT_ECOSYSTEMS,
    *,
    mirror: str = DEFAULT_MIRROR,
    full: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    feeds: Mapping[str, str] | None = None,
    nvd_api_key: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> UpdateSummary:
    """Download the requested ecosystems and sources into the database at `db_path` (all or
    nothing); `feeds` maps source names (`nvd`, `kev`, ...) to mirror URLs.
    """
    from ci_security.vulndb.feeds import sources

    names = [n for name in ecosystems for n in sources.expand(name)]
    for name in names:
        sources.check_name(name)
    summary = UpdateSummary()
    fetch = _Fetcher(mirror, sleep)
    reader = RecordReader()
    try:
        writer = DbWriter(db_path)
        try:
            with tempfile.TemporaryDirectory(prefix="ci-security-db-", dir=db_path.parent) as tmp:
                ctx = sources.context(
                    writer,
                    Path(tmp),
                    urls=feeds or {},
                    full=full,
                    sleep=sleep,
                    clock=clock,
                    now=now,
                    nvd_api_key=nvd_api_key,
                )
                try:
                    for ecosystem in names:
                        if sources.is_feed_source(ecosystem):
                            summary.updated[ecosystem] = sources.update_source(ctx, ecosystem)
                            continue
                        since = None if full else writer.latest_modified(ecosystem)
                        changed = _incremental(writer, fetch, ecosystem, since) if since else None
                        if changed is not None:
                            summary.updated[ecosystem] = ("incremental", changed)
                        else:
                            done = _full(writer, fetch, ecosystem, Path(tmp), reader)
                            summary.updated[ecosystem] = ("full", done)
                        if ecosystem == "Red Hat":
                            summary.updated[sources.REPOSITORY_CPE] = sources.update_repository_cpes(ctx)
                finally:
                    ctx.fetch.close()
            writer.commit()
        except VulnDbError:
            writer.abort()
            raise
        except CiSecurityError as exc:
            # A limit, a record that is not OSV: the update failed, as a broken download does (the
            # CI step falls back on the previous database for any VulnDbError).
            writer.abort()
            raise VulnDbError(str(exc)) from None
        except BaseException:
            writer.abort()
            raise
    finally:
        reader.close()
        fetch.close()
    return summary
