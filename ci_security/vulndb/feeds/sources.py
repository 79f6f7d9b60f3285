"""`db update` sources other than OSV's exports: where each is downloaded from, and how.

- `NVD`: the CVE API 2.0 (`nvd`: `https://services.nvd.nist.gov/rest/json/cves/2.0`), or an NVD-2.0
  JSON feed mirror (`nvd-feed`: `nvdcve-2.0-<year>.json.gz`, `nvdcve-2.0-modified.json.gz`). API:
  everything once, paged; then only the CVEs modified since the last update, in
  `lastModStartDate`/`lastModEndDate` windows of at most 120 days. Feed: every year file once, then
  `modified` (the last eight days) while the last update is younger than a week.
- `CVE`: a zip of CVE JSON 5 records (`cve`: cvelistV5's
  `https://github.com/CVEProject/cvelistV5/archive/refs/heads/main.zip`), downloaded whole when it
  changed (ETag / Last-Modified). Not in the default set: the archive is large.
- `KEV`: `https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json`
  (`kev`), replaced whole when it changed.
- `EPSS`: `https://epss.empiricalsecurity.com/epss_scores-current.csv.gz` (`epss`), replaced whole
  when it changed.
- `Red Hat`: OSV's `Red Hat` export, and Red Hat's repository-to-CPE mapping
  (`redhat`: `https://security.access.redhat.com/data/meta/v1/repository-to-cpe.json`), replaced
  when it changed.
- `Amazon Linux[:1|2|2023]`: each repository's `mirror.list` → `repodata/repomd.xml` →
  `updateinfo.xml.{gz,xz,zst,bz2}` (`amazon`: a mirror of `cdn.amazonlinux.com`'s layout); a
  repository whose `updateinfo` checksum is unchanged is not downloaded again.
- `Oracle Linux[:N]`: `https://linux.oracle.com/security/oval/com.oracle.elsa-ol<N>.xml.bz2`
  (`com.oracle.elsa-all.xml.bz2` for `Oracle Linux`; `oracle`), downloaded when it changed.

Amazon's repositories: Amazon Linux 1 `2018.03/updates/x86_64` (the only AL1 repository location
Amazon publishes, on `http://repo.us-west-2.amazonaws.com`); Amazon Linux 2 `2/core/latest/x86_64`
and every extras topic that `2/extras-catalog.json` lists (`2/extras/<topic>/latest/x86_64`);
Amazon Linux 2023 `al2023/core/mirrors/latest/x86_64` and `al2023/kernel-livepatch/mirrors/latest/x86_64`.
Each `mirror.list` names the repository's real location; with a mirror given, the path of that
location is fetched from the mirror instead, so a plain proxy of Amazon's CDN works.

NVD's documented rate limits are honoured before asking: at most 5 requests in any 30 seconds without
an API key, 50 with one (`--nvd-api-key`, sent in NVD's `apiKey` header to NVD's own origin only,
never along a redirect elsewhere). A `403` (NVD's answer to a client past its limit) is retried after
the `Retry-After` it gives, or after the 30-second window, up to 5 attempts; a `Retry-After` longer
than `retry-after-seconds` is an error at once. Every download is bounded like the OSV exports
(`transfer-seconds`, `download-bytes`, decompression by `compression-ratio`), every record by
`record-bytes`, and a failure anywhere leaves the previous database as it was (`sync.update`).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from ci_security import limits
from ci_security.errors import UsageError
from ci_security.http import (
    MAX_ATTEMPTS,
    Client,
    Credential,
    TransferError,
    backoff,
    display_url,
    origin,
    retry_after,
    split_credentials,
)
from ci_security.structured import load_json
from ci_security.vulndb.feeds import cve5, epss, kev, nvd, oval, redhat, updateinfo
from ci_security.vulndb.feeds.stream import json_array_items, open_decompressed, read_chunks, xml_events
from ci_security.vulndb.osv import parse_record
from ci_security.vulndb.osvzip import iter_entries
from ci_security.vulndb.store import DbWriter, VulnDbError

DEFAULT_URLS: dict[str, str] = {
    "nvd": "https://services.nvd.nist.gov/rest/json/cves/2.0",
    "nvd-feed": "",
    "cve": "https://github.com/CVEProject/cvelistV5/archive/refs/heads/main.zip",
    "kev": "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
    "epss": "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz",
    "redhat": "https://security.access.redhat.com/data/meta/v1/repository-to-cpe.json",
    "amazon": "",
    "oracle": "https://linux.oracle.com/security/oval",
}
FEED_NAMES = tuple(DEFAULT_URLS)
AMAZON_RELEASES = ("1", "2", "2023")
ORACLE_RELEASES = ("7", "8", "9", "10")
AMAZON_HOSTS = {
    "1": "http://repo.us-west-2.amazonaws.com",
    "2": "https://cdn.amazonlinux.com",
    "2023": "https://cdn.amazonlinux.com",
}
NVD_WINDOW_DAYS = 120
NVD_PAGE = 2000
NVD_FEED_MODIFIED_DAYS = 7  # `modified` covers eight days; one day of margin
RATE_WINDOW = 30.0
_STAMP = "%Y-%m-%dT%H:%M:%SZ"
CVE_SOURCES = ("NVD", "CVE", "KEV", "EPSS")
REPOSITORY_CPE = "Red Hat repository-to-CPE"


def parse_feed_mirrors(items: Iterable[str]) -> dict[str, str]:
    """`NAME=URL` assignments (`--feed-mirror`; the variable takes several separated by spaces)."""
    out: dict[str, str] = {}
    for item in items:
        for word in item.split():
            name, sep, url = word.partition("=")
            name = name.strip().lower()
            if not sep or name not in DEFAULT_URLS:
                raise UsageError(
                    f"--feed-mirror {word!r}: expected NAME=URL with NAME one of {', '.join(FEED_NAMES)}"
                )
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise UsageError(
                    f"--feed-mirror {name}={display_url(url)!r}: expected an http:// or https:// URL"
                )
            out[name] = url.rstrip("/") if name not in ("kev", "epss", "redhat", "cve") else url
    return out


def is_feed_source(name: str) -> bool:
    return name in CVE_SOURCES or name.split(":", 1)[0] in ("Amazon Linux", "Oracle Linux")


def expand(name: str) -> list[str]:
    """One `--ecosystem` name as the sources it stands for (`Amazon Linux` is every release)."""
    if name == "Amazon Linux":
        return [f"Amazon Linux:{r}" for r in AMAZON_RELEASES]
    return [name]


def check_name(name: str) -> None:
    base, _, release = name.partition(":")
    if base == "Amazon Linux" and release and release not in AMAZON_RELEASES:
        raise UsageError(f"--ecosystem {name!r}: Amazon Linux releases are {', '.join(AMAZON_RELEASES)}")
    if base == "Oracle Linux" and release and not release.isdigit():
        raise UsageError(f"--ecosystem {name!r}: expected Oracle Linux:<major release>, e.g. Oracle Linux:9")


@dataclass
class RateLimiter:
    """At most `limit` requests in any `window` seconds: waits before a request that would be one
    too many (NVD's documented limits).
    """

    limit: int
    window: float
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    sent: deque[float] = field(default_factory=deque)

    def wait(self) -> None:
        now = self.clock()
        while self.sent and now - self.sent[0] >= self.window:
            self.sent.popleft()
        if len(self.sent) >= self.limit:
            pause = self.window - (now - self.sent[0])
            if pause > 0:
                self.sleep(pause)
            self.sent.popleft()
        self.sent.append(self.clock())


class Fetcher:
    """GETs for the feed sources under the shared HTTP policy, with per-origin credentials (a
    mirror URL's `user:password@`, NVD's API key).
    """

    def __init__(self, sleep: Callable[[float], None]) -> None:
        self.http = Client(error=VulnDbError, sleep=sleep)
        self.credentials: dict[tuple[str, str, int], Credential] = {}

    def close(self) -> None:
        self.http.close()

    def base(self, url: str) -> str:
        """`url` without its user info, remembering that as the credential for its origin."""
        bare, credential = split_credentials(url)
        if credential is not None:
            self.credentials[credential.origin] = credential
        return bare

    def add(self, credential: Credential) -> None:
        self.credentials[credential.origin] = credential

    def _credential(self, url: str) -> Credential | None:
        try:
            return self.credentials.get(origin(url))
        except ValueError:
            return None

    def small(self, url: str, *, missing_ok: bool = False) -> bytes | None:
        """A small document (a listing, `repomd.xml`, a catalogue): at most `record-bytes`."""
        with self.http.exchange(url, "metadata_seconds") as ex:
            resp = ex.send(credential=self._credential(url))
            if resp.status_code == 404 and missing_ok:
                return None
            if resp.status_code != 200:
                raise VulnDbError(f"{ex.where}: HTTP {resp.status_code}")
            try:
                return ex.read(resp, max_bytes=limits.active().record_bytes, size_limit="record_bytes")
            except TransferError as exc:
                raise VulnDbError(str(exc)) from None

    def download(
        self, url: str, directory: Path, validator: str | None = None
    ) -> tuple[Path | None, str | None]:
        """Stream `url` to a temp file (at most `download-bytes`): (path, its validator), or
        (None, validator) when the server says it has not changed since `validator` (an ETag or
        Last-Modified remembered from the last download).
        """
        bound = limits.active().download_bytes
        headers: dict[str, str] = {}
        if validator:
            kind, _, value = validator.partition(" ")
            headers["If-None-Match" if kind == "etag" else "If-Modified-Since"] = value
        with self.http.exchange(url, "transfer_seconds") as ex:
            for attempt in range(MAX_ATTEMPTS):
                resp = ex.send(credential=self._credential(url), headers=headers)
                if resp.status_code == 304 and validator:
                    resp.close()
                    return None, validator
                if resp.status_code != 200:
                    raise VulnDbError(f"{ex.where}: HTTP {resp.status_code}")
                etag, modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
                found = f"etag {etag}" if etag else (f"modified {modified}" if modified else None)
                fd, name = tempfile.mkstemp(prefix=".feed-", suffix=".download", dir=directory)
                path = Path(name)
                try:
                    with os.fdopen(fd, "wb") as out:
                        for chunk in ex.chunks(resp, max_bytes=bound, size_limit="download_bytes"):
                            out.write(chunk)
                    return path, found
                except TransferError as exc:
                    path.unlink(missing_ok=True)
                    if attempt + 1 == MAX_ATTEMPTS:
                        raise VulnDbError(str(exc)) from None
                    ex.pause(backoff(attempt), "the transfer broke off")
                except BaseException:
                    path.unlink(missing_ok=True)
                    raise
        raise AssertionError("unreachable")


def _pieces(path: Path, where: str) -> Iterator[bytes]:
    """The decompressed bytes of a downloaded file."""
    with open(path, "rb") as raw:
        stream = open_decompressed(raw, where, path.stat().st_size)
        yield from read_chunks(stream, VulnDbError)


@dataclass
class Context:
    """One `db update` run: the writer, the fetcher, the URLs and the clocks."""

    writer: DbWriter
    fetch: Fetcher
    urls: dict[str, str]
    workdir: Path
    full: bool
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    now: Callable[[], datetime]
    nvd_api_key: str | None = None


# --- NVD --------------------------------------------------------------------------------------


def _nvd_time(when: datetime) -> str:
    # NVD's form, in UTC without an offset; `:` stays unescaped (NVD rejects `%3A`).
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000")


def nvd_windows(since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    """`since`..`until` cut into windows of at most 120 days (NVD's maximum)."""
    out = []
    start = since
    while until - start > timedelta(days=NVD_WINDOW_DAYS):
        out.append((start, start + timedelta(days=NVD_WINDOW_DAYS)))
        start += timedelta(days=NVD_WINDOW_DAYS)
    out.append((start, until))
    return out


def _store_nvd_item(writer: DbWriter, item: object) -> int:
    parsed = nvd.parse_cve(nvd.cves_of(item))
    if parsed is None:
        return 0
    writer.put_cve_ratings("nvd", parsed.id, parsed.modified, parsed.rows)
    return 1


def _nvd_page(
    ctx: Context, url: str, limiter: RateLimiter, credential: Credential | None
) -> tuple[dict[str, object], int]:
    """One API page: (its counters, CVEs stored)."""
    header: dict[str, object] = {}
    stored = 0
    with ctx.fetch.http.exchange(url, "transfer_seconds", prefix="NVD ") as ex:
        for attempt in range(MAX_ATTEMPTS):
            limiter.wait()
            resp = ex.send(credential=credential)
            if resp.status_code == 403 and attempt + 1 < MAX_ATTEMPTS:
                resp.close()
                asked = retry_after(resp.headers)
                ceiling = limits.active().retry_after_seconds
                if asked is not None and asked > ceiling:
                    raise limits.LimitExceededError(
                        ex.where, "retry_after_seconds", f"HTTP 403 with Retry-After: {asked:.0f} s"
                    )
                ex.pause(RATE_WINDOW if asked is None else asked, "HTTP 403 (NVD's rate limit)")
                continue
            if resp.status_code == 403:
                raise VulnDbError(
                    f"{ex.where}: HTTP 403 (NVD's rate limit, or an API key it does not accept)"
                )
            if resp.status_code != 200:
                raise VulnDbError(f"{ex.where}: HTTP {resp.status_code}")
            bound = limits.active().download_bytes
            pieces = ex.chunks(resp, max_bytes=bound, size_limit="download_bytes")
            try:
                for item in json_array_items(pieces, "vulnerabilities", ex.where, VulnDbError, header):
                    stored += _store_nvd_item(ctx.writer, item)
            except TransferError as exc:
                raise VulnDbError(str(exc)) from None
            finally:
                pieces.close()
            return header, stored
    raise AssertionError("unreachable")


def _count(header: Mapping[str, object], key: str, where: str) -> int:
    value = header.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise VulnDbError(f"{where}: the answer has no {key!r} count (not an NVD API 2.0 page)")
    return value


def update_nvd_api(ctx: Context) -> tuple[str, int]:
    base = ctx.fetch.base(ctx.urls["nvd"])
    credential = Credential(origin(base), ctx.nvd_api_key, "apiKey") if ctx.nvd_api_key else None
    limiter = RateLimiter(50 if ctx.nvd_api_key else 5, RATE_WINDOW, ctx.sleep, ctx.clock)
    started = ctx.now()
    held = None if ctx.full else ctx.writer.latest_modified("NVD")
    since = datetime.strptime(held, _STAMP).replace(tzinfo=UTC) if held else None
    windows: list[tuple[datetime, datetime] | None] = (
        [None] if since is None else list(nvd_windows(since, started))
    )
    if since is None:
        ctx.writer.clear_cve_ratings("nvd")
    stored = 0
    for window in windows:
        start_index, pages = 0, 0
        while True:
            query = f"resultsPerPage={NVD_PAGE}&startIndex={start_index}"
            if window is not None:
                query += f"&lastModStartDate={_nvd_time(window[0])}&lastModEndDate={_nvd_time(window[1])}"
            url = f"{base}?{query}"
            header, got = _nvd_page(ctx, url, limiter, credential)
            where = f"NVD {display_url(url)}"
            total = _count(header, "totalResults", where)
            per_page = _count(header, "resultsPerPage", where)
            stored += got
            pages += 1
            if total > limits.active().records_per_file:
                raise limits.LimitExceededError(where, "records_per_file", f"it announces {total:,} CVEs")
            start_index += per_page
            if start_index >= total:
                break
            if per_page == 0 or pages > 2 * (total // NVD_PAGE + 1) + 10:
                raise VulnDbError(f"{where}: the pages make no progress ({pages} pages for {total:,} CVEs)")
    ctx.writer.set_source(
        "NVD", display_url(base), ctx.writer.cve_rating_count("nvd"), started.strftime(_STAMP)
    )
    return ("full" if since is None else "incremental"), stored


def update_nvd_feed(ctx: Context) -> tuple[str, int]:
    base = ctx.fetch.base(ctx.urls["nvd-feed"])
    started = ctx.now()
    held = None if ctx.full else ctx.writer.latest_modified("NVD")
    since = datetime.strptime(held, _STAMP).replace(tzinfo=UTC) if held else None
    if since is not None and started - since <= timedelta(days=NVD_FEED_MODIFIED_DAYS):
        names, how = ["modified"], "incremental"
    else:
        names, how = [str(year) for year in range(2002, started.year + 1)], "full"
        ctx.writer.clear_cve_ratings("nvd")
    stored = 0
    for name in names:
        url = f"{base}/nvdcve-2.0-{name}.json.gz"
        path, _ = ctx.fetch.download(url, ctx.workdir)
        assert path is not None
        try:
            header: dict[str, object] = {}
            where = display_url(url)
            for item in json_array_items(_pieces(path, where), "vulnerabilities", where, VulnDbError, header):
                stored += _store_nvd_item(ctx.writer, item)
        finally:
            path.unlink(missing_ok=True)
    ctx.writer.set_source(
        "NVD", display_url(base), ctx.writer.cve_rating_count("nvd"), started.strftime(_STAMP)
    )
    return how, stored


# --- whole-file sources -----------------------------------------------------------------------


def _validator_key(url: str) -> str:
    return f"validator:{display_url(url)}"


def _download_if_changed(ctx: Context, url: str) -> tuple[Path | None, str | None]:
    held = None if ctx.full else ctx.writer.meta(_validator_key(url))
    return ctx.fetch.download(url, ctx.workdir, held)


def update_cve5(ctx: Context) -> tuple[str, int]:
    url = ctx.fetch.base(ctx.urls["cve"])
    path, validator = _download_if_changed(ctx, url)
    if path is None:
        return "unchanged", 0
    try:
        ctx.writer.clear_cve_ratings("cve5")
        count = 0
        bound = limits.active().record_bytes
        for where, data in iter_entries(path, display_url(url), (".json",), error=VulnDbError):
            doc = load_json(data, where, max_bytes=bound, size_limit="record_bytes", error=VulnDbError)
            parsed = cve5.parse_record(doc)
            if parsed is not None:  # delta.json and other files beside the records
                ctx.writer.put_cve_ratings("cve5", parsed.id, parsed.modified, parsed.rows)
                count += 1
    finally:
        path.unlink(missing_ok=True)
    ctx.writer.set_meta(_validator_key(url), validator)
    ctx.writer.set_source("CVE", display_url(url), ctx.writer.cve_rating_count("cve5"), None)
    return "full", count


def store_kev(writer: DbWriter, doc: object, where: str, origin_name: str) -> int:
    catalogue = kev.parse_catalogue(doc, where, VulnDbError)
    count = writer.replace_kev(catalogue.entries)
    writer.set_meta("kev_catalog_version", catalogue.version)
    writer.set_source("KEV", origin_name, count, catalogue.released or None)
    return count


def update_kev(ctx: Context) -> tuple[str, int]:
    url = ctx.fetch.base(ctx.urls["kev"])
    path, validator = _download_if_changed(ctx, url)
    if path is None:
        return "unchanged", 0
    try:
        where = display_url(url)
        data = b"".join(_pieces(path, where))
        doc = load_json(data, where, error=VulnDbError)
    finally:
        path.unlink(missing_ok=True)
    count = store_kev(ctx.writer, doc, where, where)
    ctx.writer.set_meta(_validator_key(url), validator)
    return "full", count


def store_epss(writer: DbWriter, pieces: Iterator[bytes], where: str, origin_name: str) -> int:
    header = epss.EpssHeader()
    count = writer.replace_epss(epss.rows(epss.lines(pieces, where, VulnDbError), where, VulnDbError, header))
    writer.set_meta("epss_score_date", header.score_date)
    writer.set_meta("epss_model", header.model)
    writer.set_source("EPSS", origin_name, count, header.score_date)
    return count


def update_epss(ctx: Context) -> tuple[str, int]:
    url = ctx.fetch.base(ctx.urls["epss"])
    path, validator = _download_if_changed(ctx, url)
    if path is None:
        return "unchanged", 0
    try:
        where = display_url(url)
        count = store_epss(ctx.writer, _pieces(path, where), where, where)
    finally:
        path.unlink(missing_ok=True)
    ctx.writer.set_meta(_validator_key(url), validator)
    return "full", count


def store_repository_cpes(writer: DbWriter, doc: object, where: str, origin_name: str) -> int:
    mapping = redhat.parse_mapping(doc, where, VulnDbError)
    count = writer.replace_repository_cpes(mapping)
    updated = doc.get("last_updated") if isinstance(doc, dict) else None
    writer.set_source(REPOSITORY_CPE, origin_name, count, updated if isinstance(updated, str) else None)
    return count


def update_repository_cpes(ctx: Context) -> tuple[str, int]:
    url = ctx.fetch.base(ctx.urls["redhat"])
    path, validator = _download_if_changed(ctx, url)
    if path is None:
        return "unchanged", 0
    try:
        where = display_url(url)
        doc = load_json(b"".join(_pieces(path, where)), where, error=VulnDbError)
    finally:
        path.unlink(missing_ok=True)
    count = store_repository_cpes(ctx.writer, doc, where, where)
    ctx.writer.set_meta(_validator_key(url), validator)
    return "full", count


# --- distribution advisories converted to OSV records -------------------------------------------


def store_records(
    writer: DbWriter, records: Iterable[dict[str, object]], source: str
) -> tuple[int, str | None]:
    count, newest = 0, None
    for doc in records:
        where = f"{source}: {doc.get('id')}"
        advisory = parse_record(doc, where)
        writer.add(advisory, doc, source, where=where)
        count += 1
        newest = max(newest or advisory.modified, advisory.modified)
    return count, newest


def update_oracle(ctx: Context, name: str) -> tuple[str, int]:
    release = name.partition(":")[2]
    base = ctx.fetch.base(ctx.urls["oracle"])
    url = f"{base}/com.oracle.elsa-{'ol' + release if release else 'all'}.xml.bz2"
    path, validator = _download_if_changed(ctx, url)
    if path is None:
        return "unchanged", 0
    where = display_url(url)
    try:
        ctx.writer.remove_source(name)
        count, newest = store_records(
            ctx.writer, oval.records(_pieces(path, where), where, VulnDbError), name
        )
    finally:
        path.unlink(missing_ok=True)
    ctx.writer.set_meta(_validator_key(url), validator)
    ctx.writer.set_source(name, where, ctx.writer.source_count(name), newest)
    return "full", count


def _amazon_repositories(ctx: Context, release: str, base: str) -> list[str]:
    """The mirror.list URLs of a release's repositories."""
    if release == "1":
        return [f"{base}/2018.03/updates/x86_64/mirror.list"]
    if release == "2023":
        return [
            f"{base}/al2023/core/mirrors/latest/x86_64/mirror.list",
            f"{base}/al2023/kernel-livepatch/mirrors/latest/x86_64/mirror.list",
        ]
    found = [f"{base}/2/core/latest/x86_64/mirror.list"]
    catalogue_url = f"{base}/2/extras-catalog.json"
    body = ctx.fetch.small(catalogue_url)
    assert body is not None
    where = display_url(catalogue_url)
    doc = load_json(body, where, size_limit="record_bytes", error=VulnDbError)
    topics = doc.get("topics") if isinstance(doc, dict) else None
    if not isinstance(topics, list):
        raise VulnDbError(f"{where}: not the extras catalogue (no 'topics' list)")
    for topic in topics:
        topic_name = topic.get("n") if isinstance(topic, dict) else None
        if isinstance(topic_name, str) and topic_name and all(c.isalnum() or c in "._-" for c in topic_name):
            found.append(f"{base}/2/extras/{topic_name}/latest/x86_64/mirror.list")
    return found


def _repository_url(ctx: Context, listing: str, mirrored: str | None) -> str | None:
    """The repository location a `mirror.list` names (its first line), or None when there is none."""
    body = ctx.fetch.small(listing, missing_ok="/extras/" in listing)  # a topic with no repository
    if body is None:
        return None
    for line in body.decode("utf-8", "replace").splitlines():
        line = line.strip().replace("$basearch", "x86_64")
        if not line or line.startswith("#"):
            continue
        location = urljoin(listing, line)
        if mirrored is not None:
            location = f"{mirrored}{urlsplit(location).path}"
        if urlsplit(location).scheme not in ("http", "https"):
            raise VulnDbError(f"{display_url(listing)}: names a location that is not http(s)")
        return location.rstrip("/") + "/"
    raise VulnDbError(f"{display_url(listing)}: lists no repository location")


def _updateinfo_location(ctx: Context, repository: str) -> tuple[str, str] | None:
    """(updateinfo URL, its checksum) from the repository's `repomd.xml`; None without one (some
    extras topics publish no advisories).
    """
    url = urljoin(repository, "repodata/repomd.xml")
    body = ctx.fetch.small(url)
    assert body is not None
    where = display_url(url)
    inside = False
    href, checksum = None, ""
    for kind, tag, value in xml_events(iter([body]), where, VulnDbError):
        if kind == "start" and tag == "data":
            inside = value.get("type") == "updateinfo"
        elif inside and kind == "start" and tag == "location":
            href = value.get("href")
        elif inside and kind == "end" and tag == "checksum":
            checksum = value.strip()
        elif kind == "end" and tag == "data":
            if inside and href:
                break
            inside = False
    if not href:
        return None
    target = urljoin(repository, href)
    if not target.startswith(repository) or ".." in href:
        raise VulnDbError(f"{where}: the updateinfo location {href[:100]!r} is outside the repository")
    return target, checksum


def update_amazon(ctx: Context, name: str) -> tuple[str, int]:
    release = name.partition(":")[2]
    mirror = ctx.urls["amazon"]
    base = ctx.fetch.base(mirror) if mirror else AMAZON_HOSTS[release]
    repositories = []
    for listing in _amazon_repositories(ctx, release, base):
        repository = _repository_url(ctx, listing, base if mirror else None)
        if repository is None:
            continue
        found = _updateinfo_location(ctx, repository)
        if found is not None:
            repositories.append(found)
    signature = " ".join(sorted(f"{display_url(u)}@{c}" for u, c in repositories))
    key = f"amazon:{name}"
    if not ctx.full and signature and ctx.writer.meta(key) == signature:
        return "unchanged", 0
    ctx.writer.remove_source(name)
    count, newest = 0, None
    for url, _ in repositories:
        path, _ = ctx.fetch.download(url, ctx.workdir)
        assert path is not None
        where = display_url(url)
        try:
            added, latest = store_records(
                ctx.writer, updateinfo.records(_pieces(path, where), where, VulnDbError), name
            )
        finally:
            path.unlink(missing_ok=True)
        count += added
        newest = max(filter(None, (newest, latest)), default=None)
    ctx.writer.set_meta(key, signature)
    origin_name = display_url(base)
    ctx.writer.set_source(name, origin_name, ctx.writer.source_count(name), newest)
    return "full", count


def update_source(ctx: Context, name: str) -> tuple[str, int]:
    """Bring one feed source up to date (see the module docstring)."""
    if name == "NVD":
        return update_nvd_feed(ctx) if ctx.urls.get("nvd-feed") else update_nvd_api(ctx)
    if name == "CVE":
        return update_cve5(ctx)
    if name == "KEV":
        return update_kev(ctx)
    if name == "EPSS":
        return update_epss(ctx)
    if name.startswith("Amazon Linux:"):
        return update_amazon(ctx, name)
    if name.split(":", 1)[0] == "Oracle Linux":
        return update_oracle(ctx, name)
    raise VulnDbError(f"{name}: not a feed source")


def context(
    writer: DbWriter,
    workdir: Path,
    *,
    urls: Mapping[str, str],
    full: bool,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    nvd_api_key: str | None = None,
) -> Context:
    merged = {**DEFAULT_URLS, **urls}
    return Context(
        writer=writer,
        fetch=Fetcher(sleep),
        urls=merged,
        workdir=workdir,
        full=full,
        sleep=sleep,
        clock=clock,
        now=now,
        nvd_api_key=nvd_api_key,
    )
