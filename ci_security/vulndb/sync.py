"""`ci-security db update`: keep the database current from OSV's per-ecosystem exports.

The bucket (`https://osv-vulnerabilities.storage.googleapis.com`, or a mirror with the same layout)
serves per ecosystem `<ECOSYSTEM>/all.zip` (every record), `<ECOSYSTEM>/modified_id.csv`
(`<modified>,<id>` rows, newest first) and `<ECOSYSTEM>/<ID>.json`. The first update of an
ecosystem downloads `all.zip`; later ones read `modified_id.csv` only down to the last record
already held and fetch just the newer records, falling back to a full download when too many
changed. A full download replaces that ecosystem's records, so records deleted upstream disappear.

Everything is written to a copy of the database; the copy replaces the live file only when every
requested ecosystem succeeded. A download cut off, an HTTP error, a zip that is not one: the
previous database stays exactly as it was, and the error names the URL.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from ci_security.http import MAX_ATTEMPTS, RETRY_STATUS, TIMEOUT, USER_AGENT, retry_delay, short_reason
from ci_security.vulndb.osv import OsvError, parse_record
from ci_security.vulndb.store import DbWriter, VulnDbError

if TYPE_CHECKING:
    import requests

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
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
    "RubyGems",
    "NuGet",
    "Packagist",
    "Julia",
)
# Beyond this many changed records, one all.zip is cheaper than one request per record.
INCREMENTAL_LIMIT = 500
_CHUNK = 1 << 20


@dataclass
class UpdateSummary:
    """Per ecosystem: how it was updated ("full" or "incremental") and how many records changed."""

    updated: dict[str, tuple[str, int]] = field(default_factory=dict)


class _Fetcher:
    """GETs with the shared retry policy; downloads stream to private temp files."""

    def __init__(self, base: str, session: requests.Session, sleep: Callable[[float], None]) -> None:
        self.base = base.rstrip("/")
        self.session = session
        self.sleep = sleep

    def url(self, ecosystem: str, name: str) -> str:
        return f"{self.base}/{quote(ecosystem)}/{quote(name)}"

    def _get(self, url: str, stream: bool) -> requests.Response:
        import requests  # only updates touch the network

        for attempt in range(MAX_ATTEMPTS):
            try:
                resp = self.session.get(url, stream=stream, timeout=TIMEOUT)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt + 1 == MAX_ATTEMPTS:
                    raise VulnDbError(f"cannot download {url}: {short_reason(exc)}") from None
                self.sleep(retry_delay(None, attempt))
                continue
            if resp.status_code in RETRY_STATUS and attempt + 1 < MAX_ATTEMPTS:
                resp.close()
                self.sleep(retry_delay(resp.headers, attempt))
                continue
            return resp
        raise AssertionError("unreachable")

    def text(self, url: str) -> str | None:
        """The body of `url`, or None on 404."""
        resp = self._get(url, stream=False)
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise VulnDbError(f"cannot download {url}: HTTP {resp.status_code}")
        return resp.text

    def download(self, url: str, directory: Path) -> Path:
        """Stream `url` to a temp file; retry a transfer that breaks off, from the start."""
        import requests

        for attempt in range(MAX_ATTEMPTS):
            resp = self._get(url, stream=True)
            if resp.status_code == 404:
                resp.close()
                raise VulnDbError(f"cannot download {url}: no such export (HTTP 404)")
            if resp.status_code != 200:
                resp.close()
                raise VulnDbError(f"cannot download {url}: HTTP {resp.status_code}")
            fd, name = tempfile.mkstemp(prefix=".osv-", suffix=".zip", dir=directory)
            path = Path(name)
            try:
                with os.fdopen(fd, "wb") as out:
                    for chunk in resp.iter_content(_CHUNK):
                        out.write(chunk)
                return path
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                path.unlink(missing_ok=True)
                if attempt + 1 == MAX_ATTEMPTS:
                    raise VulnDbError(f"download of {url} broke off: {short_reason(exc)}") from None
                self.sleep(retry_delay(None, attempt))
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            finally:
                resp.close()
        raise AssertionError("unreachable")


def _full(writer: DbWriter, fetch: _Fetcher, ecosystem: str, workdir: Path) -> int:
    url = fetch.url(ecosystem, "all.zip")
    archive = fetch.download(url, workdir)
    try:
        writer.remove_source(ecosystem)
        count, newest = 0, None
        try:
            with zipfile.ZipFile(archive) as export:
                for info in export.infolist():
                    if not info.filename.endswith(".json"):
                        continue
                    where = f"{url}!{info.filename}"
                    try:
                        doc = json.loads(export.read(info))
                    except json.JSONDecodeError as exc:
                        raise VulnDbError(f"{where}:{exc.lineno}:{exc.colno}: malformed JSON") from None
                    advisory = parse_record(doc, where)
                    writer.add(advisory, doc, ecosystem)
                    count += 1
                    newest = max(newest or advisory.modified, advisory.modified)
        except (zipfile.BadZipFile, EOFError) as exc:
            raise VulnDbError(f"{url}: not a readable zip archive ({exc})") from None
        writer.set_source(ecosystem, url, writer.source_count(ecosystem), newest)
        return count
    finally:
        archive.unlink(missing_ok=True)


def _incremental(writer: DbWriter, fetch: _Fetcher, ecosystem: str, since: str) -> int | None:
    """Apply records modified after `since`; None when a full download is the better choice."""
    listing = fetch.text(fetch.url(ecosystem, "modified_id.csv"))
    if listing is None:
        return None
    changed: list[str] = []
    for line in io.StringIO(listing):
        modified, _, record_id = line.strip().partition(",")
        if not record_id:
            continue
        if modified <= since:
            break  # newest first: everything below is already held
        changed.append(record_id)
        if len(changed) > INCREMENTAL_LIMIT:
            return None
    newest = since
    for record_id in changed:
        url = fetch.url(ecosystem, f"{record_id}.json")
        body = fetch.text(url)
        if body is None:
            continue  # listed but gone: the next full refresh drops it
        try:
            doc = json.loads(body)
        except json.JSONDecodeError as exc:
            raise VulnDbError(f"{url}:{exc.lineno}:{exc.colno}: malformed JSON") from None
        advisory = parse_record(doc, url)
        writer.add(advisory, doc, ecosystem)
        newest = max(newest, advisory.modified)
    writer.set_source(ecosystem, fetch.url(ecosystem, "all.zip"), writer.source_count(ecosystem), newest)
    return len(changed)


def update(
    db_path: Path,
    ecosystems: Sequence[str] = DEFAULT_ECOSYSTEMS,
    *,
    mirror: str = DEFAULT_MIRROR,
    full: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> UpdateSummary:
    """Download the requested ecosystems into the database at `db_path` (all or nothing)."""
    import requests

    summary = UpdateSummary()
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    fetch = _Fetcher(mirror, session, sleep)
    writer = DbWriter(db_path)
    try:
        with tempfile.TemporaryDirectory(prefix="ci-security-db-", dir=db_path.parent) as tmp:
            for ecosystem in ecosystems:
                since = None if full else writer.latest_modified(ecosystem)
                changed = _incremental(writer, fetch, ecosystem, since) if since else None
                if changed is not None:
                    summary.updated[ecosystem] = ("incremental", changed)
                else:
                    summary.updated[ecosystem] = ("full", _full(writer, fetch, ecosystem, Path(tmp)))
        writer.commit()
    except OsvError as exc:
        writer.abort()
        raise VulnDbError(str(exc)) from None
    except BaseException:
        writer.abort()
        raise
    finally:
        session.close()
    return summary
