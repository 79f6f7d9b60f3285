"""`db update` against a local OSV mirror: full and incremental refresh, atomic swap, faults."""

import base64
import json
from pathlib import Path

import pytest
from testkit.hostile_net import HostileServer, endless, ok, redirect, status
from testkit.osvmirror import OsvMirror
from testkit.zips import archive, entry

from ci_security.vulndb.store import VulnDB, VulnDbError
from ci_security.vulndb.sync import INCREMENTAL_LIMIT, update


def _no_sleep(seconds: float) -> None:
    return


def _ids(db_path: Path, ecosystem: str, name: str) -> list[str]:
    with VulnDB(db_path) as db:
        return [c.advisory_id for c in db.candidates(ecosystem, name)]


def test_full_then_incremental(tmp_path, osv_go, osv_crates):
    db_path = tmp_path / "db.sqlite"
    with OsvMirror() as mirror:
        mirror.add("Go", *sorted(osv_go.glob("*.json")), modified="2024-01-01T00:00:00Z")
        mirror.add("crates.io", *sorted(osv_crates.glob("*.json")), modified="2024-01-01T00:00:00Z")
        summary = update(db_path, ["Go", "crates.io"], mirror=mirror.url, sleep=_no_sleep)
        assert summary.updated == {"Go": ("full", 4), "crates.io": ("full", 3)}
        assert _ids(db_path, "Go", "golang.org/x/text") == ["GO-2020-0015", "GO-2021-0113", "GO-2022-1059"]

        # One record changes upstream and one is added: the next update fetches just those two.
        changed = json.loads((osv_go / "GO-2020-0015.json").read_text())
        changed.update(modified="2024-06-01T00:00:00Z", summary="changed upstream")
        mirror.put("Go", changed)
        mirror.put(
            "Go",
            {
                "id": "GO-2099-0001",
                "modified": "2024-06-02T00:00:00Z",
                "affected": [
                    {
                        "package": {"ecosystem": "Go", "name": "golang.org/x/text"},
                        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.9.0"}]}],
                    }
                ],
            },
        )
        mirror.requests.clear()
        summary = update(db_path, ["Go", "crates.io"], mirror=mirror.url, sleep=_no_sleep)
        assert summary.updated == {"Go": ("incremental", 2), "crates.io": ("incremental", 0)}
        assert sorted(mirror.requests) == [
            "Go/GO-2020-0015.json",
            "Go/GO-2099-0001.json",
            "Go/modified_id.csv",
            "crates.io/modified_id.csv",
        ]
    assert "GO-2099-0001" in _ids(db_path, "Go", "golang.org/x/text")
    with VulnDB(db_path) as db:
        assert db.record("GO-2020-0015")["summary"] == "changed upstream"


def test_too_many_changes_fall_back_to_a_full_download(tmp_path, osv_go):
    db_path = tmp_path / "db.sqlite"
    with OsvMirror() as mirror:
        mirror.add("Go", osv_go / "GO-2020-0015.json", modified="2024-01-01T00:00:00Z")
        update(db_path, ["Go"], mirror=mirror.url, sleep=_no_sleep)
        for i in range(INCREMENTAL_LIMIT + 1):
            mirror.put("Go", {"id": f"GO-2099-{i:04d}", "modified": "2024-07-01T00:00:00Z"})
        summary = update(db_path, ["Go"], mirror=mirror.url, sleep=_no_sleep)
    assert summary.updated == {"Go": ("full", INCREMENTAL_LIMIT + 2)}


def test_full_refresh_drops_records_deleted_upstream(tmp_path, osv_go):
    db_path = tmp_path / "db.sqlite"
    with OsvMirror() as mirror:
        mirror.add("Go", *sorted(osv_go.glob("*.json")))
        update(db_path, ["Go"], mirror=mirror.url, sleep=_no_sleep)
        del mirror.records["Go"]["GO-2022-1059"]
        update(db_path, ["Go"], mirror=mirror.url, full=True, sleep=_no_sleep)
    assert "GO-2022-1059" not in _ids(db_path, "Go", "golang.org/x/text")


def test_connection_cut_mid_download_is_retried(tmp_path, osv_go):
    db_path = tmp_path / "db.sqlite"
    with OsvMirror() as mirror:
        mirror.add("Go", *sorted(osv_go.glob("*.json")))
        mirror.cut_zip = 1
        mirror.fail_503 = 1
        assert update(db_path, ["Go"], mirror=mirror.url, sleep=_no_sleep).updated == {"Go": ("full", 4)}


def test_failed_update_keeps_the_previous_database(tmp_path, osv_go, osv_crates):
    db_path = tmp_path / "db.sqlite"
    with OsvMirror() as mirror:
        mirror.add("Go", *sorted(osv_go.glob("*.json")))
        update(db_path, ["Go"], mirror=mirror.url, sleep=_no_sleep)
        before = db_path.read_bytes()
        mirror.add("crates.io", *sorted(osv_crates.glob("*.json")))
        mirror.cut_zip = 100  # every attempt breaks off: bounded retries, then an error
        with pytest.raises(
            VulnDbError, match=r"/crates\.io/all\.zip: transfer broke off \(Connection broken"
        ):
            update(db_path, ["crates.io"], mirror=mirror.url, sleep=_no_sleep)
        assert mirror.cut_zip == 95
        with pytest.raises(VulnDbError, match="no such export"):
            update(db_path, ["Nope"], mirror=mirror.url, sleep=_no_sleep)
    assert db_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.sqlite"]


def test_unreachable_mirror(tmp_path):
    from testkit.registries import free_port

    with pytest.raises(VulnDbError, match=r"http://127\.0\.0\.1:\d+/Go/all\.zip: cannot connect"):
        update(tmp_path / "db.sqlite", ["Go"], mirror=f"http://127.0.0.1:{free_port()}", sleep=_no_sleep)
    assert not (tmp_path / "db.sqlite").exists()


def test_corrupt_export(tmp_path):
    with OsvMirror() as mirror:
        mirror.put("Go", {"id": "GO-X", "modified": "2024"})
        mirror._zip = lambda ecosystem: b"PK\x03\x04 this is not a zip"  # type: ignore[method-assign]
        with pytest.raises(VulnDbError, match="not a readable zip"):
            update(tmp_path / "db.sqlite", ["Go"], mirror=mirror.url, sleep=_no_sleep)


def test_the_listing_is_read_only_as_far_as_needed(tmp_path):
    """modified_id.csv is newest first: reading stops at the first record already held, so a
    listing that goes on forever after it costs nothing."""
    db_path = tmp_path / "db.sqlite"
    with OsvMirror() as honest:
        honest.put("Go", {"id": "GO-1", "modified": "2024-01-01T00:00:00Z"})
        update(db_path, ["Go"], mirror=honest.url, sleep=_no_sleep)
    head = b"2024-06-01T00:00:00Z,GO-2\n2024-05-01T00:00:00Z,../../etc/x\n2024-01-01T00:00:00Z,GO-1\n"
    routes = {
        "/Go/modified_id.csv": endless(prefix=head, piece=b"2000-01-01T00:00:00Z,OLD\n" * 1000),
        "/Go/GO-2.json": ok(b'{"id": "GO-2", "modified": "2024-06-01T00:00:00Z"}'),
    }
    with HostileServer(routes) as mirror:
        summary = update(db_path, ["Go"], mirror=mirror.url, sleep=_no_sleep)
        asked = [seen.path for seen in mirror.requests]
    assert summary.updated == {"Go": ("incremental", 2)}
    # An id is one path component, whatever it contains (and a missing record is skipped).
    assert asked == ["/Go/modified_id.csv", "/Go/GO-2.json", "/Go/..%2F..%2Fetc%2Fx.json"]
    with VulnDB(db_path) as db:
        assert db.record("GO-2")["modified"] == "2024-06-01T00:00:00Z"


def test_mirror_credentials_stay_with_the_mirror(tmp_path):
    """`--mirror https://user:password@host` authenticates to that host only: the export it
    redirects to (a bucket elsewhere) gets no credentials, and no message shows them."""
    good = archive([entry("GO-1.json", b'{"id": "GO-1", "modified": "2024-01-01T00:00:00Z"}')])
    with HostileServer({"/export.zip": ok(good)}) as bucket, HostileServer() as mirror:
        mirror.routes["/Go/all.zip"] = redirect(f"{bucket.url}/export.zip")
        url = mirror.url.replace("http://", "http://robot:pw%2Fsecret@")
        summary = update(tmp_path / "db.sqlite", ["Go"], mirror=url, sleep=_no_sleep)
        assert summary.updated == {"Go": ("full", 1)}
        expected = "Basic " + base64.b64encode(b"robot:pw/secret").decode()
        assert [seen.headers.get("Authorization") for seen in mirror.requests] == [expected]
        assert bucket.requests and not bucket.saw_authorization()
    with VulnDB(tmp_path / "db.sqlite") as db:
        assert all("secret" not in origin for _, origin, _ in db.info().sources)


@pytest.mark.parametrize(
    "mirror", ["osv.example.com", "ftp://osv.example.com", "http://h:99999", "http:///x"]
)
def test_unusable_mirror_urls(tmp_path, mirror):
    with pytest.raises(VulnDbError, match=r"--mirror .*: expected an http:// or https:// URL"):
        update(tmp_path / "db.sqlite", ["Go"], mirror=mirror, sleep=_no_sleep)
    assert list(tmp_path.iterdir()) == []


def test_a_limit_fails_the_update_like_a_broken_download(tmp_path):
    """Whatever ends an update (here a Retry-After past the ceiling) is a VulnDbError, so the CI
    step can fall back on the database it has."""
    with (
        HostileServer({"/Go/all.zip": status(503, b"", {"Retry-After": "3600"})}) as mirror,
        pytest.raises(VulnDbError, match=r"/Go/all\.zip: exceeds the retry-after-seconds limit"),
    ):
        update(tmp_path / "db.sqlite", ["Go"], mirror=mirror.url, sleep=_no_sleep)
    assert list(tmp_path.iterdir()) == []
