"""Hostile feed files: bombs, entity tricks, nesting, corrupt compression, malformed JSON arrays. Each
is one clear error naming the file (or the limit), never a hang, a crash or a partial read."""

import bz2
import gzip
import io
import lzma

import pytest
import zstandard

from ci_security import limits
from ci_security.vulndb.feeds.stream import json_array_items, open_decompressed, read_chunks, xml_events
from ci_security.vulndb.store import VulnDbError


def decompressed(data: bytes) -> bytes:
    return b"".join(read_chunks(open_decompressed(io.BytesIO(data), "f", len(data)), VulnDbError))


@pytest.mark.parametrize(
    "pack", [gzip.compress, bz2.compress, lzma.compress, lambda d: zstandard.ZstdCompressor().compress(d)]
)
def test_every_codec_is_recognised_by_its_magic(pack):
    assert decompressed(pack(b"<updates/>")) == b"<updates/>"
    assert decompressed(b"<updates/>") == b"<updates/>"


def test_a_bomb_stops_at_the_ratio_and_at_download_bytes():
    bomb = gzip.compress(b"\0" * (70 << 20), 9)  # 70 MiB of zeros in ~70 KB
    with (
        limits.use(limits.with_overrides(limits.DEFAULTS, {"compression_ratio": "10"})),
        pytest.raises(limits.LimitExceededError, match="f: exceeds the compression-ratio limit"),
    ):
        decompressed(bomb)
    with (
        limits.use(limits.with_overrides(limits.DEFAULTS, {"download_bytes": "1MiB"})),
        pytest.raises(limits.LimitExceededError, match="f: exceeds the download-bytes limit"),
    ):
        decompressed(bomb)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (gzip.compress(b"x" * 1000)[:-20], "f: corrupt gzip data"),
        (b"\xfd7zXZ\x00garbage", "f: corrupt xz data"),
        (b"BZh9garbage", "f: corrupt bzip2 data"),
        (b"\x28\xb5\x2f\xfdgarbage", "f: corrupt zstd data"),
    ],
)
def test_corrupt_compressed_data(data, message):
    with pytest.raises(VulnDbError, match=message):
        decompressed(data)


def events(text: bytes):
    return list(xml_events(iter([text]), "f.xml", VulnDbError))


def test_xml_doctype_and_entities_are_refused():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<updates>&b;</updates>"
    )
    with pytest.raises(VulnDbError, match=r"f\.xml: has a document type declaration"):
        events(laughs)
    external = b'<!DOCTYPE x SYSTEM "http://192.0.2.1/x.dtd"><updates/>'
    with pytest.raises(VulnDbError, match="document type declaration"):
        events(external)


def test_xml_nesting_and_text_are_bounded():
    with pytest.raises(limits.LimitExceededError, match="nesting-depth"):
        events(b"<a>" * 500 + b"</a>" * 500)
    with (
        limits.use(limits.with_overrides(limits.DEFAULTS, {"record_bytes": "1KiB"})),
        pytest.raises(limits.LimitExceededError, match="record-bytes"),
    ):
        events(b"<updates><update><description>" + b"x" * 5000 + b"</description></update></updates>")


def test_xml_that_is_not_well_formed():
    with pytest.raises(VulnDbError, match=r"f.xml: not well-formed XML: .* at line 1"):
        events(b"<updates><update></updates>")


def items(text: bytes, size: int = 7):
    header: dict = {}
    pieces = (text[i : i + size] for i in range(0, len(text), size))
    return list(json_array_items(pieces, "vulnerabilities", "p", VulnDbError, header)), header


def test_json_array_items_across_piece_boundaries():
    text = (
        b'{"totalResults": 2, "vulnerabilities": [{"cve": {"id": "CVE-1"}}, 12345.5, "\\u00e9"], "x": null}'
    )
    found, header = items(text, size=3)
    assert found == [{"cve": {"id": "CVE-1"}}, 12345.5, "é"]
    assert header["totalResults"] == 2 and header["x"] is None
    assert items(b'{"vulnerabilities": []}')[0] == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'{"vulnerabilities": [{"a": 1} {"b": 2}]}', "expected ',' or ']'"),
        (b'{"vulnerabilities": [{"a": 1}]} trailing', "data after the end"),
        (b'[{"a": 1}]', "expected '{'"),
        (b'{"vulnerabilities": [{"a": tru}]}', "invalid JSON"),
        (b'{"vulnerabilities": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "nesting-depth"),
        (b'{"vulnerabilities": [{"a": 1}', "invalid JSON"),
    ],
)
def test_malformed_json_arrays(text, message):
    with pytest.raises((VulnDbError, limits.LimitExceededError), match=message):
        items(text, size=4096)


def test_one_item_past_record_bytes():
    with (
        limits.use(limits.with_overrides(limits.DEFAULTS, {"record_bytes": "1KiB"})),
        pytest.raises(limits.LimitExceededError, match="record-bytes"),
    ):
        items(b'{"vulnerabilities": [{"a": "' + b"x" * 5000 + b'"}]}', size=512)
