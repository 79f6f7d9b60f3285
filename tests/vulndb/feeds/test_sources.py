"""`db update` of every source besides OSV against local servers (testkit.feedserver, 127.0.0.1 only)
serving the real samples of ../shared/data/feeds: NVD's API paged, with a 403 rate-limit answer and
its Retry-After mid-way, gzip EPSS, Amazon updateinfo as .xz, .gz and .zst behind mirror.list and
repomd.xml, Oracle OVAL as .bz2, KEV, Red Hat's repository-to-CPE mapping and a CVE 5 zip, plus
OSV's Red Hat and SUSE exports. The second run is incremental (NVD's lastModified windows, ETags,
updateinfo checksums), and a failure anywhere leaves the previous database as it was.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner
from testkit.feedserver import NVD_PATH, FeedServer
from testkit.osvmirror import OsvMirror
from testkit.shared import shared_path

from ci_security.cli import main
from ci_security.vulndb.feeds.sources import RateLimiter, nvd_windows
from ci_security.vulndb.store import VulnDB, VulnDbError
from ci_security.vulndb.sync import update


def feed(*parts: str) -> Path:
    return shared_path("data", "feeds", *parts)


class Clock:
    """A monotonic clock that moves only when the code under test sleeps; the sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def at(stamp: str):
    return lambda: datetime.fromisoformat(stamp).replace(tzinfo=UTC)


def nvd_cves() -> list[dict]:
    """Real NVD CVE objects: per-CVE records and the entries of several API pages."""
    cves = [json.loads(p.read_text()) for p in sorted(feed("nvd", "records").glob("*.json"))]
    for name in (
        "osvdev_CVE-2023-4863.json",
        "vuln-list-update_respPageFull_3-cves.json",
        "vuls_3_pages_page3.json",
    ):
        cves += [v["cve"] for v in json.loads(feed("nvd", "pages", name).read_text())["vulnerabilities"]]
    return cves


def repomd(updateinfo: tuple[str, str] | None) -> bytes:
    """A repository's repomd.xml (the form of vuls_repomd_valid.xml), naming (href, checksum) of its
    updateinfo when it has one."""
    data = [
        '<data type="primary"><checksum type="sha256">00</checksum>'
        '<location href="repodata/primary.xml.gz"/></data>'
    ]
    if updateinfo is not None:
        href, checksum = updateinfo
        data.append(
            f'<data type="updateinfo"><checksum type="sha256">{checksum}</checksum>'
            f'<location href="{href}"/></data>'
        )
    head = '<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo">\n'
    return (head + "\n".join(data) + "\n</repomd>\n").encode()


def amazon_files() -> dict[str, bytes]:
    """Amazon's layout, the mirror.list naming cdn.amazonlinux.com as the real ones do; the updateinfo
    files are the real samples, recompressed where the layout wants another codec."""

    def real(name: str) -> bytes:
        return gzip.decompress(feed("amazon", name).read_bytes())

    files: dict[str, bytes] = {}

    def repository(listing: str, location: str, updateinfo: tuple[str, bytes] | None) -> None:
        files[listing] = f"https://cdn.amazonlinux.com/{location}\n".encode()
        if updateinfo is None:
            files[f"/{location}repodata/repomd.xml"] = repomd(None)
            return
        name, body = updateinfo
        files[f"/{location}repodata/repomd.xml"] = repomd((f"repodata/{name}", f"c-{len(body)}"))
        files[f"/{location}repodata/{name}"] = body

    repository(
        "/2018.03/updates/x86_64/mirror.list",
        "2018.03/updates/e5ab/x86_64/",
        ("updateinfo.xml.gz", feed("amazon", "vuls_updateinfo_1.xml.gz").read_bytes()),
    )
    repository(
        "/2/core/latest/x86_64/mirror.list",
        "2/core/2.0/x86_64/6b0d/",
        ("updateinfo.xml.gz", feed("amazon", "vuls_updateinfo_2.xml.gz").read_bytes()),
    )
    files["/2/extras-catalog.json"] = json.dumps({"topics": [{"n": "kernel-5.15"}, {"n": "docker"}]}).encode()
    repository(
        "/2/extras/kernel-5.15/latest/x86_64/mirror.list",
        "2/extras/kernel-5.15/stable/x86_64/1a2b/",
        (
            "updateinfo.xml.zst",
            zstandard.ZstdCompressor().compress(real("vuls_updateinfo_2_kernel-5.15.xml.gz")),
        ),
    )
    repository("/2/extras/docker/latest/x86_64/mirror.list", "2/extras/docker/stable/x86_64/3c4d/", None)
    repository(
        "/al2023/core/mirrors/latest/x86_64/mirror.list",
        "al2023/core/guids/9f8e/x86_64/",
        ("updateinfo.xml.xz", lzma.compress(real("vuls_updateinfo_2023.xml.gz"))),
    )
    repository(
        "/al2023/kernel-livepatch/mirrors/latest/x86_64/mirror.list",
        "al2023/kernel-livepatch/guids/7a6b/x86_64/",
        ("updateinfo.xml.gz", feed("amazon", "vuls_updateinfo_2023_kernel-livepatch.xml.gz").read_bytes()),
    )
    return files


def cve5_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(feed("cve5").rglob("*.json")):
            archive.writestr(f"cvelistV5-main/cves/{path.name}", path.read_bytes())
    return buffer.getvalue()


@pytest.fixture
def servers():
    with FeedServer() as nvd, FeedServer() as files, OsvMirror() as osv:
        nvd.cves = nvd_cves()
        nvd.page_size = 5
        files.files.update(amazon_files())
        files.files["/oval/com.oracle.elsa-ol8.xml.bz2"] = feed(
            "oracle", "vuls_com.oracle.elsa-all.xml.bz2"
        ).read_bytes()
        files.files["/kev.json"] = feed("kev", "known_exploited_vulnerabilities.excerpt-50.json").read_bytes()
        files.files["/epss.csv.gz"] = gzip.compress(
            feed("epss", "epss_scores-current.excerpt-200.csv").read_bytes()
        )
        files.files["/r2c.json"] = feed("redhat", "repository-to-cpe.excerpt.json").read_bytes()
        files.files["/cve5.zip"] = cve5_zip()
        osv.add("Red Hat", *sorted(feed("redhat", "osv").glob("*.json")))
        osv.add("SUSE", feed("suse", "osv", "SUSE-SU-403.json"))
        yield nvd, files, osv


SOURCES = ["Red Hat", "SUSE", "Amazon Linux", "Oracle Linux:8", "NVD", "CVE", "KEV", "EPSS"]


def run(db: Path, servers, now: str, clock: Clock, sources=SOURCES, **options):
    nvd, files, osv = servers
    mirrors = {
        "nvd": f"{nvd.url}{NVD_PATH}",
        "kev": f"{files.url}/kev.json",
        "epss": f"{files.url}/epss.csv.gz",
        "redhat": f"{files.url}/r2c.json",
        "cve": f"{files.url}/cve5.zip",
        "amazon": files.url,
        "oracle": f"{files.url}/oval",
    }
    return update(
        db, sources, mirror=osv.url, feeds=mirrors, sleep=clock.sleep, clock=clock, now=at(now), **options
    )


def test_first_run_full_second_incremental(tmp_path, servers):
    nvd, files, _ = servers
    db = tmp_path / "db.sqlite"
    clock = Clock()
    nvd.forbid = {2: "7"}  # the second NVD request is refused as over the rate limit, Retry-After: 7
    first = run(db, servers, "2026-09-01T00:00:00", clock)
    assert first.updated == {
        "Red Hat": ("full", 3),
        "Red Hat repository-to-CPE": ("full", 44),
        "SUSE": ("full", 1),
        "Amazon Linux:1": ("full", 1),
        "Amazon Linux:2": ("full", 2),
        "Amazon Linux:2023": ("full", 2),
        "Oracle Linux:8": ("full", 2),
        "NVD": ("full", len(nvd.cves)),
        "CVE": ("full", 10),
        "KEV": ("full", 50),
        "EPSS": ("full", 200),
    }
    # Paged 5 at a time; the refused page was asked for again after the server's Retry-After.
    assert [q["startIndex"] for q in nvd.nvd_queries()] == ["0", "5", "5", "10"]
    assert 7.0 in clock.sleeps
    assert all("lastModStartDate" not in q for q in nvd.nvd_queries())
    with VulnDB(db) as opened:
        assert {"Amazon Linux:2", "Amazon Linux:2023", "Oracle Linux:8"} <= set(opened.ecosystems())
        zlib = opened.cve_data(["CVE-2023-45853"])["CVE-2023-45853"]
        assert (
            "nvd",
            "nvd@nist.gov",
            "3.1",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            9.8,
        ) in zlib.ratings
        assert opened.cve_data(["CVE-2023-4863"])["CVE-2023-4863"].kev.date_added == "2023-09-13"
        assert opened.meta("epss_score_date") == "2026-09-29"
        assert opened.repository_cpes(["rhel-9-for-x86_64-baseos-rpms"]) == {
            "rhel-9-for-x86_64-baseos-rpms": ("cpe:/o:redhat:enterprise_linux:9::baseos",)
        }

    # One CVE changes upstream (CISA's ADP score is withdrawn from NVD's record).
    changed = json.loads(feed("nvd", "records", "CVE-2023-45853.json").read_text())
    changed["lastModified"] = "2026-09-02T10:00:00.000"
    changed["metrics"]["cvssMetricV31"] = changed["metrics"]["cvssMetricV31"][:1]
    nvd.cves.append(changed)
    nvd.requests.clear()
    files.requests.clear()
    second = run(db, servers, "2026-09-03T00:00:00", clock)
    assert second.updated == {
        "Red Hat": ("incremental", 0),
        "Red Hat repository-to-CPE": ("unchanged", 0),
        "SUSE": ("incremental", 0),
        "Amazon Linux:1": ("unchanged", 0),
        "Amazon Linux:2": ("unchanged", 0),
        "Amazon Linux:2023": ("unchanged", 0),
        "Oracle Linux:8": ("unchanged", 0),
        "NVD": ("incremental", 1),
        "CVE": ("unchanged", 0),
        "KEV": ("unchanged", 0),
        "EPSS": ("unchanged", 0),
    }
    assert nvd.nvd_queries() == [
        {
            "resultsPerPage": "2000",
            "startIndex": "0",
            "lastModStartDate": "2026-09-01T00:00:00.000",
            "lastModEndDate": "2026-09-03T00:00:00.000",
        }
    ]
    # Only listings, repomd.xml files and conditional requests: no updateinfo, OVAL or zip again.
    fetched = [path for path, _ in files.requests]
    assert not [p for p in fetched if "updateinfo" in p]
    with VulnDB(db) as opened:
        rows = opened.cve_data(["CVE-2023-45853"])["CVE-2023-45853"].ratings
        assert [r[0] for r in rows] == ["nvd", "adp"]  # NVD's record now has no ADP row; CVE 5's has

    # Four months later: two windows of at most 120 days.
    nvd.requests.clear()
    third = run(db, servers, "2027-03-01T00:00:00", clock, sources=["NVD"])
    assert third.updated == {"NVD": ("incremental", 0)}
    assert [(q["lastModStartDate"], q["lastModEndDate"]) for q in nvd.nvd_queries()] == [
        ("2026-09-03T00:00:00.000", "2027-01-01T00:00:00.000"),
        ("2027-01-01T00:00:00.000", "2027-03-01T00:00:00.000"),
    ]


def test_a_failure_anywhere_keeps_the_previous_database(tmp_path, servers):
    nvd, files, _ = servers
    db = tmp_path / "db.sqlite"
    clock = Clock()
    run(db, servers, "2026-09-01T00:00:00", clock)
    before = db.read_bytes()
    # KEV changes (and would be stored), then EPSS arrives cut short: nothing of the run stays.
    files.files["/kev.json"] = feed("kev", "vunnel_valid-catalog-1.json").read_bytes()
    files.files["/epss.csv.gz"] = files.files["/epss.csv.gz"][:-30]
    with pytest.raises(VulnDbError, match=r"/epss\.csv\.gz: corrupt gzip data"):
        run(db, servers, "2026-09-02T00:00:00", clock, sources=["KEV", "EPSS"])
    assert db.read_bytes() == before
    # NVD refusing every attempt: a bounded number of tries, then an error naming NVD.
    nvd.forbid = {n: "1" for n in range(1, 50)}
    with pytest.raises(VulnDbError, match=r"NVD http://127\.0\.0\.1:\d+/rest/json/cves/2\.0: HTTP 403"):
        run(db, servers, "2026-09-02T00:00:00", clock, sources=["KEV", "NVD"])
    assert db.read_bytes() == before
    # A Retry-After past the ceiling is an error at once, not an hour of waiting.
    nvd.forbid = {nvd.nvd_requests + 1: "3600"}
    with pytest.raises(VulnDbError, match="retry-after-seconds"):
        run(db, servers, "2026-09-02T00:00:00", clock, sources=["NVD"])
    assert db.read_bytes() == before
    # A repository whose updateinfo is missing, an OVAL file that is not one.
    files.fail["/al2023/core/guids/9f8e/x86_64/repodata/updateinfo.xml.xz"] = 404
    with pytest.raises(VulnDbError, match=r"updateinfo\.xml\.xz: HTTP 404"):
        run(db, servers, "2026-09-02T00:00:00", clock, sources=["Amazon Linux:2023"], full=True)
    files.files["/oval/com.oracle.elsa-ol8.xml.bz2"] = bz2.compress(b"<updates/>")
    with pytest.raises(VulnDbError, match="not an OVAL document"):
        run(db, servers, "2026-09-02T00:00:00", clock, sources=["Oracle Linux:8"])
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.sqlite"]


def test_nvd_rate_limits_are_honoured_before_asking(tmp_path, servers):
    nvd, _, _ = servers
    nvd.page_size = 1  # one CVE a page: more requests than NVD allows in 30 seconds without a key
    clock = Clock()
    run(tmp_path / "a.sqlite", servers, "2026-09-01T00:00:00", clock, sources=["NVD"])
    assert nvd.nvd_requests == len(nvd.cves) > 10
    # Five requests in any 30 seconds: after every five, a wait until the window has room again.
    assert clock.sleeps == [30.0] * ((len(nvd.cves) - 1) // 5)
    keyed = Clock()
    run(tmp_path / "b.sqlite", servers, "2026-09-01T00:00:00", keyed, sources=["NVD"], nvd_api_key="k-123")
    assert keyed.sleeps == []  # 50 requests in 30 seconds with a key


def test_rate_limiter_window():
    clock = Clock()
    limiter = RateLimiter(2, 30.0, clock.sleep, clock)
    sent = []
    for _ in range(5):
        limiter.wait()
        sent.append(clock.now)
        clock.now += 1.0  # each request takes a second
    assert sent == [0.0, 1.0, 30.0, 31.0, 60.0]
    assert all(sum(1 for t in sent if start <= t < start + 30) <= 2 for start in sent)


def test_nvd_windows_are_at_most_120_days():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    windows = nvd_windows(start, datetime(2026, 12, 31, tzinfo=UTC))
    assert [(a.date().isoformat(), b.date().isoformat()) for a, b in windows] == [
        ("2026-01-01", "2026-05-01"),
        ("2026-05-01", "2026-08-29"),
        ("2026-08-29", "2026-12-27"),
        ("2026-12-27", "2026-12-31"),
    ]


def test_nvd_feed_files_instead_of_the_api(tmp_path, servers):
    _, files, _ = servers
    body = {"format": "NVD_CVE", "version": "2.0", "vulnerabilities": [{"cve": c} for c in nvd_cves()[:4]]}
    for year in range(2002, 2027):
        files.files[f"/feeds/nvdcve-2.0-{year}.json.gz"] = gzip.compress(
            json.dumps(body if year == 2023 else {"vulnerabilities": []}).encode()
        )
    files.files["/feeds/nvdcve-2.0-modified.json.gz"] = gzip.compress(
        json.dumps({"vulnerabilities": []}).encode()
    )
    clock = Clock()
    db = tmp_path / "db.sqlite"
    options = {"mirror": "http://127.0.0.1:9", "sleep": clock.sleep, "clock": clock}
    feeds = {"nvd-feed": f"{files.url}/feeds"}
    first = update(db, ["NVD"], feeds=feeds, now=at("2026-09-01T00:00:00"), **options)
    assert first.updated == {"NVD": ("full", 4)}
    files.requests.clear()
    second = update(db, ["NVD"], feeds=feeds, now=at("2026-09-05T00:00:00"), **options)
    assert second.updated == {"NVD": ("incremental", 0)}
    assert [p for p, _ in files.requests] == ["/feeds/nvdcve-2.0-modified.json.gz"]


def test_cli_sends_the_api_key_to_nvd_only(tmp_path, servers):
    nvd, files, _ = servers
    env = {
        "CI_SECURITY_NVD_API_KEY": "secret-key-1",
        "CI_SECURITY_FEED_MIRROR": f"nvd={nvd.url}{NVD_PATH} kev={files.url}/kev.json",
        "CI_SECURITY_DB": str(tmp_path / "db.sqlite"),
    }
    result = CliRunner().invoke(main, ["db", "update", "--ecosystem", "NVD", "--ecosystem", "KEV"], env=env)
    assert result.exit_code == 0, result.output
    assert (
        f"NVD: full, {len(nvd.cves)} record(s)" in result.output
        and "KEV: full, 50 record(s)" in result.output
    )
    assert {key for _, key in nvd.requests} == {"secret-key-1"}
    assert {key for _, key in files.requests} == {None}
    assert "secret-key-1" not in result.output


def test_feed_mirror_names_are_checked():
    result = CliRunner().invoke(main, ["db", "update", "--feed-mirror", "nvdd=http://127.0.0.1:9/x"])
    assert result.exit_code == 2
    assert (
        "--feed-mirror 'nvdd=http://127.0.0.1:9/x': expected NAME=URL with NAME one of nvd, nvd-feed"
        in result.output
    )
    result = CliRunner().invoke(main, ["db", "update", "--feed-mirror", "kev=file:///etc/passwd"])
    assert result.exit_code == 2 and "expected an http:// or https:// URL" in result.output
