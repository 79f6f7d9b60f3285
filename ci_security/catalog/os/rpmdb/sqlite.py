"""rpm's SQLite database: `rpmdb.sqlite` (RHEL 9, Fedora 33+, Amazon Linux 2023, CBL-Mariner 2).

The `Packages` table is `(hnum INTEGER PRIMARY KEY, blob BLOB)`: one header blob per package, keyed by
its header number; rpm lists packages in `hnum` order, so that is the storage order here too. The
other tables (Name, Basenames, ...) are indexes rpm can rebuild and are not read.

rpm keeps the database in WAL mode. An ordinary read-only connection to a WAL database still creates
`-wal` and `-shm` files beside it (and fails where the directory is read-only), so the file is opened
with `immutable=1`: SQLite then takes no locks, creates nothing and reads the main file as it is. A
WAL file is never part of the input anyway; the cataloger is handed the main file alone.

SQLite reads a page past the end of a truncated file as zeros and only complains if a query needs
it, so a database cut short could silently lose packages. The file header records the database size
in pages (trusted when its change counter matches the "version valid for" field, as SQLite does), and
a file shorter than that is refused up front.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from collections.abc import Iterator
from pathlib import Path

from ci_security import limits
from ci_security.catalog.bounded import check_size
from ci_security.errors import CatalogError

# A corrupt schema can make SQLite's own error message undecodable, which surfaces as a ValueError.
_ERRORS = (sqlite3.Error, ValueError)


def _uri(path: Path) -> str:
    # as_uri() percent-encodes the path, so `?` or `#` in a directory name cannot become URI syntax.
    return path.resolve().as_uri() + "?mode=ro&immutable=1"


def _check_size(path: Path) -> None:
    with open(path, "rb") as f:
        header = f.read(100)
        size = os.fstat(f.fileno()).st_size
    if len(header) < 100:
        raise CatalogError(f"SQLite file truncated: {size} bytes, shorter than its 100-byte header")
    (raw_page_size,) = struct.unpack_from(">H", header, 16)
    page_size = 65536 if raw_page_size == 1 else raw_page_size
    change_counter, pages = struct.unpack_from(">II", header, 24)
    (valid_for,) = struct.unpack_from(">I", header, 92)
    if pages and change_counter == valid_for and size < pages * page_size:
        raise CatalogError(f"SQLite file truncated: header says {pages * page_size} bytes, file has {size}")


def iter_blobs(path: Path) -> Iterator[bytes]:
    """Yield the header blobs of `path` in `hnum` order; `CatalogError` if it is not an rpm database."""
    _check_size(path)
    try:
        conn = sqlite3.connect(_uri(path), uri=True)
    except _ERRORS as exc:
        raise CatalogError(f"cannot open rpm SQLite database: {exc}") from exc
    try:
        try:
            # SQLite knows a blob's length without reading it: one over the limit is never fetched.
            cursor = conn.execute(
                "SELECT hnum, CASE WHEN length(blob) <= ? THEN blob END, length(blob) "
                "FROM Packages ORDER BY hnum",
                (limits.active().metadata_bytes,),
            )
        except _ERRORS as exc:
            raise CatalogError(f"not an rpm SQLite database: {exc}") from exc
        while True:
            try:
                row = cursor.fetchone()
            except _ERRORS as exc:
                raise CatalogError(f"corrupt rpm SQLite database: {exc}") from exc
            if row is None:
                return
            hnum, blob, length = row
            if blob is None and isinstance(length, int):
                check_size(length, f"rpm SQLite row {hnum}")
            if not isinstance(blob, bytes):
                raise CatalogError(f"rpm SQLite row {hnum}: blob is {type(blob).__name__}, not bytes")
            yield blob
    finally:
        conn.close()
