import contextlib
import random
import shutil
import sqlite3
import struct
from pathlib import Path

import pytest

from ci_security.catalog.base import CatalogInput, CatalogOutput
from ci_security.catalog.os.rpm import RpmCataloger
from ci_security.catalog.os.rpmdb import bdb, ndb, sqlite
from ci_security.catalog.os.rpmdb.header import parse_header
from ci_security.errors import CatalogError
from ci_security.models import Package

SQLITE_FIXTURES = ("cbl-mariner-2.0-rpmdb.sqlite", "amazonlinux2023-rpmdb.sqlite")


def catalog_bytes(data: bytes, tmp_path: Path, path: str = "var/lib/rpm/Packages") -> CatalogOutput:
    src = tmp_path / "input"
    src.write_bytes(data)
    return catalog_file(src, tmp_path, path)


def catalog_file(src: Path, tmp_path: Path, path: str) -> CatalogOutput:
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    try:
        with open(src, "rb") as stream:
            return RpmCataloger().catalog(
                CatalogInput(path=path, size=src.stat().st_size, stream=stream, tmpdir=scratch)
            )
    finally:
        # The spooled copy is removed whether or not parsing succeeded, and SQLite left nothing behind.
        assert list(scratch.iterdir()) == []


def catalog_fixture(pkgdb: Path, tmp_path: Path, name: str, path: str) -> tuple[Package, ...]:
    return catalog_file(pkgdb / "rpm" / name, tmp_path, path).packages


def by_name(packages: tuple[Package, ...], name: str) -> Package:
    (found,) = [p for p in packages if p.name == name]
    return found


def test_contract():
    cataloger = RpmCataloger()
    assert cataloger.name == "os/rpm"
    assert cataloger.version == 2
    assert cataloger.kind == "os-packages"
    assert cataloger.max_file_size == 2 << 30


@pytest.mark.parametrize(
    "path",
    [
        "var/lib/rpm/Packages",
        "var/lib/rpm/Packages.db",
        "var/lib/rpm/rpmdb.sqlite",
        "usr/lib/sysimage/rpm/Packages",
        "usr/lib/sysimage/rpm/Packages.db",
        "usr/lib/sysimage/rpm/rpmdb.sqlite",
    ],
)
def test_wants_the_rpm_databases(path: str):
    assert RpmCataloger().file_required(path, 0o644)


@pytest.mark.parametrize(
    "path",
    [
        "/var/lib/rpm/Packages",
        "var/lib/rpm/Name",
        "var/lib/rpm/rpmdb.sqlite-wal",
        "var/lib/rpm/rpmdb.sqlite-shm",
        "var/lib/rpm/Packages.bak",
        "root/var/lib/rpm/Packages",
        "var/lib/rpmmanifest/container-manifest-2",
        "usr/share/rpm/Packages",
    ],
)
def test_ignores_other_files(path: str):
    assert not RpmCataloger().file_required(path, 0o644)


def test_ndb_sle15(pkgdb: Path, tmp_path: Path):
    packages = catalog_fixture(pkgdb, tmp_path, "sle15-bci-Packages.db", "usr/lib/sysimage/rpm/Packages.db")
    assert len(packages) == 35
    assert all(p.epoch is None for p in packages)
    assert packages[0] == Package(
        name="system-user-root",
        version="20190513-3.3.1",
        type="rpm",
        arch="noarch",
        epoch=None,
        source_name="system-user-root",
        source_version="20190513-3.3.1",
        licenses=("MIT",),
        path="/usr/lib/sysimage/rpm/Packages.db",
    )
    libstdcxx = by_name(packages, "libstdc++6")
    assert (libstdcxx.version, libstdcxx.arch) == ("11.2.1+git610-1.3.9", "x86_64")
    assert (libstdcxx.source_name, libstdcxx.source_version) == ("gcc11", "11.2.1+git610-1.3.9")
    last = packages[-1]
    assert (last.name, last.version, last.arch) == ("rpm-ndb", "4.14.3-40.1", "x86_64")
    assert (last.source_name, last.source_version) == ("rpm-ndb", "4.14.3-40.1")
    glibc = by_name(packages, "glibc")
    assert (glibc.version, glibc.arch, glibc.source_name) == ("2.31-9.3.2", "x86_64", "glibc")


def test_ndb_sle15_vendor(pkgdb: Path):
    headers = [parse_header(b) for b in ndb.iter_blobs(pkgdb / "rpm" / "sle15-bci-Packages.db")]
    (glibc,) = [h for h in headers if h.name == "glibc"]
    assert glibc.vendor == "SUSE LLC <https://www.suse.com/>"


def test_sqlite_cbl_mariner(pkgdb: Path, tmp_path: Path):
    packages = catalog_fixture(pkgdb, tmp_path, "cbl-mariner-2.0-rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite")
    assert len(packages) == 129
    assert all(p.type == "rpm" and p.path == "/var/lib/rpm/rpmdb.sqlite" for p in packages)
    first = packages[0]
    assert (first.name, first.version, first.arch, first.epoch) == (
        "mariner-release",
        "2.0-4.cm2",
        "noarch",
        None,
    )
    assert (first.source_name, first.source_version) == ("mariner-release", "2.0-4.cm2")
    curl = by_name(packages, "curl")
    assert curl == Package(
        name="curl",
        version="7.76.0-6.cm2",
        type="rpm",
        arch="x86_64",
        source_name="curl",
        source_version="7.76.0-6.cm2",
        licenses=("MIT",),
        path="/var/lib/rpm/rpmdb.sqlite",
    )
    tools = by_name(packages, "ca-certificates-tools")
    assert (tools.version, tools.epoch, tools.arch) == ("1:2.0.0-1.cm2", 1, "noarch")
    assert (tools.source_name, tools.source_version) == ("ca-certificates", "2.0.0-1.cm2")
    assert sum(p.epoch == 1 for p in packages) == 3
    assert all(p.epoch in (None, 1) for p in packages)
    last = packages[-1]
    assert (last.name, last.version, last.arch) == ("sqlite", "3.34.1-2.cm2", "x86_64")


def read_rpm_qa(path: Path) -> list[list[str]]:
    rows = [line.split("¶") for line in path.read_text(encoding="utf-8").splitlines()]
    assert all(len(row) == 11 for row in rows)
    return rows


def test_sqlite_amazonlinux2023_matches_rpm_qa(pkgdb: Path, tmp_path: Path):
    rows = read_rpm_qa(pkgdb / "rpm" / "amazonlinux2023-rpm-qa.txt")
    assert len(rows) == 103
    # Header level: every stored header, gpg-pubkey included, in storage order.
    headers = [parse_header(b) for b in sqlite.iter_blobs(pkgdb / "rpm" / "amazonlinux2023-rpmdb.sqlite")]
    decoded = [
        [
            str(h.epoch) if h.epoch is not None else "",
            h.name,
            h.version,
            h.release,
            h.arch or "",
            h.source_rpm,
        ]
        for h in headers
    ]
    assert decoded == [row[:6] for row in rows]

    packages = catalog_fixture(pkgdb, tmp_path, "amazonlinux2023-rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite")
    real = [row for row in rows if row[1] != "gpg-pubkey"]
    assert len(packages) == len(real) == 102
    for package, (epoch, name, version, release, arch, sourcerpm, *_) in zip(packages, real, strict=True):
        src_name, src_version, src_release = sourcerpm.removesuffix(".src.rpm").rsplit("-", 2)
        assert package.name == name
        assert package.epoch == (int(epoch) if epoch else None)
        assert package.version == (f"{epoch}:" if epoch else "") + f"{version}-{release}"
        assert package.arch == arch
        assert (package.source_name, package.source_version) == (src_name, f"{src_version}-{src_release}")
    assert packages[0].name == "crypto-policies"
    assert packages[0].version == "20220428-1.gitdfb10ea.amzn2023.0.2"
    assert by_name(packages, "openssl-libs").version == "1:3.0.8-1.amzn2023.0.4"
    assert by_name(packages, "bash").version == "5.2.15-1.amzn2023.0.2"
    assert {p.name for p in packages if p.epoch is not None} == {"openssl-libs", "gmp", "gdbm-libs"}


def test_bdb_ubi8_libuuid(pkgdb: Path, tmp_path: Path):
    packages = catalog_fixture(pkgdb, tmp_path, "ubi8-libuuid-Packages", "var/lib/rpm/Packages")
    assert packages == (
        Package(
            name="libuuid",
            version="2.32.1-42.el8_8",
            type="rpm",
            arch="x86_64",
            source_name="util-linux",
            source_version="2.32.1-42.el8_8",
            licenses=("BSD",),
            path="/var/lib/rpm/Packages",
        ),
    )


def test_bdb_centos8_dive(pkgdb: Path, tmp_path: Path):
    packages = catalog_fixture(pkgdb, tmp_path, "centos8-dive-Packages", "var/lib/rpm/Packages")
    assert packages == (
        Package(
            name="dive",
            version="0.9.2-1",
            type="rpm",
            arch="x86_64",
            source_name="dive",
            source_version="0.9.2-1",
            licenses=("MIT",),
            path="/var/lib/rpm/Packages",
        ),
    )
    (header,) = [parse_header(b) for b in bdb.iter_blobs(pkgdb / "rpm" / "centos8-dive-Packages")]
    assert (header.vendor, header.size) == (None, 12406784)


def test_format_is_told_by_magic_not_name(pkgdb: Path, tmp_path: Path):
    packages = catalog_fixture(pkgdb, tmp_path, "sle15-bci-Packages.db", "var/lib/rpm/rpmdb.sqlite")
    assert len(packages) == 35


def test_modularity_label_is_carried(tmp_path: Path):
    def entry(tag: int, text: str) -> tuple[int, bytes]:
        return tag, text.encode() + b"\0"

    values = [
        entry(1000, "nodejs"),
        entry(1001, "18.18.2"),
        entry(1002, "2.module+el8.9.0+20473+c4e3d824"),
        entry(1044, "nodejs-18.18.2-2.module+el8.9.0+20473+c4e3d824.src.rpm"),
        entry(5096, "nodejs:18:8090020231025152221:a75119d5"),
    ]
    index, data = b"", b""
    for tag, raw in values:
        index += struct.pack(">IIII", tag, 6, len(data), 1)
        data += raw
    blob = struct.pack(">II", len(values), len(data)) + index + data
    db = tmp_path / "rpmdb.sqlite"
    make_sqlite(db, [blob])
    (package,) = catalog_file(db, tmp_path, "var/lib/rpm/rpmdb.sqlite").packages
    assert package.modularity_label == "nodejs:18:8090020231025152221:a75119d5"
    assert package.licenses == ()
    assert (package.source_name, package.source_version) == (
        "nodejs",
        "18.18.2-2.module+el8.9.0+20473+c4e3d824",
    )


def test_gpg_pubkey_only_database_is_empty(tmp_path: Path):
    index = b"".join(struct.pack(">IIII", tag, 6, off, 1) for tag, off in ((1000, 0), (1001, 11), (1002, 20)))
    data = b"gpg-pubkey\0d832c631\x0063977702\0"
    db = tmp_path / "rpmdb.sqlite"
    make_sqlite(db, [struct.pack(">II", 3, len(data)) + index + data])
    assert catalog_file(db, tmp_path, "var/lib/rpm/rpmdb.sqlite").packages == ()


def test_empty_file_is_an_empty_database(tmp_path: Path):
    assert catalog_bytes(b"", tmp_path).packages == ()


# --- SQLite side effects -------------------------------------------------------------------


@pytest.mark.parametrize("name", SQLITE_FIXTURES)
def test_reading_sqlite_leaves_no_wal_or_shm(pkgdb: Path, tmp_path: Path, name: str):
    fixture = pkgdb / "rpm" / name
    assert sum(1 for _ in sqlite.iter_blobs(fixture)) > 100
    assert not fixture.with_name(name + "-wal").exists()
    assert not fixture.with_name(name + "-shm").exists()
    # The same in a writable directory, where SQLite could have created them.
    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()
    copy = copy_dir / name
    shutil.copyfile(fixture, copy)
    assert sum(1 for _ in sqlite.iter_blobs(copy)) > 100
    assert [p.name for p in copy_dir.iterdir()] == [name]


# --- corrupt input -------------------------------------------------------------------------


def make_sqlite(path: Path, blobs: list[object]) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
        conn.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
        conn.commit()
    finally:
        conn.close()


def test_sqlite_with_an_out_of_bounds_header_is_refused(tmp_path: Path):
    index = struct.pack(">IIII", 1000, 6, 4096, 1)  # NAME at offset 4096 in a 4-byte data store
    db = tmp_path / "rpmdb.sqlite"
    make_sqlite(db, [struct.pack(">II", 1, 4) + index + b"abc\0"])
    with pytest.raises(CatalogError, match=r"package record 1: .*points outside"):
        catalog_file(db, tmp_path, "var/lib/rpm/rpmdb.sqlite")


def test_sqlite_without_packages_table_is_refused(tmp_path: Path):
    db = tmp_path / "other.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(CatalogError, match="not an rpm SQLite database"):
        catalog_file(db, tmp_path, "var/lib/rpm/rpmdb.sqlite")


def test_sqlite_with_text_blob_is_refused(tmp_path: Path):
    db = tmp_path / "rpmdb.sqlite"
    make_sqlite(db, ["not a blob"])
    with pytest.raises(CatalogError, match="not bytes"):
        catalog_file(db, tmp_path, "var/lib/rpm/rpmdb.sqlite")


def test_unknown_format_is_refused(tmp_path: Path):
    with pytest.raises(CatalogError, match="not an rpm database"):
        catalog_bytes(b"hello, world\n" * 100, tmp_path)


ALL_DBS = (
    "sle15-bci-Packages.db",
    "cbl-mariner-2.0-rpmdb.sqlite",
    "amazonlinux2023-rpmdb.sqlite",
    "ubi8-libuuid-Packages",
    "centos8-dive-Packages",
)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ALL_DBS)
def test_truncated_databases_are_refused(pkgdb: Path, tmp_path: Path, name: str):
    data = (pkgdb / "rpm" / name).read_bytes()
    for length in sorted(
        {1, 15, 16, 20, 100, 4095, 4096, 4097, 8192, len(data) // 2, len(data) - 4096, len(data) - 1}
    ):
        with pytest.raises(CatalogError):
            catalog_bytes(data[:length], tmp_path)


@pytest.mark.timeout(60)
def test_random_bytes_are_refused(tmp_path: Path):
    rng = random.Random(7)
    prefixes = [
        b"",
        b"SQLite format 3\0",
        b"RpmP\0\0\0\0\1\0\0\0\1\0\0\0",
        bytes(12) + struct.pack("<I", bdb.HASH_MAGIC),
        bytes(12) + struct.pack(">I", bdb.HASH_MAGIC),
    ]
    for prefix in prefixes:
        for size in (1, 5, 100, 4096, 20000):
            with pytest.raises(CatalogError):
                catalog_bytes(prefix + rng.randbytes(size), tmp_path)


def bdb_overflow_ref(data: bytes) -> tuple[int, int, int]:
    """(page size, file offset of the overflow reference, its first page) in a little-endian BDB fixture."""
    pagesize, last_pgno = struct.unpack_from("<I", data, 20)[0], struct.unpack_from("<I", data, 32)[0]
    for pgno in range(1, last_pgno + 1):
        base = pgno * pagesize
        if data[base + 25] == 13:
            entries = struct.unpack_from("<H", data, base + 20)[0]
            for i in range(1, entries, 2):
                item = base + struct.unpack_from("<H", data, base + 26 + 2 * i)[0]
                if data[item] == 3:
                    return pagesize, item, struct.unpack_from("<I", data, item + 4)[0]
    raise AssertionError("no overflow item")


@pytest.mark.timeout(30)
def test_bdb_overflow_loop_is_refused(pkgdb: Path, tmp_path: Path):
    data = bytearray((pkgdb / "rpm" / "ubi8-libuuid-Packages").read_bytes())
    pagesize, _, first = bdb_overflow_ref(bytes(data))
    struct.pack_into("<I", data, first * pagesize + 16, first)  # the chain now points at itself
    with pytest.raises(CatalogError, match="overflow chain"):
        catalog_bytes(bytes(data), tmp_path)


def test_bdb_overflow_pointing_outside_the_file_is_refused(pkgdb: Path, tmp_path: Path):
    data = bytearray((pkgdb / "rpm" / "centos8-dive-Packages").read_bytes())
    _, ref, _ = bdb_overflow_ref(bytes(data))
    struct.pack_into("<I", data, ref + 4, 0xFFFFFFFF)
    with pytest.raises(CatalogError, match="overflow chain"):
        catalog_bytes(bytes(data), tmp_path)


def test_bdb_overflow_length_beyond_the_chain_is_refused(pkgdb: Path, tmp_path: Path):
    data = bytearray((pkgdb / "rpm" / "centos8-dive-Packages").read_bytes())
    _, ref, _ = bdb_overflow_ref(bytes(data))
    struct.pack_into("<I", data, ref + 8, 4000)  # one page holds 1324 bytes and has no successor
    with pytest.raises(CatalogError, match="overflow chain"):
        catalog_bytes(bytes(data), tmp_path)


def test_bdb_huge_page_count_is_refused(pkgdb: Path, tmp_path: Path):
    data = bytearray((pkgdb / "rpm" / "ubi8-libuuid-Packages").read_bytes())
    struct.pack_into("<I", data, 32, 0xFFFFFFFF)
    with pytest.raises(CatalogError, match="truncated"):
        catalog_bytes(bytes(data), tmp_path)


def test_bdb_big_endian_file_is_read(pkgdb: Path, tmp_path: Path):
    # Byte-swap every BDB integer of the little-endian fixture; the rpm header blob stays big-endian.
    data = bytearray((pkgdb / "rpm" / "centos8-dive-Packages").read_bytes())
    pagesize, last_pgno = struct.unpack_from("<I", data, 20)[0], struct.unpack_from("<I", data, 32)[0]

    def swap(offset: int, fmt: str) -> None:
        struct.pack_into(">" + fmt, data, offset, struct.unpack_from("<" + fmt, data, offset)[0])

    for offset in (8, 12, 16, 20, 28, 32):
        swap(offset, "I")
    for pgno in range(1, last_pgno + 1):
        base = pgno * pagesize
        page_type = data[base + 25]
        for offset in (8, 12, 16):
            swap(base + offset, "I")
        entries = struct.unpack_from("<H", data, base + 20)[0]
        swap(base + 20, "H")
        swap(base + 22, "H")
        if page_type == 13:
            for i in range(entries):
                item = struct.unpack_from("<H", data, base + 26 + 2 * i)[0]
                swap(base + 26 + 2 * i, "H")
                if data[base + item] == 3:
                    swap(base + item + 4, "I")
                    swap(base + item + 8, "I")
    (package,) = catalog_bytes(bytes(data), tmp_path).packages
    assert (package.name, package.version) == ("dive", "0.9.2-1")


def test_ndb_slot_past_the_end_is_refused(pkgdb: Path, tmp_path: Path):
    data = bytearray((pkgdb / "rpm" / "sle15-bci-Packages.db").read_bytes())
    struct.pack_into("<I", data, 32 + 8, len(data) // 16)  # first slot's block offset: the end of file
    with pytest.raises(CatalogError, match="past the end"):
        catalog_bytes(bytes(data), tmp_path)


def test_ndb_blob_with_bad_magic_is_refused(pkgdb: Path, tmp_path: Path):
    data = bytearray((pkgdb / "rpm" / "sle15-bci-Packages.db").read_bytes())
    blkoff = struct.unpack_from("<I", data, 32 + 8)[0]
    data[blkoff * 16 : blkoff * 16 + 4] = b"XXXX"
    with pytest.raises(CatalogError, match="bad head"):
        catalog_bytes(bytes(data), tmp_path)


def test_ndb_huge_slot_page_count_is_refused(pkgdb: Path, tmp_path: Path):
    data = bytearray((pkgdb / "rpm" / "sle15-bci-Packages.db").read_bytes())
    struct.pack_into("<I", data, 12, 0xFFFFFFFF)
    with pytest.raises(CatalogError, match="slot pages"):
        catalog_bytes(bytes(data), tmp_path)


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("name", "rounds"), [(n, 20 if n.endswith(".sqlite") else 150) for n in ALL_DBS])
def test_mutated_databases_raise_nothing_but_catalog_error(
    pkgdb: Path, tmp_path: Path, name: str, rounds: int
):
    original = (pkgdb / "rpm" / name).read_bytes()
    rng = random.Random(name)
    for _ in range(rounds):
        data = bytearray(original)
        for _ in range(rng.randrange(1, 20)):
            # Bias towards the first pages, where the metadata, slots and index entries live.
            limit = len(data) if rng.random() < 0.5 else min(len(data), 16384)
            data[rng.randrange(limit)] = rng.randrange(256)
        with contextlib.suppress(CatalogError):
            catalog_bytes(bytes(data), tmp_path)
