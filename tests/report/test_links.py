"""Where ids lead: advisories by their id's grammar or their own references, rules to their docs."""

from ci_security.report.links import advisory_url, rule_url


def test_advisory_urls():
    assert advisory_url("CVE-2024-0727") == "https://nvd.nist.gov/vuln/detail/CVE-2024-0727"
    assert advisory_url("cve-2024-0727") == "https://nvd.nist.gov/vuln/detail/CVE-2024-0727"
    assert advisory_url("GHSA-c2c2-f3f3-g4g4") == "https://github.com/advisories/GHSA-c2c2-f3f3-g4g4"
    refs = (
        "javascript:DSA-1",
        "https://x.example/other",
        "https://security-tracker.debian.org/tracker/DSA-1",
    )
    assert advisory_url("DSA-1", refs) == "https://security-tracker.debian.org/tracker/DSA-1"
    assert advisory_url("RUSTSEC-2016-0001") == "https://osv.dev/vulnerability/RUSTSEC-2016-0001"
    # an id that fits no grammar leads nowhere rather than somewhere made up
    assert advisory_url("CVE-2024-0727 <img>") is None
    assert advisory_url("x") is None
    assert advisory_url("GHSA-aaaa-bbbb-cccc", ()) == "https://osv.dev/vulnerability/GHSA-aaaa-bbbb-cccc"


def test_rule_urls():
    docs = "https://github.com/acme/ci-security/blob/v1/docs/"
    assert rule_url("DF001", found_by="ci-security", docs_url=docs) == f"{docs}rules.md#df001"
    assert rule_url("COMPOSE003", found_by="ci-security", docs_url=docs) == f"{docs}rules.md#compose003"
    assert rule_url("DF001", found_by="ci-security", docs_url="") is None
    assert rule_url("DF001", found_by="ci-security", docs_url="javascript:x") is None
    assert rule_url("df 1", found_by="ci-security", docs_url=docs) is None
    wiki = ("https://github.com/hadolint/hadolint/wiki/DL3008",)
    assert rule_url("DL3008", found_by="hadolint", docs_url=docs, references=wiki) == wiki[0]
    assert rule_url("DL3008", found_by="hadolint", docs_url=docs, references=("ftp://x",)) is None
