"""Each feed's real samples (../shared/data/feeds, see its SOURCES.md) read into what the database
stores: NVD's and CVE 5's CVSS rows, KEV entries, EPSS scores, Red Hat's repository-to-CPE mapping,
Amazon ALAS and Oracle ELSA as OSV-shaped records."""

import json

import pytest
from testkit.shared import shared_path

from ci_security.vulndb.feeds import cve5, epss, kev, nvd, oval, redhat, updateinfo
from ci_security.vulndb.feeds.stream import json_array_items, open_decompressed, read_chunks
from ci_security.vulndb.osv import parse_record
from ci_security.vulndb.store import VulnDbError


def feed(*parts):
    return shared_path("data", "feeds", *parts)


def pieces(path, size=1 << 20):
    """The file decompressed as `db update` reads it, in pieces of `size` bytes (small pieces cut
    elements, strings and numbers across reads)."""
    with open(path, "rb") as raw:
        data = b"".join(read_chunks(open_decompressed(raw, path.name, path.stat().st_size), VulnDbError))
    for start in range(0, len(data), size):
        yield data[start : start + size]


# --- NVD ------------------------------------------------------------------------------------------


def test_nvd_record_with_nvd_and_cisa_adp_scores():
    parsed = nvd.parse_cve(json.loads(feed("nvd", "records", "CVE-2023-45853.json").read_text()))
    assert (parsed.id, parsed.modified) == ("CVE-2023-45853", "2024-08-01T13:44:58.990")
    assert parsed.rows == (
        ("nvd", "nvd@nist.gov", "3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("adp", "CISA-ADP", "3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8),
    )


def test_nvd_page_with_v4_v31_and_v2_from_nvd_and_the_cna():
    header: dict = {}
    items = list(
        json_array_items(
            pieces(feed("nvd", "pages", "vuln-list-update_respPage2_CVE-2024-5732.json"), 997),
            "vulnerabilities",
            "page",
            VulnDbError,
            header,
        )
    )
    assert (header["totalResults"], header["format"]) == (3, "NVD_CVE")
    parsed = nvd.parse_cve(nvd.cves_of(items[0]))
    assert [(kind, who, version, score) for kind, who, version, _, score in parsed.rows] == [
        ("cna", "cna@vuldb.com", "4.0", 6.9),
        ("nvd", "nvd@nist.gov", "3.1", 9.8),
        ("cna", "cna@vuldb.com", "3.1", 7.3),
        ("cna", "cna@vuldb.com", "2.0", 7.5),
    ]


def test_nvd_records_without_scores_and_awaiting_analysis():
    early = nvd.parse_cve(json.loads(feed("nvd", "records", "CVE-2024-0727.json").read_text()))
    assert (early.id, early.rows) == ("CVE-2024-0727", ())  # "metrics": {}: NVD has no score yet
    page = json.loads(feed("nvd", "pages", "vuls_1_item_CVE-2024-4819.json").read_text())
    only_cna = nvd.parse_cve(nvd.cves_of(page["vulnerabilities"][0]))
    assert {row[0] for row in only_cna.rows} == {"cna"}  # every metric from cna@vuldb.com


def test_a_whole_nvd_page_streams_item_by_item():
    header: dict = {}
    path = feed("nvd", "pages", "vunnel_full-page_38-cves.json")
    items = list(json_array_items(pieces(path, 4096), "vulnerabilities", "page", VulnDbError, header))
    assert len(items) == header["resultsPerPage"] == 38
    assert items == json.loads(path.read_text())["vulnerabilities"]
    scored = [p for p in (nvd.parse_cve(nvd.cves_of(i)) for i in items) if p.rows]
    assert len(scored) == 35  # CVE-2023-43250, -45383 and -46009 have no metrics


# --- CVE JSON 5 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("vulnrichment", "CVE-2023-45853.json"), [("adp", "CISA-ADP", "3.1", 8.8)]),
        (("vulnrichment", "CVE-2024-6387.json"), [("cna", "redhat", "3.1", 8.1)]),
        (("vulnrichment", "CVE-2024-28182.json"), [("cna", "GitHub_M", "3.1", 5.3)]),
        (("cvelistV5", "CVE-2025-4565.json"), [("cna", "Google", "4.0", 8.2)]),
        (("cvelistV5", "CVE-2023-0001.json"), [("cna", "palo_alto", "3.1", 6.0)]),
        (("cvelistV5", "CVE-2026-20912.json"), [("adp", "CISA-ADP", "3.1", 9.1)]),
        (("cvelistV5", "CVE-2021-44228.json"), [("adp", "CISA-ADP", "3.1", 10.0)]),  # the CNA's is "other"
    ],
)
def test_cve5_cna_and_adp_metrics(path, expected):
    parsed = cve5.parse_record(json.loads(feed("cve5", *path).read_text()))
    assert [(kind, who, version, score) for kind, who, version, _, score in parsed.rows] == expected


def test_cve5_delta_is_not_a_record():
    assert cve5.parse_record(json.loads(feed("cve5", "cvelistV5", "delta.json").read_text())) is None


# --- KEV and EPSS ---------------------------------------------------------------------------------


def test_kev_catalogue():
    doc = json.loads(feed("kev", "known_exploited_vulnerabilities.excerpt-50.json").read_text())
    catalogue = kev.parse_catalogue(doc, "kev", VulnDbError)
    assert (catalogue.version, len(catalogue.entries)) == ("2025.08.25", 50)
    entries = dict(catalogue.entries)
    log4shell = entries["CVE-2021-44228"]
    assert (log4shell.date_added, log4shell.due_date, log4shell.ransomware) == (
        "2021-12-10",
        "2021-12-24",
        "Known",
    )
    assert entries["CVE-2023-4863"].name == "Google Chromium WebP Heap-Based Buffer Overflow Vulnerability"


def test_kev_entry_without_a_date_is_refused():
    doc = json.loads(feed("kev", "vunnel_valid-catalog-1.json").read_text())
    assert len(kev.parse_catalogue(doc, "kev", VulnDbError).entries) == 3
    del doc["vulnerabilities"][1]["dateAdded"]
    with pytest.raises(VulnDbError, match=r"kev: vulnerabilities\[1\] \(CVE-[0-9-]+\): no dateAdded"):
        kev.parse_catalogue(doc, "kev", VulnDbError)


@pytest.mark.parametrize(
    ("name", "rows", "first", "header"),
    [
        (
            "epss_scores-current.excerpt-200.csv",
            200,
            ("CVE-1999-0001", 0.03351, 0.88255),
            ("v2026.06.15", "2026-09-29"),
        ),
        ("claircore_data.csv", 29, ("CVE-1999-0005", 0.91963, 0.9903), ("v2023.03.01", "2024-10-25")),
        ("vuls_epss_scores-2021-04-14.csv.gz", 2, ("CVE-2020-5902", 0.65117, None), (None, None)),
        (
            "vuls_epss_scores-2021-09-01.csv.gz",
            2,
            ("CVE-2020-5902", 0.65117, 0.9981063485700858),
            (None, None),
        ),
        (
            "vuls_epss_scores-2023-03-07.csv.gz",
            2,
            ("CVE-2020-5902", 0.97567, 0.99995),
            ("v2023.03.01", "2023-03-07"),
        ),
    ],
)
def test_epss_files_of_every_layout(name, rows, first, header):
    found = epss.EpssHeader()
    scores = list(
        epss.rows(epss.lines(pieces(feed("epss", name), 333), name, VulnDbError), name, VulnDbError, found)
    )
    assert (len(scores), scores[0], (found.model, found.score_date)) == (rows, first, header)


def test_epss_score_out_of_range_is_refused():
    text = b"cve,epss,percentile\nCVE-2024-0001,1.5,0.3\n"
    with pytest.raises(VulnDbError, match=r"x:2: '1.5' is not between 0 and 1"):
        list(epss.rows(epss.lines(iter([text]), "x", VulnDbError), "x", VulnDbError, epss.EpssHeader()))


# --- Red Hat repository-to-CPE ------------------------------------------------------------------


def test_repository_to_cpe_mapping():
    doc = json.loads(feed("redhat", "repository-to-cpe.excerpt.json").read_text())
    assert redhat.is_mapping(doc)
    mapping = redhat.parse_mapping(doc, "r2c", VulnDbError)
    assert len(mapping) == 44
    assert mapping["rhel-9-for-x86_64-appstream-eus-rpms"] == (
        "cpe:/a:redhat:rhel_eus:9.0::appstream",
        "cpe:/a:redhat:rhel_eus:9.2::appstream",
    )
    assert (
        redhat.ecosystem_of("cpe:/o:redhat:enterprise_linux:9::baseos")
        == "Red Hat:enterprise_linux:9::baseos"
    )


# --- Amazon updateinfo ----------------------------------------------------------------------------


def _records(module, path):
    return list(module.records(pieces(path, 701), path.name, VulnDbError))


def test_amazon_linux_2023_advisory_becomes_an_osv_record():
    (doc,) = _records(updateinfo, feed("amazon", "vuls_updateinfo_2023.xml.gz"))
    advisory = parse_record(doc, "ALAS2023-2023-001")
    assert (advisory.id, advisory.modified, advisory.upstream) == (
        "ALAS2023-2023-001",
        "2023-02-22T23:22:00Z",
        ("CVE-2014-3634", "CVE-2022-24903"),
    )
    rsyslog = next(a for a in advisory.affected if a.name == "rsyslog")
    assert (rsyslog.ecosystem, [(e.kind, e.version) for e in rsyslog.ranges[0].events]) == (
        "Amazon Linux:2023",
        [("introduced", "0"), ("fixed", "8.2204.0-3.amzn2023.0.2")],
    )
    assert json.loads(rsyslog.database_specific) == {"severity": "Important"}
    assert len(advisory.affected) == 21  # binary names; three architectures each, one version


@pytest.mark.parametrize(
    ("name", "ident", "ecosystem", "package", "events"),
    [
        (
            "vuls_updateinfo_1.xml.gz",
            "ALAS-2011-1",
            "Amazon Linux:1",
            "httpd-devel",
            ["0", "2.2.21-1.18.amzn1"],
        ),
        (
            "vuls_updateinfo_2.xml.gz",
            "ALAS2-2018-939",
            "Amazon Linux:2",
            "kernel",
            ["0", "4.9.76-38.79.amzn2"],
        ),
        (
            "vuln-list-update_updateinfo_2_items.xml.gz",
            "ALAS2-2018-942",
            "Amazon Linux:2",
            "qemu-kvm",
            ["0", "10:1.5.3-141.amzn2.5.3"],
        ),
        # extras: ranged from the topic's version stream, so core's 4.14 kernel is not compared
        (
            "vuls_updateinfo_2_kernel-5.15.xml.gz",
            "ALAS2KERNEL-5.15-2022-001",
            "Amazon Linux:2",
            "kernel",
            ["5.15", "5.15.43-20.123.amzn2"],
        ),
        (
            "vuls_updateinfo_2023_kernel-livepatch.xml.gz",
            "ALAS2023LIVEPATCH-2023-001",
            "Amazon Linux:2023",
            "kernel-livepatch-6.1.12-19.43",
            ["0", "1.0-1.amzn2023"],
        ),
    ],
)
def test_amazon_repositories_of_every_release(name, ident, ecosystem, package, events):
    docs = {d["id"]: d for d in _records(updateinfo, feed("amazon", name))}
    entry = next(a for a in docs[ident]["affected"] if a["package"]["name"] == package)
    assert entry["package"]["ecosystem"] == ecosystem
    assert [next(iter(e.values())) for e in entry["ranges"][0]["events"]] == events


# --- Oracle OVAL ----------------------------------------------------------------------------------


def _entries(doc):
    return {
        (a["package"]["ecosystem"], a["package"]["name"]): [
            next(iter(e.values())) for e in a["ranges"][0]["events"]
        ]
        for a in doc["affected"]
    }


def test_oracle_per_arch_fixes_are_filed_per_arch_and_shared_ones_are_not():
    docs = {d["id"]: d for d in _records(oval, feed("oracle", "vunnel_mock_per_arch_data.xml"))}
    rsyslog = _entries(docs["ELSA-2022-4803"])
    assert rsyslog[("Oracle Linux:7:x86_64", "rsyslog")] == ["0", "8.24.0-57.0.1.el7_9.3"]
    assert rsyslog[("Oracle Linux:7:aarch64", "rsyslog")] == ["0", "8.24.0-57.0.4.el7_9.3"]
    assert _entries(docs["ELSA-2025-10073"]) == {
        ("Oracle Linux:10", "firefox"): ["0", "128.12.0-1.0.1.el10_0"]
    }
    # Two rebuilds of one fix (upstream's and Oracle's): the lower one is the fix.
    assert _entries(docs["ELSA-2024-2961"])[("Oracle Linux:8", "python3-osbuild")] == ["0", "110-1.el8"]
    assert docs["ELSA-2022-4803"]["upstream"] == ["CVE-2022-24903"]
    severity = docs["ELSA-2022-4803"]["affected"][0]["database_specific"]
    assert severity["severity"] == "IMPORTANT"
    assert severity["cves_map"]["cves"] == [
        {
            "id": "CVE-2022-24903",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        }
    ]


def test_oracle_ksplice_fixes_have_their_own_ecosystem():
    (doc,) = _records(oval, feed("oracle", "vunnel_mock_ksplice_data.xml"))
    assert _entries(doc)[("Oracle Linux:8:ksplice", "openssl-libs")] == ["0", "2:1.1.1g-15.ksplice1.el8_3"]
    assert all(":ksplice" in a["package"]["ecosystem"] for a in doc["affected"])


def test_oracle_bz2_file_with_releases_5_and_8_and_a_module_stream():
    docs = {d["id"]: d for d in _records(oval, feed("oracle", "vuls_com.oracle.elsa-all.xml.bz2"))}
    assert _entries(docs["ELSA-2007-0057"])[("Oracle Linux:5", "bind")] == ["0", "30:9.3.3-8.el5"]
    hivex = docs["ELSA-2023-12342"]["affected"][0]
    assert hivex["ecosystem_specific"] == {"module": "virt:kvm_utils"}  # a stream name without a version
    assert hivex["ranges"][0]["events"][0] == {"introduced": "0"}


def test_stream_floors():
    assert updateinfo.stream_floor("5.15.73-45.135.amzn2", "kernel-5.15") == "5.15"
    assert updateinfo.stream_floor("14.10-1.amzn2", "postgresql14") == "14"
    assert updateinfo.stream_floor("1:20.10.25-1.amzn2", "docker") == "1:20"
    assert updateinfo.named_floor("1:18.19.0-1.module+el8", "18") == "1:18"
    assert updateinfo.named_floor("1.3.18-21.module+el8", "kvm_utils") is None
