"""The embedded vulnerability database: one SQLite file.

Layout (schema version `SCHEMA_VERSION`):
- `affected(ecosystem, name, …)` is what a scan searches, indexed by (ecosystem, normalised name):
  one row per affected package of each advisory, carrying only what range evaluation needs (ranges
  and explicit versions as compact JSON, and why the entry cannot be evaluated when it cannot) and
  the severity worked out at import time;
- `advisory(id, …, record)` keeps every full OSV record, zlib-compressed, read only for the few
  advisories a scan reports (summary, details, aliases, references);
- `source` says where data came from and how fresh it is; `meta` holds the schema version and dates;
- per CVE, what is known beyond any one advisory: `cve_rating` (CVSS from NVD's CVE records and from
  CVE JSON 5 records: NVD's own, the CNA's, CISA's ADP, as `[kind, who, version, vector, score]`
  rows), `kev` (CISA's Known Exploited Vulnerabilities catalogue) and `epss` (FIRST's scores);
- `repository_cpe` is Red Hat's repository-to-CPE mapping (content set → product streams), and
  `ecosystem` lists every ecosystem the `affected` table holds, with its entry count (rebuilt on
  every commit), so a scan can ask which SUSE products exist without scanning the index.

A database written by a newer ci-security (higher schema version) or an older one is refused with a
message saying what to do, rather than misread. Writing never touches the live file: `DbWriter`
works on a copy next to it and renames the copy over the original only when everything succeeded,
so a failed or interrupted import or update leaves the previous database as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from ci_security import limits
from ci_security.errors import CiSecurityError
from ci_security.models import (
    Advisory,
    Affected,
    AffectedRange,
    DbInfo,
    EpssScore,
    KevEntry,
    RangeEvent,
    Severity,
)
from ci_security.vulndb.osv import json_object, normalize_name, parse_record
from ci_security.vulndb.severity import assess

# 2: object-valued `ranges` read, uninterpretable entries kept with their reason, vendor severities.
# 3: CVE ratings (NVD, CVE 5), KEV, EPSS, Red Hat's repository-to-CPE mapping, the ecosystem list,
#    SUSE binaries indexed, ratings tagged by who gave them.
SCHEMA_VERSION = 3

_DDL = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE source(
    name TEXT PRIMARY KEY, origin TEXT NOT NULL, records INTEGER NOT NULL,
    last_modified TEXT, imported_at TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE advisory(
    id TEXT PRIMARY KEY, source TEXT NOT NULL, modified TEXT NOT NULL, withdrawn TEXT,
    record BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE affected(
    advisory_id TEXT NOT NULL, ecosystem TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL,
    severity TEXT NOT NULL, score REAL, vector TEXT, severity_source TEXT NOT NULL);
CREATE TABLE cve_rating(
    cve TEXT NOT NULL, feed TEXT NOT NULL, modified TEXT, data TEXT NOT NULL,
    PRIMARY KEY(cve, feed)) WITHOUT ROWID;
CREATE TABLE kev(
    cve TEXT PRIMARY KEY, date_added TEXT NOT NULL, due_date TEXT, ransomware TEXT, name TEXT) WITHOUT ROWID;
CREATE TABLE epss(cve TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL) WITHOUT ROWID;
CREATE TABLE repository_cpe(repository TEXT PRIMARY KEY, cpes TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE ecosystem(name TEXT PRIMARY KEY, entries INTEGER NOT NULL) WITHOUT ROWID;
"""
# The `affected` indexes: dropped while a bulk load runs and built again before the commit (one sort
# of the finished table is cheaper than keeping two B-trees in order through 600,000 inserts).
_INDEXES = {
    "affected_lookup": "CREATE INDEX IF NOT EXISTS affected_lookup ON affected(ecosystem, name)",
    "affected_by_advisory": "CREATE INDEX IF NOT EXISTS affected_by_advisory ON affected(advisory_id)",
}
# Compressed records are 0.5-2 KiB: with 4 KiB pages a WITHOUT ROWID row spills to an overflow page
# past about 1,000 bytes, and a third of the advisory table was empty overflow space. 8 KiB pages keep
# them in the tree (a 300,000-record database: 406 MiB instead of 539 MiB).
PAGE_SIZE = 8192
_COMPACT = json.JSONEncoder(separators=(",", ":"))
_ZLIB_HEADER = b"\x78\x9c"  # deflate, 32 KiB window (what a zip entry's stream may use), no dictionary
# SQLite's default limit on bound parameters is 999: IN-queries go in chunks of this many.
_CHUNK = 500
# Only "?" placeholders are formatted after these prefixes.
_CPE_SELECT = "SELECT repository, cpes FROM repository_cpe WHERE repository "
_RATING_SELECT = "SELECT cve, data FROM cve_rating WHERE cve "
_KEV_SELECT = "SELECT cve, date_added, due_date, ransomware, name FROM kev WHERE cve "
_EPSS_SELECT = "SELECT cve, score, percentile FROM epss WHERE cve "
_COUNTS = {
    "cve_rating": "SELECT COUNT(*) FROM cve_rating",
    "kev": "SELECT COUNT(*) FROM kev",
    "epss": "SELECT COUNT(*) FROM epss",
    "repository_cpe": "SELECT COUNT(*) FROM repository_cpe",
}


class VulnDbError(CiSecurityError):
    """The vulnerability database is missing, unreadable, or of another schema version."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One affected-package entry of one advisory, as range evaluation needs it."""

    advisory_id: str
    ecosystem: str
    ranges: tuple[AffectedRange, ...]
    versions: tuple[str, ...]
    severity: Severity
    score: float | None
    vector: str | None
    severity_source: str
    problem: str | None = None  # why this entry cannot be evaluated (Affected.problem)


@dataclass(frozen=True, slots=True)
class CveData:
    """What the database knows of one CVE beyond the advisories: CVSS rows per feed
    (`[kind, who, version, vector, score]`, NVD's feed first), the KEV entry and the EPSS score.
    """

    ratings: tuple[tuple[str, str, str, str, float], ...] = ()
    kev: KevEntry | None = None
    epss: EpssScore | None = None


def default_db_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "ci-security" / "db" / "osv.sqlite"


STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _now() -> str:
    return datetime.now(UTC).strftime(STAMP_FORMAT)


def check_schema(conn: sqlite3.Connection, path: Path) -> None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise VulnDbError(f"{path}: not a ci-security vulnerability database ({exc})") from None
    version = int(row[0]) if row and str(row[0]).isdigit() else -1
    if version > SCHEMA_VERSION:
        raise VulnDbError(
            f"{path}: database schema {version} was written by a newer ci-security (this one reads "
            f"schema {SCHEMA_VERSION}); upgrade ci-security, or rebuild the database with "
            "`ci-security db update`"
        )
    if version < SCHEMA_VERSION:
        raise VulnDbError(
            f"{path}: database schema {version} is older than this ci-security's ({SCHEMA_VERSION}); "
            "rebuild it with `ci-security db update` (or `db import`)"
        )


def _encode_ranges(
    ranges: Sequence[AffectedRange], versions: Sequence[str], problem: str | None = None
) -> str:
    doc: dict[str, Any] = {}
    if ranges:
        doc["r"] = [[r.type, [[e.kind, e.version] for e in r.events]] for r in ranges]
    if versions:
        doc["v"] = list(versions)
    if problem:
        doc["x"] = problem
    return _COMPACT.encode(doc)


def _decode_ranges(data: str) -> tuple[tuple[AffectedRange, ...], tuple[str, ...], str | None]:
    doc = json.loads(data)
    ranges = tuple(
        AffectedRange(kind, tuple(RangeEvent(k, v) for k, v in events)) for kind, events in doc.get("r", ())
    )
    return ranges, tuple(doc.get("v", ())), doc.get("x")


class VulnDB:
    """Read access to a database file (opened read-only; never modified)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise VulnDbError(
                f"no vulnerability database at {path}: run `ci-security db update` (or `db import`), "
                "pass --db PATH, or scan with --no-vulns"
            )
        try:
            self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise VulnDbError(f"{path}: cannot open the vulnerability database ({exc})") from None
        check_schema(self._conn, path)
        self._cache: dict[tuple[str, str], list[Candidate]] = {}
        self._has: dict[str, bool] = {}
        self._cve_cache: dict[str, CveData] = {}

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> VulnDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def updated(self) -> str | None:
        """When the data was last written (`db update`/`db import`), as stored, or None."""
        return self.meta("updated_at") or self.meta("built_at")

    def age_hours(self) -> float | None:
        """Hours since `updated()`, or None when the stamp is missing or unreadable."""
        stamp = self.updated()
        try:
            built = datetime.strptime(stamp or "", STAMP_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            return None
        return (datetime.now(UTC) - built).total_seconds() / 3600

    def info(self) -> DbInfo:
        sources = tuple(
            (str(name), str(origin), int(records))
            for name, origin, records in self._conn.execute(
                "SELECT name, origin, records FROM source ORDER BY name"
            )
        )
        return DbInfo(
            path=str(self.path),
            built=self.updated() or "",
            sources=sources,
            schema_version=SCHEMA_VERSION,
        )

    def source_rows(self) -> list[tuple[str, str, int, str | None, str]]:
        return [
            (str(n), str(o), int(r), m, str(i))
            for n, o, r, m, i in self._conn.execute(
                "SELECT name, origin, records, last_modified, imported_at FROM source ORDER BY name"
            )
        ]

    def count(self) -> tuple[int, int]:
        """(advisories, of which withdrawn)."""
        total, withdrawn = self._conn.execute("SELECT COUNT(*), COUNT(withdrawn) FROM advisory").fetchone()
        return int(total), int(withdrawn)

    _SELECT = (
        "SELECT f.name, f.advisory_id, f.ecosystem, f.data, f.severity, f.score, f.vector, f.severity_source "
        "FROM affected f JOIN advisory a ON a.id = f.advisory_id "
        "WHERE a.withdrawn IS NULL AND f.ecosystem = ? AND f.name "
    )

    def prefetch(self, ecosystem: str, names: Iterable[str]) -> None:
        """Load the candidates of many packages of one ecosystem in one query (a scan asks for
        hundreds; one indexed IN-query is several times cheaper than as many lookups).
        """
        wanted = sorted(
            {normalize_name(ecosystem, n) for n in names} - {n for e, n in self._cache if e == ecosystem}
        )
        for start in range(0, len(wanted), 500):  # SQLite's default limit on bound parameters is 999
            chunk = wanted[start : start + 500]
            found: dict[str, list[Candidate]] = {name: [] for name in chunk}
            placeholders = ",".join("?" * len(chunk))  # only "?" placeholders are formatted into the SQL
            rows = self._conn.execute(
                f"{self._SELECT}IN ({placeholders}) ORDER BY f.advisory_id, f.rowid",
                (ecosystem, *chunk),
            )
            for name, *row in rows:
                found[name].append(self._candidate(*row))
            for name, candidates in found.items():
                self._cache[(ecosystem, name)] = candidates

    @staticmethod
    def _candidate(
        advisory_id: str,
        eco: str,
        data: str,
        severity: str,
        score: float | None,
        vector: str | None,
        source: str,
    ) -> Candidate:
        ranges, versions, problem = _decode_ranges(data)
        return Candidate(
            advisory_id, eco, ranges, versions, Severity(severity), score, vector, source, problem
        )

    def candidates(self, ecosystem: str, name: str) -> list[Candidate]:
        """Every non-withdrawn advisory entry for a package, in a stable order."""
        key = (ecosystem, normalize_name(ecosystem, name))
        found = self._cache.get(key)
        if found is None:
            rows = self._conn.execute(f"{self._SELECT}= ? ORDER BY f.advisory_id, f.rowid", key)
            found = self._cache[key] = [self._candidate(*row) for _, *row in rows]
        return found

    def has_ecosystem(self, ecosystem: str) -> bool:
        """Whether any advisory names a package of `ecosystem` (`Debian:12`): one index probe."""
        found = self._has.get(ecosystem)
        if found is None:
            row = self._conn.execute("SELECT 1 FROM affected WHERE ecosystem = ? LIMIT 1", (ecosystem,))
            found = self._has[ecosystem] = row.fetchone() is not None
        return found

    def ecosystems(self, prefix: str = "") -> list[str]:
        """Every ecosystem the database holds entries for that starts with `prefix`, sorted."""
        rows = self._conn.execute(
            "SELECT name FROM ecosystem WHERE substr(name, 1, ?) = ? ORDER BY name", (len(prefix), prefix)
        )
        return [str(name) for (name,) in rows]

    def repository_cpes(self, repositories: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Red Hat's CPEs for each content set (repository id) the mapping knows."""
        wanted = sorted(set(repositories))
        out: dict[str, tuple[str, ...]] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            placeholders = ",".join("?" * len(chunk))
            for repository, cpes in self._conn.execute(f"{_CPE_SELECT}IN ({placeholders})", chunk):
                out[str(repository)] = tuple(json.loads(cpes))
        return out

    def cve_data(self, cves: Iterable[str]) -> dict[str, CveData]:
        """Ratings, KEV entry and EPSS score of each CVE the database knows anything of (batched)."""
        wanted = sorted({c for c in cves if c not in self._cve_cache})
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            placeholders = ",".join("?" * len(chunk))
            ratings: dict[str, list[tuple[str, str, str, str, float]]] = {}
            for cve, data in self._conn.execute(
                f"{_RATING_SELECT}IN ({placeholders}) ORDER BY cve, feed DESC", chunk
            ):
                # feed DESC: "nvd" before "cve5", so NVD's record speaks first for each kind.
                ratings.setdefault(cve, []).extend(tuple(row) for row in json.loads(data))
            kev = {
                cve: KevEntry(date_added=added, due_date=due, ransomware=ransomware, name=name or "")
                for cve, added, due, ransomware, name in self._conn.execute(
                    f"{_KEV_SELECT}IN ({placeholders})", chunk
                )
            }
            epss_date = self.meta("epss_score_date")
            epss = {
                cve: EpssScore(score=float(score), percentile=percentile, date=epss_date)
                for cve, score, percentile in self._conn.execute(f"{_EPSS_SELECT}IN ({placeholders})", chunk)
            }
            for cve in chunk:
                self._cve_cache[cve] = CveData(
                    ratings=tuple(ratings.get(cve, ())), kev=kev.get(cve), epss=epss.get(cve)
                )
        return {c: self._cve_cache[c] for c in cves if c in self._cve_cache}

    def count_rows(self, table: str) -> int:
        """Rows in one of the CVE tables (`cve_rating`, `kev`, `epss`, `repository_cpe`)."""
        return int(self._conn.execute(_COUNTS[table]).fetchone()[0])

    def record(self, advisory_id: str) -> dict[str, Any]:
        """The full OSV record of an advisory."""
        row = self._conn.execute("SELECT record FROM advisory WHERE id = ?", (advisory_id,)).fetchone()
        if row is None:
            raise VulnDbError(f"{self.path}: advisory {advisory_id} is missing")
        # A database pulled from a registry is somebody else's file: a record inflates only as far
        # as a record may be large.
        bound = limits.active().record_bytes
        try:
            inflater = zlib.decompressobj()
            text = inflater.decompress(row[0], bound + 1)
            if len(text) > bound:
                raise limits.LimitExceededError(f"{self.path}: advisory {advisory_id}", "record_bytes")
            doc = json.loads(text)
        except (zlib.error, ValueError):
            raise VulnDbError(f"{self.path}: advisory {advisory_id} is unreadable") from None
        if not isinstance(doc, dict):
            raise VulnDbError(f"{self.path}: advisory {advisory_id} is not an OSV record")
        return doc


Row = tuple[str, str, str, str, float | None, str | None, str]


class Prepared(NamedTuple):
    """One OSV record made ready for the database by `prepare` (on any process; it pickles small):
    the full record compressed, and its `affected` rows as `(ecosystem, name, data, severity,
    score, vector, severity_source)`; `ecosystems` are the base ecosystems it names (for counts),
    `where` names it in messages.
    """

    id: str
    modified: str
    withdrawn: str | None
    record: bytes
    rows: tuple[Row, ...]
    ecosystems: tuple[str, ...]
    where: str


def compressed_record(text: bytes, deflated: bytes | None = None) -> bytes:
    """A record's JSON `text` as the `advisory` table keeps it (zlib's format). With `deflated`,
    the raw deflate stream of exactly `text` (as an export's zip entry holds it), the stream is
    wrapped in zlib's header and Adler-32 instead of compressing the text a second time.
    """
    if deflated is None:
        return zlib.compress(text, 6)
    return _ZLIB_HEADER + deflated + zlib.adler32(text).to_bytes(4, "big")


def prepare(document: Any, where: str, record: bytes | None = None) -> Prepared:
    """Parse one decoded OSV record and work out everything the database stores of it: the ranges
    to evaluate and the severity of each affected package, and the compressed record (`record`
    when the caller has it already: `compressed_record` of the text `document` was decoded from).
    Pure work, no database: `db update` and `db import` run it on several processes at once.
    """
    advisory = parse_record(document, where)
    if record is None:
        record = compressed_record(json.dumps(document, separators=(",", ":"), sort_keys=True).encode())
    rows: list[Row] = []
    for affected in advisory.affected:
        info = assess(advisory, affected)
        data = _encode_ranges(affected.ranges, affected.versions, affected.problem)
        for name in indexed_names(affected):
            rows.append(
                (
                    affected.ecosystem,
                    normalize_name(affected.ecosystem, name),
                    data,
                    info.severity.value,
                    info.score,
                    info.vector,
                    info.source,
                )
            )
    texts = [advisory.id, advisory.modified, advisory.withdrawn or ""]
    texts += [text for row in rows for text in (row[0], row[1], row[6])]
    try:
        "".join(texts).encode()
    except UnicodeEncodeError:
        # JSON may escape a lone surrogate ("\ud800"); SQLite text must be valid UTF-8. The caller
        # aborts the whole update or import, so nothing of the record stays.
        raise VulnDbError(
            f"{where}: the record holds text that is not valid Unicode (a lone surrogate escape)"
        ) from None
    ecosystems = tuple(sorted({a.ecosystem.split(":", 1)[0] for a in advisory.affected}))
    return Prepared(
        advisory.id, advisory.modified, advisory.withdrawn, record, tuple(rows), ecosystems, where
    )


class DbWriter:
    """Builds a new version of a database next to it; `commit` swaps it in atomically."""

    def __init__(self, target: Path, *, fresh: bool = False) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".building", dir=target.parent)
        os.close(fd)
        self.tmp = Path(name)
        try:
            if target.exists() and not fresh:
                with contextlib.closing(sqlite3.connect(f"file:{target}?mode=ro", uri=True)) as check:
                    check_schema(check, target)
                shutil.copyfile(target, self.tmp)
                self._conn = sqlite3.connect(self.tmp, isolation_level=None)
            else:
                self.tmp.unlink()
                self._conn = sqlite3.connect(self.tmp, isolation_level=None)
                self._conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
                self._conn.executescript(_DDL)
                for sql in _INDEXES.values():
                    self._conn.execute(sql)
                self._conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                self._conn.execute("INSERT INTO meta VALUES ('built_at', ?)", (_now(),))
        except BaseException:
            self.tmp.unlink(missing_ok=True)
            raise
        # The copy is private until the rename: durability of each statement buys nothing here, and
        # no other connection ever reads it, so the cache may be large and exclusive.
        self._conn.execute("PRAGMA journal_mode=OFF")
        self._conn.execute("PRAGMA synchronous=OFF")
        self._conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        self._conn.execute("PRAGMA cache_size=-65536")  # KiB: 64 MiB
        self._conn.execute("BEGIN")
        # In a bulk load (`bulk`): every id held and its `modified`, so the newest-wins check needs
        # no query per record; None outside one.
        self._known: dict[str, str] | None = None

    def modified_of(self, advisory_id: str) -> str | None:
        row = self._conn.execute("SELECT modified FROM advisory WHERE id = ?", (advisory_id,)).fetchone()
        return str(row[0]) if row else None

    def latest_modified(self, source: str) -> str | None:
        row = self._conn.execute("SELECT last_modified FROM source WHERE name = ?", (source,)).fetchone()
        return str(row[0]) if row and row[0] else None

    def meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        if value is None:
            self._conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def put_cve_ratings(
        self, feed: str, cve: str, modified: str | None, rows: Sequence[Sequence[Any]]
    ) -> bool:
        """Store the CVSS rows of one CVE from `feed` ("nvd", "cve5"), replacing what that feed said
        before, unless the held record is newer; a record without rows forgets the old ones.
        """
        held = self._conn.execute(
            "SELECT modified FROM cve_rating WHERE cve = ? AND feed = ?", (cve, feed)
        ).fetchone()
        if held is not None and held[0] and modified and str(held[0]) > modified:
            return False
        self._conn.execute("DELETE FROM cve_rating WHERE cve = ? AND feed = ?", (cve, feed))
        if rows:
            data = json.dumps([list(r) for r in rows], separators=(",", ":"))
            self._conn.execute("INSERT INTO cve_rating VALUES (?, ?, ?, ?)", (cve, feed, modified, data))
        return True

    def clear_cve_ratings(self, feed: str) -> None:
        self._conn.execute("DELETE FROM cve_rating WHERE feed = ?", (feed,))

    def cve_rating_count(self, feed: str) -> int:
        return int(
            self._conn.execute("SELECT COUNT(*) FROM cve_rating WHERE feed = ?", (feed,)).fetchone()[0]
        )

    def replace_kev(self, entries: Iterable[tuple[str, KevEntry]]) -> int:
        """The KEV catalogue, replaced whole (it is small and published whole)."""
        self._conn.execute("DELETE FROM kev")
        rows = [(cve, e.date_added, e.due_date, e.ransomware, e.name) for cve, e in entries]
        self._conn.executemany("INSERT OR REPLACE INTO kev VALUES (?, ?, ?, ?, ?)", rows)
        return len(rows)

    def replace_epss(self, rows: Iterable[tuple[str, float, float | None]]) -> int:
        """EPSS scores, replaced whole (every day's file scores every CVE again)."""
        self._conn.execute("DELETE FROM epss")
        count = 0
        batch: list[tuple[str, float, float | None]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 10_000:
                self._conn.executemany("INSERT OR REPLACE INTO epss VALUES (?, ?, ?)", batch)
                count += len(batch)
                batch.clear()
        self._conn.executemany("INSERT OR REPLACE INTO epss VALUES (?, ?, ?)", batch)
        return count + len(batch)

    def replace_repository_cpes(self, mapping: Mapping[str, Sequence[str]]) -> int:
        self._conn.execute("DELETE FROM repository_cpe")
        self._conn.executemany(
            "INSERT INTO repository_cpe VALUES (?, ?)",
            [(repo, json.dumps(list(cpes), separators=(",", ":"))) for repo, cpes in sorted(mapping.items())],
        )
        return len(mapping)

    def remove_source(self, source: str) -> None:
        """Forget every advisory last written by `source` (before a full refresh of it)."""
        if self._known is not None:
            for (advisory_id,) in self._conn.execute("SELECT id FROM advisory WHERE source = ?", (source,)):
                self._known.pop(advisory_id, None)
        self._conn.execute(
            "DELETE FROM affected WHERE advisory_id IN (SELECT id FROM advisory WHERE source = ?)", (source,)
        )
        self._conn.execute("DELETE FROM advisory WHERE source = ?", (source,))

    def bulk(self) -> None:
        """Enter bulk-load mode for the rest of this writer's life (a full refresh, an import of an
        export): the `affected` indexes are dropped until the commit builds them again, and the ids
        held are loaded once, so storing a record costs no lookup.
        """
        if self._known is not None:
            return
        for name in _INDEXES:
            self._conn.execute(f"DROP INDEX IF EXISTS {name}")  # names from the table above only
        self._known = {str(i): str(m) for i, m in self._conn.execute("SELECT id, modified FROM advisory")}

    def _forget_rows(self, advisory_id: str) -> None:
        if self._known is not None:
            # Replacing a record in a bulk load: the delete needs the index by advisory (built once,
            # then kept up to date; without it each delete would read the whole table).
            self._conn.execute(_INDEXES["affected_by_advisory"])
        self._conn.execute("DELETE FROM affected WHERE advisory_id = ?", (advisory_id,))

    def add(self, advisory: Advisory, document: Any, source: str, *, where: str | None = None) -> bool:
        """Insert or replace one record unless the database already has a newer one of that id.

        `where` names the record in errors; `advisory` is `document` parsed, and `prepare` parses it
        again, which costs little for the one-at-a-time callers (feeds, incremental updates).
        """
        return bool(self.add_prepared([prepare(document, where or repr(advisory.id))], source))

    def add_prepared(self, items: Iterable[Prepared], source: str) -> list[Prepared]:
        """Store prepared records in order, each unless the database (or an earlier item) holds a
        newer one of its id; returns the ones stored. Rows go in with one statement per batch.
        """
        stored: list[Prepared] = []
        pending: dict[str, str] = {}
        advisories: list[tuple[str, str, str, str | None, bytes]] = []
        rows: list[tuple[Any, ...]] = []
        names: list[str] = []

        def flush() -> None:
            try:
                self._conn.executemany("INSERT OR REPLACE INTO advisory VALUES (?, ?, ?, ?, ?)", advisories)
                self._conn.executemany("INSERT INTO affected VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            except UnicodeEncodeError:  # `prepare` checked the text; this is the last line of defence
                first, last = names[0], names[-1]
                raise VulnDbError(
                    f"{first} … {last}: one of these records holds text that is not valid Unicode"
                ) from None
            advisories.clear()
            rows.clear()
            pending.clear()
            names.clear()

        for item in items:
            held = pending.get(item.id)
            if held is None:
                held = self._known.get(item.id) if self._known is not None else self.modified_of(item.id)
            if held is not None:
                if held > item.modified:
                    continue
                flush()  # the rows to forget may still be waiting in this batch
                self._forget_rows(item.id)
            pending[item.id] = item.modified
            if self._known is not None:
                self._known[item.id] = item.modified
            advisories.append((item.id, source, item.modified, item.withdrawn, item.record))
            names.append(item.where)
            rows.extend((item.id, *row) for row in item.rows)
            stored.append(item)
            if len(rows) >= 20_000:
                flush()
        flush()
        return stored

    def set_source(self, name: str, origin: str, records: int, last_modified: str | None) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO source VALUES (?, ?, ?, ?, ?)",
            (name, origin, records, last_modified, _now()),
        )

    def source_count(self, source: str) -> int:
        row = self._conn.execute("SELECT COUNT(*) FROM advisory WHERE source = ?", (source,)).fetchone()
        return int(row[0])

    def commit(self) -> None:
        """Make the new database the live one (an atomic rename over the old file)."""
        try:
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('updated_at', ?)", (_now(),))
            for sql in _INDEXES.values():
                self._conn.execute(sql)
            self._conn.execute("DELETE FROM ecosystem")
            self._conn.execute(
                "INSERT INTO ecosystem SELECT ecosystem, COUNT(*) FROM affected GROUP BY ecosystem"
            )
            self._conn.execute("COMMIT")
            self._conn.execute("ANALYZE")
            self._conn.close()
            self.tmp.chmod(0o644)
            self.tmp.replace(self.target)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()
        self.tmp.unlink(missing_ok=True)


def _binaries(affected: Affected) -> dict[str, str]:
    """`ecosystem_specific.binaries` of a SUSE entry: binary RPM name → its version."""
    found = json_object(affected.ecosystem_specific).get("binaries")
    out: dict[str, str] = {}
    for item in found if isinstance(found, list) else ():
        if isinstance(item, dict):
            out.update({str(k): str(v) for k, v in item.items() if isinstance(k, str) and isinstance(v, str)})
    return out


def indexed_names(affected: Affected) -> list[str]:
    """The names an entry is found by: its own, and for SUSE's records the binary RPMs built from it
    (`ecosystem_specific.binaries`). SUSE lists the binaries of the whole advisory on every entry, each
    with its own version, so a binary belongs to the entries whose fixed version it carries.
    """
    names = [affected.name]
    binaries = _binaries(affected)
    if binaries:
        fixed = {e.version for r in affected.ranges for e in r.events if e.kind == "fixed"}
        for binary, version in sorted(binaries.items()):
            if binary not in names and (not fixed or version in fixed):
                names.append(binary)
    return names
