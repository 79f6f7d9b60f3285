"""Every report shows what rates a vulnerability beyond its severity: the distribution's rating beside
NVD's CVSS, the CISA KEV date and the EPSS score; and SARIF's security-severity follows the rating that
decided the severity (report/signals.py)."""

import json

from testkit.findings import deb_vuln, rated

from ci_security.models import Decision, ImageTarget, OSInfo, Platform, ScanResult, Severity
from ci_security.report.base import RenderContext
from ci_security.report.gitlab import GitLabReporter
from ci_security.report.json import JsonReporter
from ci_security.report.markdown import MarkdownReporter
from ci_security.report.sarif import SarifReporter
from ci_security.report.signals import cvss_text, epss_text, kev_text, severity_score, vendor_text
from ci_security.report.table import TableReporter

TARGET = ImageTarget(
    reference="ghcr.io/acme/app:1.0",
    transport="docker",
    digest="sha256:" + "a" * 64,
    image_id="sha256:" + "b" * 64,
    platform=Platform(os="linux", architecture="amd64"),
    layers=(),
    os=OSInfo(family="debian", version="12.7"),
)
ZLIB = rated(deb_vuln("CVE-2023-45853", "zlib1g", Severity.LOW, fixed=None))
PLAIN = deb_vuln("CVE-2024-2", "curl", Severity.MEDIUM, 5.0)


def result(*vulns):
    return ScanResult(target=TARGET, packages=(), vulnerabilities_scanned=True, vulnerabilities=vulns)


def test_texts():
    assert (vendor_text(ZLIB), cvss_text(ZLIB), kev_text(ZLIB), epss_text(ZLIB)) == (
        "unimportant",
        "9.8",
        "2023-09-13",
        "0.920 p99",
    )
    assert (vendor_text(PLAIN), cvss_text(PLAIN), kev_text(PLAIN), epss_text(PLAIN)) == ("", "", "", "")


def test_security_severity_follows_the_rating_that_decided():
    assert severity_score(ZLIB) == 2.0  # Debian's LOW decided: LOW's midpoint, not NVD's 9.8
    assert (
        severity_score(rated(deb_vuln("CVE-2023-45853", "zlib1g", Severity.LOW), order_vendor_first=False))
        == 9.8
    )
    assert severity_score(PLAIN) == 5.0  # no ratings recorded (an imported finding): its CVSS score


def words(line: str) -> list[str]:
    return [w for w in line.split() if w not in ("┃", "│")]


def test_table_columns(tmp_path):
    text = TableReporter().render(result(ZLIB), Decision(passed=True), RenderContext(width=200))
    header = next(line for line in text.splitlines() if "Severity" in line and "EPSS" in line)
    assert words(header) == [
        "Severity", "ID", "Package", "Installed", "Fixed", "Vendor", "NVD", "KEV", "EPSS", "Policy", "Title",
    ]  # fmt: skip
    row = next(line for line in text.splitlines() if "CVE-2023-45853" in line)
    expected = "LOW CVE-2023-45853 zlib1g 1.0 (affected) unimportant 9.8 2023-09-13 0.920 p99"
    assert words(row)[:10] == expected.split()


def test_markdown_columns():
    text = MarkdownReporter().render(result(ZLIB), Decision(passed=True), RenderContext())
    row = next(line for line in text.splitlines() if "zlib1g" in line)
    assert "| LOW |" in row and "| unimportant / 9.8 | 2023-09-13 | 0.920 p99 |" in row


def test_json_fields():
    doc = json.loads(JsonReporter().render(result(ZLIB), Decision(passed=True), RenderContext()))
    (vuln,) = doc["vulnerabilities"]
    assert vuln["kev"] == {
        "date_added": "2023-09-13",
        "due_date": "2023-10-04",
        "known_ransomware_use": "Unknown",
    }
    assert vuln["epss"] == {"score": 0.91963, "percentile": 0.99214, "date": "2026-09-29"}
    assert [(r["kind"], r["label"], r["score"]) for r in vuln["severity_sources"]] == [
        ("vendor", "unimportant", None),
        ("nvd", None, 9.8),
        ("adp", None, 8.8),
    ]
    assert (vuln["severity"], vuln["vendor_severity"]["label"], vuln["cvss_score"]) == (
        "LOW",
        "unimportant",
        9.8,
    )


def test_sarif_rule_and_result():
    doc = json.loads(SarifReporter().render(result(ZLIB), Decision(passed=True), RenderContext()))
    (run,) = doc["runs"]
    (rule,) = run["tool"]["driver"]["rules"]
    assert rule["properties"]["security-severity"] == "2.0"
    assert "kev" in rule["properties"]["tags"]
    assert (
        "vendor: unimportant · CVSS: 9.8 · CISA KEV since: 2023-09-13 · EPSS: 0.920 p99"
        in rule["help"]["markdown"]
    )
    (found,) = run["results"]
    assert found["properties"]["kev"] == {"dateAdded": "2023-09-13", "dueDate": "2023-10-04"}
    assert found["properties"]["epss"] == {"score": 0.91963, "percentile": 0.99214}


def test_gitlab_description():
    doc = json.loads(GitLabReporter().render(result(ZLIB), Decision(passed=True), RenderContext()))
    (vuln,) = doc["vulnerabilities"]
    assert vuln["severity"] == "Low"
    assert vuln["description"].startswith(
        "Vendor rating: unimportant · CVSS: 9.8 · CISA KEV since: 2023-09-13 · EPSS: 0.920 p99"
    )
