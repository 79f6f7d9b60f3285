import json
from datetime import date

from ci_security.models import ImageTarget, Package, ScanResult, Severity, Vulnerability
from ci_security.policy.evaluate import evaluate
from ci_security.policy.load import parse_policy
from ci_security.policy.vex import parse_vex
from ci_security.report.base import RenderContext
from ci_security.report.openvex import EPOCH, OpenVexReporter

DIGEST = "sha256:" + "a" * 64
PKG = Package(name="urllib3", version="1.24.1", type="pypi", purl="pkg:pypi/urllib3@1.24.1", path="/m")
POLICY = """\
ignore:
  - id: CVE-2023-43804
    reason: urllib3 redirects never carry cookies here
    expires: 2027-01-31
"""


def result(created):
    target = ImageTarget(
        reference="ghcr.io/acme/app:1.2",
        transport="docker",
        digest=DIGEST,
        image_id="sha256:" + "c" * 64,
        platform=None,
        layers=(),
        repo_tags=("ghcr.io/acme/app:1.2",),
        repo_digests=(f"ghcr.io/acme/app@{DIGEST}",),
        created=created,
    )
    finding = Vulnerability(
        id="CVE-2023-43804",
        aliases=(),
        package=PKG,
        fixed_version="1.26.17",
        status="fixed",
        severity=Severity.HIGH,
        cvss_score=None,
        severity_source="osv",
        fingerprint="f1",
    )
    return ScanResult(
        target=target, packages=(PKG,), vulnerabilities_scanned=True, vulnerabilities=(finding,)
    )


def render(scan):
    decision = evaluate(scan, parse_policy(POLICY, ".ci-security.yml"), today=date(2026, 11, 26))
    return OpenVexReporter().render(scan, decision, RenderContext())


def test_timestamp_is_the_image_creation_time_and_output_is_stable():
    scan = result("2026-11-20T10:00:00.123456789Z")
    text = render(scan)
    assert text == render(scan)
    assert text.endswith("}\n")
    doc = json.loads(text)
    assert OpenVexReporter.name == "openvex"
    assert doc["timestamp"] == "2026-11-20T10:00:00.123456789Z"
    (statement,) = doc["statements"]
    assert statement["vulnerability"] == {"name": "CVE-2023-43804"}
    assert statement["products"][0]["subcomponents"] == [{"@id": PKG.purl, "identifiers": {"purl": PKG.purl}}]
    assert parse_vex(doc, "out.json").statements[0].suppresses


def test_without_a_creation_time_the_epoch_is_used():
    for created in (None, "", "last tuesday"):
        assert json.loads(render(result(created)))["timestamp"] == EPOCH == "1970-01-01T00:00:00Z"
