import contextlib
import random
import struct
from pathlib import Path

import pytest

from ci_security.catalog.os.rpmdb import bdb, sqlite
from ci_security.catalog.os.rpmdb.header import (
    TYPE_BIN,
    TYPE_I18NSTRING,
    TYPE_INT32,
    TYPE_INT64,
    TYPE_STRING,
    TYPE_STRING_ARRAY,
    parse_header,
)
from ci_security.errors import CatalogError

Entry = tuple[int, int, bytes, int]  # tag, type, raw value, count


def build(entries: list[Entry]) -> bytes:
    """An immutable-region blob; each value is placed at the next offset aligned for its type."""
    index = b""
    data = b""
    for tag, typ, raw, count in entries:
        align = {3: 2, 4: 4, 5: 8}.get(typ, 1)
        data += b"\0" * (-len(data) % align)
        index += struct.pack(">IIII", tag, typ, len(data), count)
        data += raw
    return struct.pack(">II", len(entries), len(data)) + index + data


def s(text: str) -> bytes:
    return text.encode() + b"\0"


def i32(*values: int) -> bytes:
    return b"".join(struct.pack(">I", v) for v in values)


BASE: list[Entry] = [
    (1000, TYPE_STRING, s("bash"), 1),
    (1001, TYPE_STRING, s("5.2.15"), 1),
    (1002, TYPE_STRING, s("1.amzn2023.0.2"), 1),
]


def test_minimal_header_leaves_optional_tags_unset():
    header = parse_header(build(BASE))
    assert (header.name, header.version, header.release) == ("bash", "5.2.15", "1.amzn2023.0.2")
    assert header.epoch is None
    assert header.arch is None
    assert header.source_rpm is None
    assert header.license is None
    assert header.vendor is None
    assert header.size is None
    assert header.modularity_label is None
    assert header.sigmd5 is None


def test_all_tags_are_decoded():
    blob = build(
        [
            (63, TYPE_BIN, b"\0" * 16, 16),  # region tag: present in real blobs, ignored
            (261, TYPE_BIN, bytes.fromhex("c1e561f13d39aee443a1f00258fba000"), 16),
            *BASE,
            (1003, TYPE_INT32, i32(7), 1),
            (1009, TYPE_INT32, i32(1234), 1),
            (1011, TYPE_STRING, s("Amazon Linux"), 1),
            (1014, TYPE_STRING, s("GPLv3+"), 1),
            (1022, TYPE_STRING, s("x86_64"), 1),
            (1044, TYPE_STRING, s("bash-5.2.15-1.amzn2023.0.2.src.rpm"), 1),
            (5096, TYPE_STRING, s("nodejs:18:8080020231002201914:a75119d5"), 1),
        ]
    )
    header = parse_header(blob)
    assert header.epoch == 7
    assert header.size == 1234
    assert header.vendor == "Amazon Linux"
    assert header.license == "GPLv3+"
    assert header.arch == "x86_64"
    assert header.source_rpm == "bash-5.2.15-1.amzn2023.0.2.src.rpm"
    assert header.modularity_label == "nodejs:18:8080020231002201914:a75119d5"
    assert header.sigmd5 == "c1e561f13d39aee443a1f00258fba000"


def test_epoch_zero_is_kept_distinct_from_no_epoch():
    assert parse_header(build([*BASE, (1003, TYPE_INT32, i32(0), 1)])).epoch == 0


def test_longsize_wins_over_size():
    blob = build([*BASE, (1009, TYPE_INT32, i32(1), 1), (5009, TYPE_INT64, struct.pack(">Q", 5 << 32), 1)])
    assert parse_header(blob).size == 5 << 32


def test_i18n_and_array_strings_give_their_first_string():
    blob = build(
        [
            *BASE,
            (1011, TYPE_I18NSTRING, s("Vendor C") + s("Vendeur"), 2),
            (1014, TYPE_STRING_ARRAY, s("MIT") + s("BSD"), 2),
        ]
    )
    header = parse_header(blob)
    assert header.vendor == "Vendor C"
    assert header.license == "MIT"


def test_later_entry_for_a_tag_wins():
    # rpm lets entries after the immutable region ("dribbles") replace region entries.
    blob = build([*BASE, (1022, TYPE_STRING, s("i686"), 1), (1022, TYPE_STRING, s("x86_64"), 1)])
    assert parse_header(blob).arch == "x86_64"


def test_non_utf8_text_is_replaced_not_fatal():
    blob = build([*BASE, (1011, TYPE_STRING, b"Soci\xe9t\xe9\0", 1)])
    assert parse_header(blob).vendor == "Soci\ufffdt\ufffd"


def test_sigmd5_keeps_trailing_zeros(pkgdb: Path):
    (blob,) = bdb.iter_blobs(pkgdb / "rpm" / "ubi8-libuuid-Packages")
    header = parse_header(blob)
    assert header.sigmd5 == "c1e561f13d39aee443a1f00258fba000"
    assert (header.vendor, header.license, header.size) == ("Red Hat, Inc.", "BSD", 35104)


def test_real_header_fields(pkgdb: Path):
    headers = [parse_header(b) for b in sqlite.iter_blobs(pkgdb / "rpm" / "cbl-mariner-2.0-rpmdb.sqlite")]
    (curl,) = [h for h in headers if h.name == "curl"]
    assert curl.vendor == "Microsoft Corporation"
    assert curl.license == "MIT"
    assert curl.size == 326023
    assert curl.sigmd5 == "b5f5369ae91df3672fa3338669ec5ca2"


def _with_entry(blob: bytes, number: int, **fields: int) -> bytes:
    """`blob` with index entry `number` rewritten (fields: tag, type, offset, count)."""
    pos = 8 + 16 * number
    values = dict(
        zip(("tag", "type", "offset", "count"), struct.unpack_from(">IIII", blob, pos), strict=True)
    )
    values.update(fields)
    return blob[:pos] + struct.pack(">IIII", *values.values()) + blob[pos + 16 :]


GOOD = build([*BASE, (1003, TYPE_INT32, i32(1), 1), (261, TYPE_BIN, b"\x01" * 16, 16)])


@pytest.mark.parametrize(
    ("blob", "reason"),
    [
        (b"", "too short"),
        (b"\0\0\0\1", "too short"),
        (struct.pack(">II", 0, 0), "index entries"),
        (struct.pack(">II", 0x10000, 0), "index entries"),
        (struct.pack(">II", 1, 0x10000000), "256 MiB"),
        (struct.pack(">II", 0xFFFFFFFF, 0xFFFFFFFF), "index entries"),
        (GOOD[:-1], "preamble describes"),
        (GOOD + b"\0", "preamble describes"),
        (_with_entry(GOOD, 0, offset=10_000), "points outside"),
        (_with_entry(GOOD, 0, offset=0xFFFFFFF0), "points outside"),
        (_with_entry(GOOD, 0, type=42), "unknown type"),
        (_with_entry(GOOD, 3, offset=1), "misaligned"),
        (_with_entry(GOOD, 0, type=TYPE_INT32), "not a string"),
        (_with_entry(GOOD, 3, type=TYPE_STRING), "not an integer"),
        (_with_entry(GOOD, 4, type=TYPE_STRING), "not binary"),
        (_with_entry(GOOD, 4, count=17), "past the end"),
        (_with_entry(GOOD, 0, tag=999), "no NAME"),
        (_with_entry(GOOD, 1, tag=999), "no VERSION"),
        (_with_entry(GOOD, 0, count=0), "no value"),
        (build([*BASE, (1003, TYPE_INT32, b"", 1)]), "past the end"),
        (build([*BASE[:2], (1002, TYPE_STRING, b"1.el8", 1)]), "past the end"),
        (build([(1000, TYPE_STRING, s(""), 1), *BASE[1:]]), "no NAME"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_malformed_blobs_are_refused_with_a_reason(blob: bytes, reason: str):
    with pytest.raises(CatalogError, match=reason):
        parse_header(blob)


def test_every_truncation_of_a_real_blob_is_refused(pkgdb: Path):
    (blob,) = bdb.iter_blobs(pkgdb / "rpm" / "centos8-dive-Packages")
    parse_header(blob)
    for length in range(len(blob)):
        with pytest.raises(CatalogError):
            parse_header(blob[:length])


@pytest.mark.timeout(60)
def test_random_and_mutated_blobs_never_raise_anything_else(pkgdb: Path):
    (blob,) = bdb.iter_blobs(pkgdb / "rpm" / "ubi8-libuuid-Packages")
    rng = random.Random(1)
    for _ in range(300):
        with contextlib.suppress(CatalogError):
            parse_header(rng.randbytes(rng.randrange(0, 200)))
    index_end = 8 + 16 * struct.unpack_from(">I", blob, 0)[0]
    for _ in range(2000):
        mutated = bytearray(blob)
        for _ in range(rng.randrange(1, 4)):
            # Mostly hit the preamble and index, where corruption changes how the data is read.
            mutated[rng.randrange(0, index_end if rng.random() < 0.8 else len(blob))] = rng.randrange(256)
        with contextlib.suppress(CatalogError):
            parse_header(bytes(mutated))
