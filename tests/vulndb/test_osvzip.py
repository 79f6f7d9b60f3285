"""Reading OSV exports bounded: the end record checked before zipfile parses the directory, entries
inflated as streams under record_bytes, the archive under compression_ratio, and every refusal
naming the entry."""

from __future__ import annotations

import io
import zipfile

import pytest
from testkit.zips import DEFLATED, STORED, RawEntry, archive, encrypted, entry, zeros_bomb

from ci_security import limits
from ci_security.vulndb.osvzip import ExportError, directory_size, iter_entries


def _write(tmp_path, data: bytes):
    path = tmp_path / "all.zip"
    path.write_bytes(data)
    return path


def _bounded(**values: int):
    return limits.use(limits.with_overrides(limits.DEFAULTS, values))


def test_records_are_read_and_other_entries_skipped(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("GO-1.json", '{"id": "GO-1"}')
        out.writestr("notes/", "")
        out.writestr("README.md", "not a record")
        out.writestr("sub/GO-2.json", '{"id": "GO-2"}', compress_type=zipfile.ZIP_STORED)
    found = list(iter_entries(_write(tmp_path, buf.getvalue()), "export", (".json",)))
    assert found == [("export!GO-1.json", b'{"id": "GO-1"}'), ("export!sub/GO-2.json", b'{"id": "GO-2"}')]


def test_the_end_record_is_read_without_the_directory(tmp_path):
    plain = archive([entry("a.json", b"{}"), entry("b.json", b"{}", method=STORED)])
    with open(_write(tmp_path, plain), "rb") as fp:
        assert directory_size(fp, len(plain)) == (2, 2 * (46 + 6))
    claimed = archive([entry("a.json", b"{}")], claim_entries=7_000_000)
    with open(_write(tmp_path, claimed), "rb") as fp:
        assert directory_size(fp, len(claimed))[0] == 7_000_000


def test_more_entries_than_records_per_file(tmp_path):
    path = _write(tmp_path, archive([entry(f"R-{i}.json", b"{}") for i in range(11)]))
    assert len(list(iter_entries(path, "x", (".json",)))) == 11
    with _bounded(records_per_file=10), pytest.raises(limits.LimitExceededError, match="lists 11 entries"):
        list(iter_entries(path, "x", (".json",)))


def test_a_central_directory_past_metadata_bytes(tmp_path):
    path = _write(tmp_path, archive([entry(f"R-{i:04}.json", b"{}") for i in range(100)]))
    with (
        _bounded(metadata_bytes=4096),
        pytest.raises(limits.LimitExceededError, match=r"metadata-bytes .*directory is 5,700 bytes"),
    ):
        list(iter_entries(path, "x", (".json",)))


def test_an_entry_declaring_more_than_record_bytes_is_not_inflated(tmp_path):
    path = _write(tmp_path, archive([zeros_bomb("BOMB.json", 32 << 20)]))
    with pytest.raises(limits.LimitExceededError, match=r"x!BOMB\.json: exceeds the record-bytes limit"):
        list(iter_entries(path, "x", (".json",)))


def test_an_entry_understating_its_size_stops_at_the_lie(tmp_path):
    honest = zeros_bomb("LIE.json", 8 << 20)
    # More compressed bytes than deflate can produce for the declared size: refused unread.
    path = _write(tmp_path, archive([RawEntry("LIE.json", honest.data, DEFLATED, honest.crc, 100)]))
    with pytest.raises(ExportError, match=r"x!LIE\.json: corrupt entry \(8,298 bytes compressed for 100 "):
        list(iter_entries(path, "x", (".json",)))
    # A plausible size: inflated to one byte past it, and no further.
    path = _write(tmp_path, archive([RawEntry("LIE.json", honest.data, DEFLATED, honest.crc, 8000)]))
    with pytest.raises(
        ExportError, match=r"x!LIE\.json: corrupt entry \(it inflates to more than its declared 8,000"
    ):
        list(iter_entries(path, "x", (".json",)))


def test_corrupt_entries_are_named(tmp_path):
    good = entry("A.json", b'{"id": "A"}')
    wrong_crc = RawEntry("B.json", good.data, DEFLATED, good.crc ^ 1, good.size)
    with pytest.raises(ExportError, match=r"x!B\.json: corrupt entry \(Bad CRC-32"):
        list(iter_entries(_write(tmp_path, archive([wrong_crc])), "x", (".json",)))
    cut = RawEntry("C.json", good.data[:-3], DEFLATED, good.crc, good.size)
    with pytest.raises(ExportError, match=r"x!C\.json: corrupt entry \(truncated deflate data"):
        list(iter_entries(_write(tmp_path, archive([cut])), "x", (".json",)))
    garbage = RawEntry("D.json", b"\xff" * 20, DEFLATED, 0, 11)
    with pytest.raises(ExportError, match=r"x!D\.json: corrupt entry \(Error -3"):
        list(iter_entries(_write(tmp_path, archive([garbage])), "x", (".json",)))


def test_the_whole_archive_is_bounded_by_the_compression_ratio(tmp_path):
    """Each entry is within record_bytes; together they inflate 1000-fold."""
    entries = [zeros_bomb(f"R-{i}.json", 15 << 20) for i in range(6)]
    path = _write(tmp_path, archive(entries))
    with (
        _bounded(compression_ratio=100),
        pytest.raises(limits.LimitExceededError, match=r"^x: exceeds the compression-ratio limit \(100\)"),
    ):
        list(iter_entries(path, "x", (".json",)))


def test_encrypted_and_unknown_methods_are_refused_by_name(tmp_path):
    secret = _write(tmp_path, archive([entry("A.json", b"{}"), encrypted("B.json", b"{}", b"pw")]))
    with pytest.raises(ExportError, match=r"x!B\.json: the entry is encrypted"):
        list(iter_entries(secret, "x", (".json",)))
    bzip2 = _write(tmp_path, archive([RawEntry("C.json", b"BZh9", 12, 0, 2)]))
    with pytest.raises(ExportError, match=r"x!C\.json: compression method 12 is not supported"):
        list(iter_entries(bzip2, "x", (".json",)))


def test_entry_names_are_shown_inert(tmp_path):
    path = _write(tmp_path, archive([encrypted("evil\n::error::x\x1b[31m.json", b"{}", b"pw")]))
    with pytest.raises(ExportError) as err:
        list(iter_entries(path, "x", (".json",)))
    assert "\n" not in str(err.value) and "\x1b" not in str(err.value)
    assert "evil\\x0a::error::x\\x1b[31m.json" in str(err.value)


@pytest.mark.parametrize(
    "data",
    [b"", b"PK\x03\x04 not a zip", b"PK\x05\x06" + b"\1" * 18, b"\0" * 100_000],
)
def test_not_a_zip(tmp_path, data):
    with pytest.raises(ExportError, match=r"^x: not a readable zip archive"):
        list(iter_entries(_write(tmp_path, data), "x", (".json",)))


def test_an_empty_archive_has_no_records(tmp_path):
    assert list(iter_entries(_write(tmp_path, archive([])), "x", (".json",))) == []


def test_the_error_class_is_the_callers(tmp_path):
    class StageError(ExportError):
        pass

    with pytest.raises(StageError):
        list(iter_entries(_write(tmp_path, b"junk"), "x", (".json",), error=StageError))


def test_zip64_directories_and_data_before_the_archive(tmp_path):
    """The directory is read by hand: zip64 extra fields carry the real sizes and offsets, and an
    archive after a stub (a self-extracting one) is read as zipfile reads it."""
    records = [entry("A.json", b'{"id": "A"}'), entry("B.json", b'{"id": "B"}', method=STORED)]
    expected = [("x!A.json", b'{"id": "A"}'), ("x!B.json", b'{"id": "B"}')]
    wide = _write(tmp_path, archive(records, zip64_directory=True))
    assert list(iter_entries(wide, "x", (".json",))) == expected
    with zipfile.ZipFile(wide) as check:  # the format is the real one
        assert check.read("A.json") == b'{"id": "A"}'
    stubbed = _write(tmp_path, b"#!/bin/sh\nexit 0\n" + archive(records))
    assert list(iter_entries(stubbed, "x", (".json",))) == expected
    broken = _write(tmp_path, archive(records, zip64_directory=None))
    with pytest.raises(ExportError, match=r"not a readable zip archive \(zip64 sizes without a zip64 extra"):
        list(iter_entries(broken, "x", (".json",)))
