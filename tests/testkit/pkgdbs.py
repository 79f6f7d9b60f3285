"""Package databases written in their real formats, for the bound and fuzz tests and the hostile
corpus: rpm header blobs and the SQLite database rpm keeps them in, Java archives, and the
continuation-line shapes that made line-oriented parsers quadratic. Everything is generated here;
nothing is copied from a distribution.
"""

from __future__ import annotations

import io
import sqlite3
import struct
import tempfile
import zipfile
from pathlib import Path

RpmEntry = tuple[int, int, bytes, int]  # tag, type, raw value, count

TYPE_INT32 = 4
TYPE_STRING = 6
TYPE_STRING_ARRAY = 8
TAG_NAME, TAG_VERSION, TAG_RELEASE = 1000, 1001, 1002
TAG_DIRINDEXES, TAG_BASENAMES, TAG_DIRNAMES = 1116, 1117, 1118


def rpm_blob(entries: list[RpmEntry]) -> bytes:
    """An rpm header in the "immutable region" form the databases store; each value is placed at
    the next offset aligned for its type.
    """
    index = b""
    data = b""
    for tag, typ, raw, count in entries:
        align = {3: 2, 4: 4, 5: 8}.get(typ, 1)
        data += b"\0" * (-len(data) % align)
        index += struct.pack(">IIII", tag, typ, len(data), count)
        data += raw
    return struct.pack(">II", len(entries), len(data)) + index + data


def _string(text: str) -> bytes:
    return text.encode() + b"\0"


def rpm_package(
    name: str,
    version: str = "1.0",
    release: str = "1",
    *,
    dirnames: list[str] | None = None,
    basenames: list[str] | None = None,
    dirindexes: list[int] | None = None,
) -> bytes:
    """A header blob for one package, with an installed-files list when given."""
    entries: list[RpmEntry] = [
        (TAG_NAME, TYPE_STRING, _string(name), 1),
        (TAG_VERSION, TYPE_STRING, _string(version), 1),
        (TAG_RELEASE, TYPE_STRING, _string(release), 1),
    ]
    if basenames is not None:
        dirs = dirnames or ["/"]
        indexes = dirindexes if dirindexes is not None else [0] * len(basenames)
        entries += [
            (TAG_DIRINDEXES, TYPE_INT32, struct.pack(f">{len(indexes)}I", *indexes), len(indexes)),
            (TAG_BASENAMES, TYPE_STRING_ARRAY, b"".join(map(_string, basenames)), len(basenames)),
            (TAG_DIRNAMES, TYPE_STRING_ARRAY, b"".join(map(_string, dirs)), len(dirs)),
        ]
    return rpm_blob(entries)


def long_dirname_header(files: int = 40_000, dirname_bytes: int = 128 << 10) -> bytes:
    """The header that took 5 GB: `files` base names that all share one directory name of
    `dirname_bytes` (about 500 KB of blob; joining every path would take files x dirname_bytes).
    """
    dirname = "/" + "d" * (dirname_bytes - 2) + "/"
    return rpm_package("longdir", basenames=[f"f{i}" for i in range(files)], dirnames=[dirname])


def rpm_sqlite(blobs: list[bytes]) -> bytes:
    """An `rpmdb.sqlite` holding `blobs` in rpm's `Packages` table, as bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rpmdb.sqlite"
        conn = sqlite3.connect(path)
        try:
            conn.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
            conn.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
            conn.commit()
        finally:
            conn.close()
        return path.read_bytes()


def jar(entries: dict[str, bytes]) -> bytes:
    """A Java archive (a deflated zip) holding `entries`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def manifest_with_continuations(count: int) -> bytes:
    """A MANIFEST.MF whose `Implementation-Version` continues for `count` one-character lines."""
    return b"Manifest-Version: 1.0\r\nImplementation-Version: 1" + b"\r\n 0" * count + b"\r\n\r\n"


def dpkg_continuations(count: int, width: int = 1) -> bytes:
    """A dpkg status stanza whose kept `Version` field continues for `count` lines of `width`
    characters (appending each to the value copies count x count x width / 2 bytes in all).
    """
    line = b"\n " + b"x" * width
    return b"Package: quadratic\nStatus: install ok installed\nVersion: 1" + line * count + b"\n\n"


def metadata_continuations(count: int) -> bytes:
    """A METADATA file whose `Summary` header continues for `count` short lines."""
    return b"Metadata-Version: 2.1\nName: quadratic\nVersion: 1.0\nSummary: s" + b"\n x" * count + b"\n\n"


def dpkg_entries(count: int) -> bytes:
    """A dpkg status file of `count` minimal installed packages."""
    return b"".join(b"Package: p%d\nStatus: install ok installed\nVersion: 1\n\n" % i for i in range(count))
