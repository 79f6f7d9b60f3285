"""The Grype importer: a document written here in the layout of Grype's JSON presenter snapshot, a
hand-written report in Grype's current shape (see tests/fixtures/ingest/LICENSE-NOTE.md), hand-built
edge cases, and malformed input.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from ci_security.ingest.base import Importer, ReportImportError
from ci_security.ingest.grype import GrypeImporter
from ci_security.models import LayerRef, MatchDetail, OSInfo, Package, Severity, Vulnerability

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ingest"
SNAPSHOT = FIXTURES / "grype-presenter-layout-synthetic.json"
APP = FIXTURES / "grype-debian-app.json"
TRIVY = FIXTURES / "trivy-debian-10-synthetic.json"

DIFF_ID = "sha256:e447bcbf77a7081b7192653091abf65112fd646a9058fec20a9b2640968037e6"
APP_LAYER = LayerRef(index=0, digest=DIFF_ID, diff_id=DIFF_ID)  # docker-archive: blobs are the diff tars


def load(path: Path):
    return GrypeImporter().load(path)


def write(tmp_path: Path, doc: object, name: str = "report.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def match(vulnerability: dict | None = None, artifact: dict | None = None, **fields: object) -> dict:
    out: dict = {
        "vulnerability": {"id": "CVE-2099-1", "namespace": "nvd:cpe", "severity": "Medium"},
        "relatedVulnerabilities": [],
        "matchDetails": [],
        "artifact": {"name": "pkg", "version": "1.0", "type": "python"},
    }
    out["vulnerability"].update(vulnerability or {})
    out["artifact"].update(artifact or {})
    out.update(fields)
    return out


def report(*matches: dict, **envelope: object) -> dict:
    doc: dict = {"matches": list(matches), "descriptor": {"name": "grype", "version": "0.104.0"}}
    doc.update(envelope)
    return doc


def one(tmp_path: Path, *args: dict | None, **fields: object) -> Vulnerability:
    (found,) = load(write(tmp_path, report(match(*args, **fields)))).vulnerabilities
    return found


def test_importer_contract(tmp_path):
    importer: Importer = GrypeImporter()
    assert importer.name == "grype" and importer.produces == ("vulnerabilities",)
    # A Grype report is a vulnerability scan even when it matched nothing.
    assert importer.load(write(tmp_path, report())).vulnerability_scan


# --- a document written here in the layout of Grype's JSON presenter snapshot (synthetic CVE-2099 ids)


def test_snapshot_envelope():
    imported = load(SNAPSHOT)
    assert imported.tool == "grype"
    assert imported.tool_version is None  # "[not provided]"
    assert imported.target == "synthetic-input"
    assert imported.os == OSInfo(family="rocky", version="9.3")
    assert [p.name for p in imported.packages] == ["example-libs", "example-tool"]


def test_snapshot_direct_match_maps_every_field():
    found = load(SNAPSHOT).vulnerabilities[0]
    assert found == Vulnerability(
        id="CVE-2099-0501",
        aliases=(),
        package=Package(
            name="example-libs",
            version="3.0.7-24.el9",
            type="rpm",
            # No purl in the report: built, namespaced by the distro, with the RpmMetadata arch and epoch.
            purl="pkg:rpm/rocky/example-libs@3.0.7-24.el9?arch=x86_64&distro=rocky-9.3&epoch=1",
            arch="x86_64",
            epoch=1,
            path="/var/lib/rpm/rpmdb.sqlite",
            found_by="grype",
        ),
        fixed_version="3.0.7-25.el9",  # matchDetails[0].fix.suggestedVersion
        status="fixed",
        severity=Severity.LOW,
        cvss_score=8.2,
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:H",
        severity_source="grype",
        match=MatchDetail(
            matcher="rpm-matcher",
            kind="direct",
            ecosystem="",
            name="example-libs",
            version="3.0.7-24.el9",
            source="grype",
        ),
    )


def test_snapshot_indirect_match_without_fix_state():
    found = load(SNAPSHOT).vulnerabilities[1]
    assert (found.status, found.fixed_version, found.severity) == ("unknown", None, Severity.CRITICAL)
    assert found.package.purl == "pkg:deb/example-tool@2.4.6"
    assert found.package.licenses == ("BSD-3-Clause", "GPL-2.0-or-later")
    assert found.package.layer is None  # the location has no layerID
    assert found.match is not None
    assert (found.match.kind, found.match.name, found.match.version) == ("indirect", "example-tool", "2.4.6")


# --- a report in Grype's current shape for the debian-app test image


def test_app_envelope_and_packages():
    imported = load(APP)
    assert imported.tool_version == "0.104.0"
    assert imported.target == "docker-archive:/tmp/bench/debian-app.tar"
    assert imported.os == OSInfo(family="debian", version="12")
    assert [p.name for p in imported.packages] == ["libc6", "passwd", "zlib1g", "ms", "Django"]
    assert [v.package for v in imported.vulnerabilities] == list(imported.packages)


def test_app_indirect_distro_match():
    libc6 = load(APP).vulnerabilities[0]
    assert libc6.package == Package(
        name="libc6",
        version="2.36-9+deb12u14",
        type="deb",
        purl="pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&upstream=glibc&distro=debian-12",
        source_name="glibc",
        source_version="2.36-9+deb12u14",  # Grype leaves the upstream version out when it is the same
        arch="amd64",
        path="/var/lib/dpkg/status",
        layer=APP_LAYER,
        found_by="grype",
        licenses=("GPL-2.0-only", "LGPL-2.1-only"),
    )
    assert libc6.match == MatchDetail(
        matcher="dpkg-matcher",
        kind="indirect",
        ecosystem="debian:distro:debian:12",
        name="glibc",
        version="2.36-9+deb12u14",
        source="grype",
    )
    assert (libc6.status, libc6.fixed_version, libc6.severity) == ("fixed", "2.36-9+deb12u15", Severity.HIGH)
    assert libc6.severity_source == "grype:debian:distro:debian:12"
    # The Debian record has no CVSS: the related NVD record's Primary entry is used, not Red Hat's.
    assert (libc6.cvss_score, libc6.cvss_vector) == (7.8, "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H")
    assert libc6.aliases == ()  # the related record has the same id
    assert libc6.references == ("https://security-tracker.debian.org/tracker/CVE-2099-0101",)


def test_app_states_and_negligible_severity():
    found = {v.id: v for v in load(APP).vulnerabilities}
    shadow = found["CVE-2099-0102"]
    assert (shadow.status, shadow.severity, shadow.fixed_version) == ("will_not_fix", Severity.LOW, None)
    assert shadow.package.epoch == 1
    assert shadow.package.source_version == "1:4.13+dfsg1-1+deb12u2"
    zlib = found["CVE-2099-0103"]
    assert (zlib.status, zlib.severity, zlib.cvss_score) == ("affected", Severity.UNKNOWN, None)


def test_app_language_matches():
    found = {v.id: v for v in load(APP).vulnerabilities}
    ms = found["GHSA-9x9x-ms00-0201"]
    assert ms.aliases == ("CVE-2099-0201",)
    # The GHSA record's own entry (no source) wins over the related NVD record's higher score.
    assert (ms.cvss_score, ms.severity) == (5.9, Severity.MEDIUM)
    assert ms.package.path == "/app/node_modules/ms/package.json"
    assert ms.match is not None and (ms.match.kind, ms.match.matcher) == ("direct", "javascript-matcher")
    django = found["GHSA-9x9x-dj00-0301"]
    assert django.package.type == "pypi"  # from the purl
    assert (django.cvss_score, django.fixed_version) == (9.3, "3.2.99")  # CVSS 4.0 over 3.1


# --- edge cases on hand-built reports


@pytest.mark.parametrize(
    ("state", "versions", "expected"),
    [
        ("fixed", ["1.1"], "fixed"),
        ("not-fixed", [], "affected"),
        ("wont-fix", [], "will_not_fix"),
        ("not-affected", [], "not_affected"),
        ("unknown", [], "unknown"),
        ("", ["1.1"], "fixed"),
        ("", [], "unknown"),
        ("Will-Not-Fix", [], "will_not_fix"),
    ],
)
def test_status_from_fix_state(tmp_path, state, versions, expected):
    assert one(tmp_path, {"fix": {"versions": versions, "state": state}}).status == expected


def test_a_fix_state_outside_the_set_is_refused_naming_the_field(tmp_path):
    """A status is a closed set (`VulnStatus`): a state Grype does not write is an error at import, not
    a new status the reports and the policy would meet unannounced."""
    doc = report(match({"fix": {"versions": [], "state": "Some-New-State"}}))
    assert error(write(tmp_path, doc)) == (
        "not a valid Grype report: matches[0].vulnerability.fix.state: 'some-new-state' is not one of "
        "fixed, not-fixed, wont-fix, not-affected, unknown"
    )


def test_fixed_version(tmp_path):
    assert one(tmp_path, {"fix": {"versions": ["1.2", "2.3"], "state": "fixed"}}).fixed_version == "1.2"
    suggested = match(
        {"fix": {"versions": ["1.2", "2.3"], "state": "fixed"}},
        matchDetails=[{"type": "exact-direct-match", "matcher": "m", "fix": {"suggestedVersion": "2.3"}}],
    )
    (found,) = load(write(tmp_path, report(suggested))).vulnerabilities
    assert found.fixed_version == "2.3"


def test_zero_epoch_on_rpm_fixes_is_dropped_when_installed_has_none(tmp_path):
    rpm = {"name": "avahi-libs", "version": "0.7-20.el8", "type": "rpm"}
    fix = {"fix": {"versions": ["0:0.7-21.el8_9.1"], "state": "fixed"}}
    assert one(tmp_path, fix, rpm).fixed_version == "0.7-21.el8_9.1"
    with_epoch = dict(rpm, version="0:0.7-20.el8")
    assert one(tmp_path, fix, with_epoch).fixed_version == "0:0.7-21.el8_9.1"
    npm = {"name": "x", "version": "1.0", "type": "npm"}
    assert one(tmp_path, {"fix": {"versions": ["0:1"], "state": "fixed"}}, npm).fixed_version == "0:1"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Negligible", Severity.LOW),
        ("Low", Severity.LOW),
        ("Medium", Severity.MEDIUM),
        ("High", Severity.HIGH),
        ("Critical", Severity.CRITICAL),
        ("Unknown", Severity.UNKNOWN),
        ("", Severity.UNKNOWN),
    ],
)
def test_severity(tmp_path, label, expected):
    assert one(tmp_path, {"severity": label}).severity is expected


def cvss(source: str, version: str, score: float, kind: str = "") -> dict:
    entry: dict = {"version": version, "vector": f"{source}/{version}", "metrics": {"baseScore": score}}
    if source:
        entry["source"] = source
    if kind:
        entry["type"] = kind
    return entry


@pytest.mark.parametrize(
    ("namespace", "data_source", "entries", "expected"),
    [
        # The namespace's vendor names the source: NVD's 3.1 over Red Hat's newer-looking 4.0.
        ("nvd:cpe", "", [cvss("secalert@redhat.com", "4.0", 6.0), cvss("nvd@nist.gov", "3.1", 7.5)], 7.5),
        # Same source: the newest version; Primary before Secondary.
        ("nvd:cpe", "", [cvss("nvd@nist.gov", "2.0", 5.0), cvss("nvd@nist.gov", "3.1", 7.5)], 7.5),
        (
            "nvd:cpe",
            "",
            [cvss("nvd@nist.gov", "3.1", 6.0, "Secondary"), cvss("nvd@nist.gov", "3.1", 7.0, "Primary")],
            7.0,
        ),
        # The data source's domain names the source.
        (
            "x:y",
            "https://access.redhat.com/security/cve/CVE-1",
            [cvss("a@b.org", "3.1", 9.0), cvss("secalert@redhat.com", "3.0", 4.0)],
            4.0,
        ),
        # No entry of the record's own: the highest version.
        ("github:language:go", "", [cvss("a@b.org", "3.0", 9.0), cvss("c@d.org", "4.0", 3.0)], 3.0),
        # Entries without a source are the record's own.
        ("redhat:distro:redhat:9", "", [cvss("nvd@nist.gov", "3.1", 9.8), cvss("", "3.1", 6.2)], 6.2),
    ],
)
def test_cvss_choice(tmp_path, namespace, data_source, entries, expected):
    found = one(tmp_path, {"namespace": namespace, "dataSource": data_source, "cvss": entries})
    assert found.cvss_score == expected


def test_cvss_falls_back_to_related_records_in_order(tmp_path):
    related = [
        {"id": "CVE-2099-1", "namespace": "nvd:cpe", "cvss": []},
        {"id": "CVE-2099-1", "namespace": "nvd:cpe", "cvss": [cvss("nvd@nist.gov", "3.1", 8.1)]},
        {"id": "GHSA-x", "namespace": "github:language:python", "cvss": [cvss("", "3.1", 5.0)]},
    ]
    found = one(
        tmp_path, {"namespace": "debian:distro:debian:12", "cvss": []}, relatedVulnerabilities=related
    )
    assert (found.cvss_score, found.cvss_vector) == (8.1, "nvd@nist.gov/3.1")
    assert found.aliases == ("GHSA-x",)


def test_aliases_are_sorted_and_unique(tmp_path):
    related = [{"id": i} for i in ("GHSA-b", "CVE-2099-1", "GHSA-a", "GHSA-b")]
    assert one(tmp_path, relatedVulnerabilities=related).aliases == ("GHSA-a", "GHSA-b")


@pytest.mark.parametrize(
    ("artifact_type", "expected"),
    [
        ("deb", "deb"),
        ("apk", "apk"),
        ("rpm", "rpm"),
        ("python", "pypi"),
        ("npm", "npm"),
        ("go-module", "golang"),
        ("java-archive", "maven"),
        ("gem", "gem"),
        ("rust-crate", "cargo"),
        ("dotnet", "nuget"),
        ("php-composer", "composer"),
        ("binary", "generic"),
    ],
)
def test_type_without_purl_comes_from_the_artifact_type(tmp_path, artifact_type, expected):
    assert one(tmp_path, None, {"type": artifact_type, "purl": ""}).package.type == expected


def test_match_details(tmp_path):
    details = [
        {
            "type": "exact-indirect-match",
            "matcher": "apk-matcher",
            "searchedBy": {
                "namespace": "alpine:distro:alpine:3.19",
                "package": {"name": "openssl", "version": ""},
            },
        },
        {"type": "cpe-match", "matcher": "stock-matcher"},
    ]
    found = one(tmp_path, {"namespace": ""}, {"name": "libssl3", "version": "3.1.4-r5"}, matchDetails=details)
    assert found.match == MatchDetail(
        matcher="apk-matcher",
        kind="indirect",
        ecosystem="alpine:distro:alpine:3.19",  # the namespace searched, when the record has none
        name="openssl",
        version="3.1.4-r5",  # searched version left empty: the artifact's
        source="grype",
    )
    no_type = one(tmp_path, matchDetails=[{"matcher": "java-matcher"}])  # older reports omit `type`
    assert no_type.match is not None and (no_type.match.kind, no_type.match.matcher) == (
        "direct",
        "java-matcher",
    )
    none = one(tmp_path)
    assert none.match == MatchDetail(
        matcher="grype", kind="direct", ecosystem="nvd:cpe", name="pkg", version="1.0", source="grype"
    )


def test_layers_from_source_and_manifest(tmp_path):
    manifest = {"layers": [{"digest": "sha256:blob-a"}, {"digest": "sha256:blob-b"}]}
    target = {
        "userInput": "img:1",
        "layers": [{"digest": "sha256:a"}, {"digest": "sha256:b"}],
        "manifest": base64.b64encode(json.dumps(manifest).encode()).decode(),
    }
    matches = [
        match(artifact={"locations": [{"path": "/x", "layerID": "sha256:b"}]}),
        match(artifact={"locations": [{"path": "/y", "layerID": "sha256:zzz"}]}),
    ]
    doc = report(*matches, source={"type": "image", "target": target})
    layers = [v.package.layer for v in load(write(tmp_path, doc)).vulnerabilities]
    assert layers == [LayerRef(index=1, digest="sha256:blob-b", diff_id="sha256:b"), None]
    target["manifest"] = "not base64!"
    layers = [v.package.layer for v in load(write(tmp_path, doc)).vulnerabilities]
    assert layers == [LayerRef(index=1, digest="", diff_id="sha256:b"), None]


def test_directory_source_and_empty_distro(tmp_path):
    doc = report(match(), source={"type": "directory", "target": "/some/path"}, distro={})
    imported = load(write(tmp_path, doc))
    assert (imported.target, imported.os) == ("/some/path", None)
    assert imported.vulnerabilities[0].package.purl == "pkg:pypi/pkg@1.0"


def test_ignored_matches_are_not_imported(tmp_path):
    doc = report(ignoredMatches=[dict(match(), appliedIgnoreRules=[{"vulnerability": "CVE-2099-1"}])])
    imported = load(write(tmp_path, doc))
    assert (imported.packages, imported.vulnerabilities) == ((), ())


def test_references_and_metadata(tmp_path):
    found = one(
        tmp_path,
        {
            "dataSource": "https://nvd.nist.gov/vuln/detail/CVE-2099-1",
            "urls": ["https://example.org/a", "https://nvd.nist.gov/vuln/detail/CVE-2099-1"],
            "advisories": [{"id": "RHSA-1", "link": "https://access.redhat.com/errata/RHSA-1"}],
            "description": "text",
        },
        {
            "type": "rpm",
            "metadata": {"epoch": None, "modularityLabel": "nodejs:18:8090020231019152822:a75119d5"},
            "purl": "pkg:rpm/rhel/nodejs@18.18.2-2.module%2Bel8?arch=x86_64",
            "licenses": [{"value": "MIT"}, "ISC", ""],
        },
    )
    assert found.references == (
        "https://nvd.nist.gov/vuln/detail/CVE-2099-1",
        "https://example.org/a",
        "https://access.redhat.com/errata/RHSA-1",
    )
    assert found.description == "text"
    assert found.package.modularity_label == "nodejs:18:8090020231019152822:a75119d5"
    assert (found.package.arch, found.package.epoch, found.package.licenses) == (
        "x86_64",
        None,
        ("MIT", "ISC"),
    )


# --- malformed input


def error(path: Path) -> str:
    with pytest.raises(ReportImportError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message[len(f"{path}: ") :]


def test_missing_file(tmp_path):
    assert error(tmp_path / "missing.json") == "cannot read the report: No such file or directory"


def test_truncated_json_gives_line_and_column(tmp_path):
    text = SNAPSHOT.read_text(encoding="utf-8")[:700]
    path = tmp_path / "cut.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    assert expected.value.lineno == 40
    assert error(path) == f"invalid JSON at line 40 column {expected.value.colno}: {expected.value.msg}"


def test_trivy_report_is_not_a_grype_report():
    assert error(TRIVY) == "not a Grype JSON report (it looks like a Trivy report)"


@pytest.mark.parametrize(
    ("doc", "hint"),
    [
        ({"artifacts": [], "descriptor": {"name": "syft", "version": "1.0"}}, " (it looks like a Syft SBOM)"),
        ({"matches": [], "descriptor": {"name": "other-tool"}}, ""),
        ({"matches": {}}, ""),
        ([], ""),
    ],
)
def test_other_documents_are_not_grype_reports(tmp_path, doc, hint):
    assert error(write(tmp_path, doc)) == f"not a Grype JSON report{hint}"


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        ({"vulnerability": None}, "matches[0].vulnerability: expected an object, found null"),
        ({"artifact": {"name": ""}}, "matches[0].artifact.name: missing or empty"),
        (
            {"relatedVulnerabilities": [{"id": 7}]},
            "matches[0].relatedVulnerabilities[0].id: expected a string, found a number",
        ),
        (
            {"vulnerability": {"id": "x", "cvss": [{"metrics": {"baseScore": "high"}}]}},
            "matches[0].vulnerability.cvss[0].metrics.baseScore: expected a number, found a string",
        ),
        ({"matchDetails": "m"}, "matches[0].matchDetails: expected an array, found a string"),
        (
            {"artifact": {"name": "x", "purl": "pkg:/x@1"}},
            "matches[0].artifact.purl: not a package URL (pkg:type/namespace/name@version)",
        ),
    ],
)
def test_wrong_field_types_name_the_field(tmp_path, bad, where):
    doc = report(dict(match(), **bad))
    assert error(write(tmp_path, doc)) == f"not a valid Grype report: {where}"
