import json
import sqlite3
from pathlib import Path

import pytest
from testkit.shared import osv_pypi

from ci_security import limits
from ci_security.vulndb.dbimport import import_paths
from ci_security.vulndb.osv import OsvError
from ci_security.vulndb.store import SCHEMA_VERSION, DbWriter, VulnDB, VulnDbError

DISTRO = Path(__file__).parents[1] / "fixtures" / "osv" / "distro"


def test_import_and_query(tmp_path, osv_go, osv_crates):
    db_path = tmp_path / "db.sqlite"
    folders = (DISTRO, osv_go, osv_crates)
    summary = import_paths(db_path, list(folders))
    assert summary.stored == {
        "Debian": 9,
        "Ubuntu": 1,
        "Alpine": 1,
        "AlmaLinux": 1,
        "Azure Linux": 2,
        "Go": 4,
        "crates.io": 3,
    }
    with VulnDB(db_path) as db:
        assert db.count() == (21, 1)
        assert db.has_ecosystem("Debian:12") and db.has_ecosystem("Azure Linux:3")
        assert not db.has_ecosystem("Debian:10") and not db.has_ecosystem("Debian")
        ids = [c.advisory_id for c in db.candidates("Debian:12", "openssl")]
        assert ids == ["DEBIAN-CVE-2024-0727"]  # the withdrawn DEBIAN-CVE-2022-9999 is not offered
        assert [c.advisory_id for c in db.candidates("Debian:11", "openssl")] == ["DEBIAN-CVE-2024-0727"]
        assert db.candidates("Debian:12", "nothing") == []
        cand = db.candidates("Debian:12", "openssl")[0]
        assert cand.severity.value == "MEDIUM" and cand.score == 5.5
        assert db.record("DSA-5600-1")["summary"] == "glib2.0 - security update"
        assert {s[0] for s in db.info().sources} == {f"import:{d.resolve()}" for d in folders}


def test_pypi_names_are_normalised(tmp_path):
    db_path = tmp_path / "db.sqlite"
    import_paths(db_path, [osv_pypi("jinja2"), osv_pypi("pyyaml")])
    with VulnDB(db_path) as db:
        assert db.candidates("PyPI", "Jinja2") == db.candidates("PyPI", "jinja2")
        assert db.candidates("PyPI", "PyYAML")


def test_newer_record_wins(tmp_path):
    import json

    db_path = tmp_path / "db.sqlite"
    rec = {
        "id": "X-1",
        "modified": "2024-02-01T00:00:00Z",
        "summary": "new",
        "affected": [{"package": {"ecosystem": "npm", "name": "a"}, "versions": ["1.0.0"]}],
    }
    (tmp_path / "new.json").write_text(json.dumps(rec))
    (tmp_path / "old.json").write_text(json.dumps(dict(rec, modified="2023-01-01T00:00:00Z", summary="old")))
    import_paths(db_path, [tmp_path / "new.json"])
    import_paths(db_path, [tmp_path / "old.json"])
    with VulnDB(db_path) as db:
        assert db.record("X-1")["summary"] == "new"


def test_failed_import_leaves_the_database_untouched(tmp_path):
    db_path = tmp_path / "db.sqlite"
    import_paths(db_path, [DISTRO / "DSA-5600-1.json"])
    before = db_path.read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_text("{broken")
    with pytest.raises(OsvError):
        import_paths(db_path, [DISTRO, bad])
    assert db_path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name != "bad.json"] == ["db.sqlite"]  # no temp file left


def test_non_records_in_folders_are_skipped_but_named(tmp_path, osv_go):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "triage.yaml").write_text("- just: a list\n")
    (folder / "GO-2020-0015.json").write_bytes((osv_go / "GO-2020-0015.json").read_bytes())
    summary = import_paths(tmp_path / "db.sqlite", [folder])
    assert summary.stored == {"Go": 1} and summary.skipped == (str(folder / "triage.yaml"),)


def _set_schema(path: Path, version: int) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))


@pytest.mark.parametrize(
    ("version", "message"),
    [(SCHEMA_VERSION + 1, "newer ci-security"), (SCHEMA_VERSION - 1, "older than this ci-security")],
)
def test_other_schema_versions_are_refused(tmp_path, version, message):
    db_path = tmp_path / "db.sqlite"
    import_paths(db_path, [DISTRO])
    _set_schema(db_path, version)
    with pytest.raises(VulnDbError, match=message):
        VulnDB(db_path)
    with pytest.raises(VulnDbError, match=message):
        DbWriter(db_path)


def test_missing_and_garbage_databases(tmp_path):
    with pytest.raises(VulnDbError, match="no vulnerability database at"):
        VulnDB(tmp_path / "none.sqlite")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(VulnDbError, match="not a ci-security vulnerability database"):
        VulnDB(junk)


def test_text_that_is_not_unicode_is_refused_by_record(tmp_path):
    """JSON can escape a lone surrogate; SQLite cannot store it. The import names the record and
    leaves the database as it was."""
    records = tmp_path / "records.json"
    good = {"id": "GOOD-1", "modified": "2024-01-01T00:00:00Z"}
    records.write_text(json.dumps([good, {"id": "BAD-\ud800", "modified": "2024-01-01T00:00:00Z"}]))
    with pytest.raises(VulnDbError, match=r"records\.json\[1\]: the record holds text that is not valid"):
        import_paths(tmp_path / "db.sqlite", [records])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.json"]


def test_a_list_document_past_records_per_file(tmp_path):
    records = tmp_path / "records.json"
    records.write_text(json.dumps([{"id": f"R-{i}", "modified": "2024"} for i in range(11)]))
    with (
        limits.use(limits.with_overrides(limits.DEFAULTS, {"records_per_file": 10})),
        pytest.raises(limits.LimitExceededError, match=r"records\.json: exceeds the records-per-file limit"),
    ):
        import_paths(tmp_path / "db.sqlite", [records])


def test_entries_that_cannot_be_evaluated_are_stored_with_their_reason(tmp_path):
    record = tmp_path / "PHSA-1.json"
    record.write_text(
        '{"id": "PHSA-1", "modified": "2024-01-01T00:00:00Z", '
        '"affected": [{"package": {"ecosystem": "Photon OS:5.0", "name": "openssh"}}]}'
    )
    db_path = tmp_path / "db.sqlite"
    import_paths(db_path, [record])
    with VulnDB(db_path) as db:
        (candidate,) = db.candidates("Photon OS:5.0", "openssh")
        assert (candidate.ranges, candidate.versions, candidate.problem) == (
            (),
            (),
            "no ranges and no versions",
        )
