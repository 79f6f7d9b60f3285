"""OpenVEX: reading real-shaped documents, rejecting malformed ones, matching findings, and writing
documents that validate against the OpenVEX schema and suppress the same findings when read back."""

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from testkit.openvex import openvex_schema_validator

from ci_security import limits
from ci_security.errors import CiSecurityError
from ci_security.models import ImageTarget, Misconfiguration, Package, ScanResult, Severity, Vulnerability
from ci_security.policy.evaluate import evaluate
from ci_security.policy.load import parse_policy
from ci_security.policy.model import PolicyError
from ci_security.policy.vex import (
    image_matches,
    load_vex,
    openvex_document,
    parse_vex,
    statement_for,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "openvex"
TODAY = date(2026, 11, 26)
DIGEST = "sha256:" + "a" * 64
NOW = "2026-11-26T08:00:00Z"

ZLIB = Package(
    name="zlib1g",
    version="1:1.2.13.dfsg-1",
    type="deb",
    purl="pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12.5&epoch=1",
    path="/var/lib/dpkg/status",
)
URLLIB3 = Package(
    name="urllib3", version="1.24.1", type="pypi", purl="pkg:pypi/urllib3@1.24.1", path="/x/METADATA"
)
REQUESTS = Package(name="requests", version="2.31.0", type="pypi", purl="pkg:pypi/requests@2.31.0", path="/y")
LIBSSL = Package(
    name="libssl3",
    version="3.1.4-r5",
    type="apk",
    purl="pkg:apk/alpine/libssl3@3.1.4-r5?arch=x86_64",
    path="/z",
)


def vuln(vuln_id, package, aliases=(), severity=Severity.HIGH):
    return Vulnerability(
        id=vuln_id,
        aliases=tuple(aliases),
        package=package,
        fixed_version="99",
        status="fixed",
        severity=severity,
        cvss_score=None,
        severity_source="osv",
        fingerprint=f"fp:{vuln_id}:{package.name}:{package.path}",
    )


def target(reference="ghcr.io/acme/app:1.2", digest=DIGEST, **overrides):
    fields = {
        "reference": reference,
        "transport": "docker",
        "digest": digest,
        "image_id": "sha256:" + "c" * 64,
        "platform": None,
        "layers": (),
        "repo_tags": ("ghcr.io/acme/app:1.2",),
        "repo_digests": (f"ghcr.io/acme/app@{digest}",),
        "created": "2026-11-20T10:00:00.123456789Z",
    }
    fields.update(overrides)
    return ImageTarget(**fields)


def suppressed(vex, *vulns, image=None):
    result = ScanResult(
        target=target() if image is None else image, packages=(), vulnerabilities=tuple(vulns)
    )
    decision = evaluate(result, parse_policy("", "p.yml"), today=TODAY, vex=vex)
    return [s.fingerprint for s in decision.suppressed if s.kind == "vex"]


def test_schema_accepts_vexctl_output_and_rejects_what_the_specification_forbids():
    validator = openvex_schema_validator()
    good = json.loads((FIXTURES / "vexctl-v0.2.0.openvex.json").read_text())
    assert [e.message for e in validator.iter_errors(good)] == []

    def errors(change) -> list[str]:
        doc = json.loads(json.dumps(good))
        change(doc)
        return [e.message for e in validator.iter_errors(doc)]

    first, second, third = 0, 1, 2  # not_affected + justification, + impact_statement, affected
    assert errors(lambda d: d.pop("author"))
    assert errors(lambda d: d.update(version=0))
    assert errors(lambda d: d.update(statements=[]))
    assert errors(lambda d: d.update({"@context": "https://example.com/ns"}))
    assert errors(lambda d: d["statements"][first].update(status="exploitable"))
    assert errors(lambda d: d["statements"][first].update(justification="not_reachable"))
    assert errors(lambda d: d["statements"][first].pop("justification"))  # not_affected says why
    assert errors(lambda d: d["statements"][second].update(justification="component_not_present"))
    assert errors(lambda d: d["statements"][third].pop("action_statement"))  # affected says what to do
    assert errors(lambda d: d["statements"][third]["vulnerability"].pop("name"))
    assert errors(lambda d: d["statements"][third].update(note="x"))
    assert errors(lambda d: d["statements"][first]["products"][0].update(hashes={"sha-256": "not hex"}))
    assert errors(lambda d: d["statements"][first]["products"][0].update(hashes={"crc32": "00"}))
    assert errors(lambda d: d.update(timestamp="yesterday"))


# --- reading -----------------------------------------------------------------------------------------


def test_read_vexctl_document():
    doc = load_vex(FIXTURES / "vexctl-v0.2.0.openvex.json")
    assert doc.source.endswith("vexctl-v0.2.0.openvex.json")
    assert doc.author == "Acme Product Security <security@acme.example>"
    assert doc.id.startswith("https://openvex.dev/docs/public/vex-")
    assert doc.timestamp is not None and doc.timestamp.utcoffset().total_seconds() == -5 * 3600
    first, second, third, fourth = doc.statements
    assert first.vulnerability == "CVE-2023-45853"
    assert first.aliases == ("DLA-3634-1",)
    assert first.justification == "vulnerable_code_not_in_execute_path"
    assert first.suppresses
    (product,) = first.products
    assert product.ids[0].startswith("pkg:oci/app@sha256%3A")
    assert product.subcomponents == (
        "pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12&epoch=1",
    )
    assert second.impact_statement.startswith("The application never sends")
    assert second.products[0].ids == ("pkg:pypi/urllib3",)
    assert (third.status, third.suppresses) == ("affected", False)
    assert (fourth.status, fourth.suppresses) == ("under_investigation", False)


def test_vexctl_document_suppresses_what_it_says():
    doc = load_vex(FIXTURES / "vexctl-v0.2.0.openvex.json")
    zlib = vuln("CVE-2023-45853", ZLIB)
    urllib3 = vuln("GHSA-v845-jxx5-vc9f", URLLIB3, aliases=("CVE-2023-43804",))
    requests = vuln("CVE-2024-35195", REQUESTS)
    investigating = vuln("GHSA-9wx4-h78v-vm56", REQUESTS)
    assert suppressed([doc], zlib, urllib3, requests, investigating) == [
        zlib.fingerprint,
        urllib3.fingerprint,
    ]
    # The zlib statement is about one image: another digest is another product.
    other = target(digest="sha256:" + "b" * 64)
    assert suppressed([doc], zlib, image=other) == []
    assert suppressed([doc], urllib3, image=other) == [urllib3.fingerprint]


def test_read_draft_document():
    doc = load_vex(FIXTURES / "draft-v0.0.1.openvex.json")
    fixed, not_affected = doc.statements
    assert fixed.vulnerability == "CVE-2014-123456"
    assert [p.ids for p in fixed.products] == [
        ("pkg:apk/distro/git@2.39.0-r1?arch=armv7",),
        ("pkg:apk/distro/git@2.39.0-r1?arch=x86_64",),
    ]
    assert not_affected.products[0].subcomponents == ("pkg:apk/alpine/libssl3",)
    libssl = vuln("CVE-2023-0286", LIBSSL)
    assert suppressed([doc], libssl) == [libssl.fingerprint]
    assert (
        suppressed([doc], libssl, image=target("ghcr.io/acme/app:1.3", repo_tags=("ghcr.io/acme/app:1.3",)))
        == []
    )


@pytest.mark.parametrize(
    ("ident", "matches"),
    [
        (f"pkg:oci/app@{DIGEST.replace(':', '%3A')}?repository_url=ghcr.io/acme/app", True),
        (f"pkg:oci/app@{DIGEST}", True),
        (f"pkg:oci/app@{DIGEST.replace(':', '%3A')}?repository_url=ghcr.io/other/app", False),
        ("pkg:oci/app@sha256%3A" + "b" * 64, False),
        ("pkg:oci/app?repository_url=ghcr.io/acme/app", True),
        ("pkg:oci/app", True),
        ("pkg:oci/other", False),
        ("pkg:oci/app?repository_url=ghcr.io/acme/app&tag=1.2", True),
        ("pkg:oci/app?repository_url=ghcr.io/acme/app&tag=1.3", False),
        ("ghcr.io/acme/app:1.2", True),
        ("ghcr.io/acme/app:1.3", False),
        (f"ghcr.io/acme/app@{DIGEST}", True),
        ("pkg:pypi/app", False),
    ],
)
def test_image_product_matching(ident, matches):
    assert image_matches(ident, target()) is matches


def test_image_product_without_subcomponents_covers_every_package():
    doc = parse_vex(
        {
            "@context": "https://openvex.dev/ns/v0.2.0",
            "statements": [
                {
                    "vulnerability": {"name": "CVE-2023-43804"},
                    "products": [{"@id": "ghcr.io/acme/app:1.2"}],
                    "status": "not_affected",
                    "justification": "component_not_present",
                }
            ],
        },
        "image.json",
    )
    a, b = vuln("CVE-2023-43804", URLLIB3), vuln("CVE-2023-43804", REQUESTS)
    assert sorted(suppressed([doc], a, b)) == sorted([a.fingerprint, b.fingerprint])
    assert suppressed([doc], a, image=target("ghcr.io/acme/other:1", repo_tags=(), repo_digests=())) == []


def _statement(status, timestamp, **extra):
    return {
        "vulnerability": {"name": "CVE-2023-43804"},
        "timestamp": timestamp,
        "products": [{"@id": "pkg:pypi/urllib3"}],
        "status": status,
        **extra,
    }


def test_the_latest_statement_decides():
    said_not_affected = _statement("not_affected", "2026-01-01T00:00:00Z", impact_statement="not used")
    said_affected = _statement("affected", "2026-06-01T00:00:00+02:00", action_statement="upgrade")
    finding = vuln("CVE-2023-43804", URLLIB3)
    for statements, expected in (
        ([said_not_affected, said_affected], []),
        ([said_affected, said_not_affected], []),
    ):
        doc = parse_vex({"@context": "https://openvex.dev/ns/v0.2.0", "statements": statements}, "d.json")
        assert suppressed([doc], finding) == expected
    later = _statement("not_affected", "2026-07-01T00:00:00Z", impact_statement="code removed")
    doc = parse_vex(
        {"@context": "https://openvex.dev/ns/v0.2.0", "statements": [later, said_affected]}, "d.json"
    )
    assert suppressed([doc], finding) == [finding.fingerprint]
    decided = statement_for([doc], finding, target())
    assert decided is not None and decided[1].reason == "code removed"


def test_later_documents_win_ties():
    finding = vuln("CVE-2023-43804", URLLIB3)
    first = parse_vex(
        {
            "@context": "https://openvex.dev/ns/v0.2.0",
            "statements": [_statement("affected", None, action_statement="x")],
        },
        "a.json",
    )
    second = parse_vex(
        {
            "@context": "https://openvex.dev/ns/v0.2.0",
            "statements": [_statement("not_affected", None, impact_statement="y")],
        },
        "b.json",
    )
    assert suppressed([first, second], finding) == [finding.fingerprint]
    assert suppressed([second, first], finding) == []


# --- malformed ---------------------------------------------------------------------------------------


def _doc(**statement):
    base = {
        "vulnerability": {"name": "CVE-1"},
        "products": [{"@id": "pkg:pypi/x"}],
        "status": "not_affected",
        "justification": "component_not_present",
    }
    base.update(statement)
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "statements": [{k: v for k, v in base.items() if v is not None}],
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "v.json: not an OpenVEX document (expected a JSON object)"),
        ({"statements": []}, "v.json: not an OpenVEX document (@context is None)"),
        (
            {"@context": "https://cyclonedx.org/", "statements": []},
            "v.json: not an OpenVEX document (@context is 'https://cyclonedx.org/')",
        ),
        ({"@context": "https://openvex.dev/ns/v0.2.0"}, "v.json: statements: must be a list"),
        (
            {"@context": "https://openvex.dev/ns/v0.2.0", "statements": ["x"]},
            "v.json: statements[0]: must be an object",
        ),
        (
            _doc(vulnerability={"@id": "https://x"}),
            "v.json: statements[0].vulnerability: needs a name (the vulnerability id)",
        ),
        (
            _doc(vulnerability={"name": "CVE-1", "aliases": "CVE-2"}),
            "v.json: statements[0].vulnerability.aliases: must be a list of non-empty strings",
        ),
        (
            _doc(status="exploitable"),
            "v.json: statements[0].status: 'exploitable' is not one of not_affected, affected, fixed, "
            "under_investigation",
        ),
        (
            _doc(justification="code_not_reachable"),
            "v.json: statements[0].justification: 'code_not_reachable' is not one of component_not_present, "
            "vulnerable_code_not_present, vulnerable_code_not_in_execute_path, "
            "vulnerable_code_cannot_be_controlled_by_adversary, inline_mitigations_already_exist",
        ),
        (
            _doc(justification=None),
            "v.json: statements[0]: status not_affected needs a justification or an impact_statement",
        ),
        (_doc(products=None), "v.json: statements[0].products: must be a non-empty list"),
        (
            _doc(products=[{"hashes": {"sha-256": "ab"}}]),
            "v.json: statements[0].products[0]: has neither @id nor identifiers.purl, so it names nothing",
        ),
        (
            _doc(products=[{"identifiers": {"purl": "urllib3"}}]),
            "v.json: statements[0].products[0].identifiers.purl: 'urllib3' is not a package URL",
        ),
        (
            _doc(products=[{"identifiers": {"purl": "pkg:pypi/urllib3?arch"}}]),
            "v.json: statements[0].products[0].identifiers.purl: "
            "'pkg:pypi/urllib3?arch' is not a package URL",
        ),
        (
            _doc(products=[{"@id": "x", "subcomponents": {"@id": "y"}}]),
            "v.json: statements[0].products[0].subcomponents: must be a list",
        ),
        (
            _doc(subcomponents=7),
            "v.json: statements[0].subcomponents: must be a list",
        ),
        (
            _doc(status=["not_affected"]),
            "v.json: statements[0].status: ['not_affected'] is not one of not_affected, affected, fixed, "
            "under_investigation",
        ),
        (
            _doc(justification={"x": 1}),
            "v.json: statements[0].justification: {'x': 1} is not one of component_not_present, "
            "vulnerable_code_not_present, vulnerable_code_not_in_execute_path, "
            "vulnerable_code_cannot_be_controlled_by_adversary, inline_mitigations_already_exist",
        ),
        (
            _doc(products=[{"@id": "x", "subcomponents": [7]}]),
            "v.json: statements[0].products[0].subcomponents[0]: must be an object with @id or "
            "identifiers.purl",
        ),
        (
            _doc(timestamp="yesterday"),
            "v.json: statements[0].timestamp: timestamp 'yesterday' is not RFC 3339",
        ),
        (_doc(impact_statement=5), "v.json: statements[0].impact_statement: must be a string"),
    ],
)
def test_malformed_documents(data, message):
    with pytest.raises(PolicyError) as raised:
        parse_vex(data, "v.json")
    assert str(raised.value) == message


def test_a_deeply_nested_or_oversized_vex_document_names_the_limit(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"statements": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(CiSecurityError, match=r"deep.json: exceeds the nesting-depth limit \(200\)"):
        load_vex(deep)
    with (
        limits.use(limits.with_overrides(limits.DEFAULTS, {"document-bytes": "100"})),
        pytest.raises(CiSecurityError, match=r"deep.json: exceeds the document-bytes limit \(100 bytes\)"),
    ):
        load_vex(deep)


def test_unreadable_and_non_json_files(tmp_path):
    with pytest.raises(PolicyError, match=r"missing.json: cannot read the VEX document: No such file"):
        load_vex(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"@context": \n')
    with pytest.raises(PolicyError, match=r"bad.json:2:1: invalid JSON: Expecting value"):
        load_vex(bad)


# --- writing -----------------------------------------------------------------------------------------


POLICY = """\
ignore:
  - id: CVE-2023-43804
    reason: urllib3 redirects never carry cookies here
    expires: 2027-01-31
  - id: CVE-2023-45853
    reason: minizip is not built into zlib1g
    expires: 2027-02-28
    vex_justification: vulnerable_code_not_present
checks:
  disable: [DS002]
"""


def written_scan(image=None):
    findings = (
        vuln("GHSA-v845-jxx5-vc9f", URLLIB3, aliases=("CVE-2023-43804", "PYSEC-2023-192")),
        vuln("CVE-2023-45853", ZLIB),
        # the same package found twice (two evidence files): one statement, one subcomponent
        vuln("CVE-2023-45853", replace(ZLIB, path="/var/lib/dpkg/status.d/zlib1g")),
        vuln("CVE-2024-35195", REQUESTS),
    )
    misconf = Misconfiguration(
        rule_id="DS002",
        title="root",
        severity=Severity.HIGH,
        path="Dockerfile",
        line=1,
        message="m",
        fingerprint="m1",
    )
    return ScanResult(
        target=target() if image is None else image,
        packages=(),
        vulnerabilities=findings,
        misconfigurations=(misconf,),
    )


def write_decision(image=None):
    result = written_scan(image)
    decision = evaluate(result, parse_policy(POLICY, ".ci-security.yml"), today=TODAY)
    return result, decision, openvex_document(decision, result, now=NOW)


def test_written_document_shape():
    _, decision, doc = write_decision()
    assert len(decision.suppressed) == 4  # two urllib3/zlib ignores (zlib twice) and the disabled check
    assert list(doc) == ["@context", "@id", "author", "timestamp", "version", "statements"]
    assert doc["@context"] == "https://openvex.dev/ns/v0.2.0"
    assert doc["@id"].startswith("urn:ci-security:openvex:")
    assert (doc["author"], doc["timestamp"], doc["version"]) == ("ci-security", NOW, 1)
    zlib, urllib3 = doc["statements"]
    product = f"pkg:oci/app@sha256%3A{'a' * 64}?repository_url=ghcr.io/acme/app"
    assert zlib == {
        "vulnerability": {"name": "CVE-2023-45853"},
        "products": [
            {
                "@id": product,
                "identifiers": {"purl": product},
                "hashes": {"sha-256": "a" * 64},
                "subcomponents": [{"@id": ZLIB.purl, "identifiers": {"purl": ZLIB.purl}}],
            }
        ],
        "status": "not_affected",
        "justification": "vulnerable_code_not_present",
        "status_notes": "minizip is not built into zlib1g. Accepted until 2027-02-28 by the ci-security "
        "policy (.ci-security.yml:5).",
    }
    assert urllib3["vulnerability"] == {
        "name": "GHSA-v845-jxx5-vc9f",
        "aliases": ["CVE-2023-43804", "PYSEC-2023-192"],
    }
    assert urllib3["impact_statement"] == "urllib3 redirects never carry cookies here"
    assert "justification" not in urllib3
    assert (
        urllib3["status_notes"] == "Accepted until 2027-01-31 by the ci-security policy (.ci-security.yml:2)."
    )


def test_written_document_validates_against_the_openvex_schema():
    validator = openvex_schema_validator()
    for image in (
        target(),
        target("docker-archive:app.tar", transport="docker-archive", repo_tags=(), repo_digests=()),
        target("docker-archive:app.tar", transport="docker-archive", repo_tags=("app:1",), repo_digests=()),
        target("oci:layout:1.0", transport="oci", repo_tags=(), repo_digests=()),
    ):
        _, _, doc = write_decision(image)
        errors = [e.message for e in validator.iter_errors(doc)]
        assert errors == [], image.reference


def test_round_trip_suppresses_the_same_findings():
    for image in (
        target(),
        target(f"ghcr.io/acme/app@{DIGEST}", repo_tags=()),
        target("docker-archive:app.tar", transport="docker-archive", repo_tags=(), repo_digests=()),
        target("docker-archive:app.tar", transport="docker-archive", repo_tags=("app:1",), repo_digests=()),
        target("nginx:1.27", repo_tags=("docker.io/library/nginx:1.27",), repo_digests=()),
    ):
        result, decision, doc = write_decision(image)
        reread = parse_vex(json.loads(json.dumps(doc)), "written.json")
        again = evaluate(result, parse_policy("", "empty.yml"), today=TODAY, vex=[reread])
        by_ignore = {
            s.fingerprint for s in decision.suppressed if s.kind == "ignore" and s.fingerprint != "m1"
        }
        assert {s.fingerprint for s in again.suppressed} == by_ignore, image.reference
        assert all(s.kind == "vex" for s in again.suppressed)


def test_written_document_is_deterministic_and_content_addressed():
    _, _, one = write_decision()
    _, _, two = write_decision()
    assert json.dumps(one) == json.dumps(two)
    result, decision, _ = write_decision()
    later = openvex_document(decision, result, now="2026-11-27T00:00:00Z")
    assert later["@id"] != one["@id"]


def test_product_of_a_tagged_archive_names_its_tag():
    archive = target(
        "docker-archive:app.tar", transport="docker-archive", repo_tags=("app:1",), repo_digests=()
    )
    archive = replace(archive, digest=archive.image_id)  # docker save: no manifest digest
    _, _, doc = write_decision(archive)
    purl = "pkg:oci/app?repository_url=docker.io/library/app&tag=1"
    assert doc["statements"][0]["products"][0]["@id"] == purl
    assert "hashes" not in doc["statements"][0]["products"][0]
    untagged = target("docker-archive:app.tar", transport="docker-archive", repo_tags=(), repo_digests=())
    _, _, doc = write_decision(untagged)
    assert doc["statements"][0]["products"][0]["@id"] == "docker-archive:app.tar"


def test_without_an_image_the_packages_are_the_products():
    result = ScanResult(target=None, packages=(), vulnerabilities=(vuln("CVE-2023-43804", URLLIB3),))
    decision = evaluate(result, parse_policy(POLICY, "p.yml"), today=TODAY)
    doc = openvex_document(decision, result, now=NOW)
    assert doc["statements"][0]["products"] == [{"@id": URLLIB3.purl, "identifiers": {"purl": URLLIB3.purl}}]
    assert openvex_schema_validator().is_valid(doc)


def test_nothing_ignored_writes_no_statements():
    result = ScanResult(target=target(), packages=(), vulnerabilities=(vuln("CVE-2024-35195", REQUESTS),))
    decision = evaluate(result, parse_policy("", "p.yml"), today=TODAY)
    assert openvex_document(decision, result, now=NOW)["statements"] == []
