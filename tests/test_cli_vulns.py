"""The vulnerability side of the command line: db import/info/update, scans with findings, imports
of Trivy and Grype reports, stale-database warnings."""

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from testkit.apps import build_app, import_app_db
from testkit.osvmirror import OsvMirror

from ci_security.cli import main
from ci_security.vulndb.store import SCHEMA_VERSION

FIXTURES = Path(__file__).parent / "fixtures"
SITE = "usr/local/lib/python3.11/site-packages"


def _cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return import_app_db(tmp_path / "osv.sqlite")


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return build_app(tmp_path / "app.tar")


def test_scan_reports_findings(db, archive, tmp_path):
    out = tmp_path / "r.json"
    result = _cli(
        "scan", "-i", f"docker-archive:{archive}", "--db", str(db), "-o", f"json={out}", "-o", "table"
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["db"]["schema_version"] == SCHEMA_VERSION and report["db"]["sources"]
    vulns = {(v["id"], v["package"]["name"]): v for v in report["vulnerabilities"]}
    openssl = vulns["CVE-2024-0727", "openssl"]
    assert openssl["fixed_version"] == "3.0.13-1~deb12u1" and openssl["status"] == "fixed"
    assert openssl["severity"] == "MEDIUM" and openssl["cvss_score"] == 5.5
    assert openssl["aliases"] == ["DEBIAN-CVE-2024-0727"]
    assert openssl["match"] == {
        "matcher": "dpkg",
        "kind": "direct",
        "ecosystem": "Debian:12",
        "name": "openssl",
        "version": "3.0.11-1~deb12u2",
        "source": "osv:DEBIAN-CVE-2024-0727",
    }
    assert len(openssl["fingerprint"]) == 32
    requests = vulns["CVE-2018-18074", "requests"]
    assert requests["package"]["layer"]["index"] == 1 and requests["fixed_version"] == "2.20.0"
    severities = [v["severity"] for v in report["vulnerabilities"]]
    order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
    assert severities == sorted(severities, key=order.index)  # most severe first
    assert "CVE-2024-0727" in result.output and "Vulnerabilities" in result.output


def test_db_info(db):
    result = _cli("db", "info", "--db", str(db))
    assert result.exit_code == 0
    assert f"schema:    {SCHEMA_VERSION}" in result.output and "withdrawn, not matched" in result.output
    assert "records:" in result.output and "source:" in result.output
    assert "cves:      0 CVSS record(s) (NVD, CVE 5), 0 in CISA KEV, 0 EPSS score(s)" in result.output


def test_db_update_from_a_mirror_and_its_env_variable(tmp_path, osv_go):
    path = tmp_path / "osv.sqlite"
    with OsvMirror() as mirror:
        mirror.add("Go", *sorted(osv_go.glob("*.json")))
        env = {"CI_SECURITY_OSV_MIRROR": mirror.url, "CI_SECURITY_DB": str(path)}
        result = _cli("db", "update", "--ecosystem", "Go", env=env)
    assert result.exit_code == 0, result.output
    assert "Go: full, 4 record(s)" in result.output
    assert path.is_file()


def test_db_import_of_a_broken_file_is_exit_2_and_changes_nothing(db, tmp_path):
    before = db.read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "X", "modified": ')
    result = CliRunner().invoke(main, ["db", "import", "--db", str(db), str(bad)])
    assert result.exit_code == 2
    assert db.read_bytes() == before


def test_stale_database_warns_without_making_the_scan_partial(db, archive, tmp_path):
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = '2020-01-01T00:00:00Z' WHERE key = 'updated_at'")
    result = CliRunner().invoke(
        main, ["scan", "-i", f"docker-archive:{archive}", "--db", str(db), "-o", "json", "--strict"]
    )
    assert result.exit_code == 0
    assert "warning: vulndb: the vulnerability database is" in result.stderr
    fresh = CliRunner().invoke(
        main,
        ["scan", "-i", f"docker-archive:{archive}", "--db", str(db), "-o", "json", "--db-max-age", "100000d"],
    )
    assert "vulnerability database is" not in fresh.stderr


def _imported(tmp_path: Path, *args: str) -> list[dict]:
    out = tmp_path / "r.json"
    result = _cli("scan", *args, "-o", f"json={out}")
    report = json.loads(out.read_text())
    # The default policy fails on fixable HIGH findings; the exit code is the report's verdict.
    assert result.exit_code == {"pass": 0, "fail": 1}[report["policy"]["result"]], result.output
    assert report["target"] is None
    return report["vulnerabilities"]


def test_import_trivy_and_grype_reports(tmp_path):
    trivy = _imported(tmp_path, "--from-trivy", str(FIXTURES / "ingest" / "trivy-0.76-debian-app.json"))
    grype = _imported(tmp_path, "--from-grype", str(FIXTURES / "ingest" / "grype-debian-app.json"))
    both = _imported(
        tmp_path,
        "--from-trivy",
        str(FIXTURES / "ingest" / "trivy-0.76-debian-app.json"),
        "--from-grype",
        str(FIXTURES / "ingest" / "grype-debian-app.json"),
    )
    assert {v["match"]["source"] for v in trivy} == {"trivy"} and {v["match"]["source"] for v in grype} == {
        "grype"
    }

    def key(v: dict) -> tuple:
        return v["package"]["name"], v["package"]["version"]

    # The two reports describe the same image: a finding both tools made (same package, a shared id
    # or alias) appears once, from the first report given.
    assert len(both) < len(trivy) + len(grype)
    for v in grype:
        ids = {v["id"], *v["aliases"]}
        assert any(key(w) == key(v) and ids & {w["id"], *w["aliases"]} for w in both)
    assert len({(v["id"], *key(v)) for v in both}) == len(both)


def test_merging_imported_findings_with_our_own(db, archive, tmp_path):
    trivy = {
        "SchemaVersion": 2,
        "ArtifactName": "app",
        "ArtifactType": "container_image",
        "Results": [
            {
                "Target": "app (debian 12.5)",
                "Class": "os-pkgs",
                "Type": "debian",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": "CVE-2024-0727",
                        "PkgName": "openssl",
                        "InstalledVersion": "3.0.11-1~deb12u2",
                        "FixedVersion": "3.0.13-1~deb12u1",
                        "Severity": "MEDIUM",
                    },
                    {
                        "VulnerabilityID": "CVE-2099-0001",
                        "PkgName": "bash",
                        "InstalledVersion": "5.2.15-2+b2",
                        "Severity": "LOW",
                    },
                ],
            }
        ],
    }
    path = tmp_path / "trivy.json"
    path.write_text(json.dumps(trivy))
    out = tmp_path / "r.json"
    result = _cli(
        "scan",
        "-i",
        f"docker-archive:{archive}",
        "--db",
        str(db),
        "--from-trivy",
        str(path),
        "-o",
        f"json={out}",
    )
    assert result.exit_code == 0, result.output
    vulns = json.loads(out.read_text())["vulnerabilities"]
    openssl = [v for v in vulns if v["id"] == "CVE-2024-0727"]
    assert len(openssl) == 1 and openssl[0]["match"]["source"].startswith("osv:")
    assert [v["match"]["source"] for v in vulns if v["id"] == "CVE-2099-0001"] == ["trivy"]


def test_not_a_trivy_report_is_exit_2(tmp_path):
    result = CliRunner().invoke(
        main, ["scan", "--from-trivy", str(FIXTURES / "ingest" / "grype-debian-app.json")]
    )
    assert result.exit_code == 2
    assert "not a Trivy JSON report" in result.stderr


def test_the_ci_step_scans_with_the_database_of_its_repository(db, archive, tmp_path):
    """`CI_SECURITY_DB_REPOSITORY` (the action's and the component's `db-repository`): the step pulls
    the organisation's database instead of downloading the OSV exports, and finds with it."""
    import shutil

    from testkit.registries import docker_registry

    if shutil.which("docker-registry") is None:
        pytest.skip("needs docker-registry")
    live = tmp_path / "ci" / "osv.sqlite"
    with docker_registry(tmp_path / "registry") as reg:
        repository = f"{reg.host}/org/ci-security-db"
        assert _cli("db", "push", "--db", str(db), repository).exit_code == 0
        env = {
            "CI_SECURITY_DB_REPOSITORY": repository,
            "CI_SECURITY_DB": str(live),
            "CI_SECURITY_OSV_MIRROR": "http://127.0.0.1:9",  # never asked
            "CI_SECURITY_REPORT_DIR": str(tmp_path / "reports"),
            "GITHUB_ACTIONS": "",
            "GITLAB_CI": "",
        }
        result = CliRunner().invoke(main, ["ci", "-i", f"docker-archive:{archive}", "--no-comment"], env=env)
    assert result.exit_code in (0, 1), result.output
    assert f"database {live} pulled from {repository}:{SCHEMA_VERSION}@sha256:" in result.output
    report = json.loads((tmp_path / "reports" / "ci-security.json").read_text())
    assert "CVE-2024-0727" in {v["id"] for v in report["vulnerabilities"]}
