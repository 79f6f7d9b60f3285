"""Packages in use, on a real image made from Debian packages: a minimal Python 3.11 with two
pure-Python libraries, python3-six and python3-idna, whose entrypoint imports six only. After the
dynamic scan, python3-six (and the `six` distribution it installed) is in use and python3-idna is
not, and so are their vulnerabilities, in the JSON report, in SARIF (`inUse`) and in OpenVEX (a
`vulnerable_code_not_in_execute_path` statement for idna only, labelled as one run's evidence).

The vulnerability records are written here, in OSV's form for Debian (source package names, an
unfixed range from 0), so that both installed versions match whatever the mirror served.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from testkit.debs import SANDBOX_DEBS, docker_archive, install
from testkit.openvex import openvex_schema_validator
from testkit.sarif import validate

from ci_security.vulndb.dbimport import import_paths

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("sandbox_tools", "host_untouched")]
REPO = Path(__file__).resolve().parents[2]
PYTHON_DEBS = tuple(name for name in SANDBOX_DEBS if name != "busybox-static")


def _record(vid: str, source: str) -> dict:
    return {
        "schema_version": "1.6.0",
        "id": vid,
        "modified": "2025-01-01T00:00:00Z",
        "summary": f"test advisory for {source} (written for the ci-security sandbox tests)",
        "details": "An unfixed issue in every version, so the test does not depend on the mirror's version.",
        "affected": [
            {
                "package": {"ecosystem": "Debian:12", "name": source},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
            }
        ],
    }


@pytest.fixture(scope="module")
def python_image(tmp_path_factory: pytest.TempPathFactory, sandbox_tools: None) -> Path:
    root = tmp_path_factory.mktemp("python-root") / "root"
    install(root, PYTHON_DEBS)
    app = root / "app"
    app.mkdir()
    (app / "main.py").write_text("import six\n\nprint('six', six.__version__)\n")
    config = {
        "Entrypoint": ["/usr/bin/python3.11", "/app/main.py"],
        "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1"],
        "WorkingDir": "/app",
        "User": "nobody",
    }
    (root / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n"
    )
    return docker_archive(root.parent / "python.tar", root, config, tag="sandbox-test/python:1")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("osv")
    for vid, source in (("CISEC-TEST-SIX-1", "six"), ("CISEC-TEST-IDNA-1", "python-idna")):
        (folder / f"{vid}.json").write_text(json.dumps(_record(vid, source)))
    db = folder / "osv.sqlite"
    import_paths(db, [folder])
    return db


@pytest.fixture(scope="module")
def reports(python_image: Path, database: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ci_security",
            "sandbox",
            "--image",
            f"docker-archive:{python_image}",
            "--db",
            str(database),
            "--repo-root",
            str(out),
            "--duration",
            "60",
            "-q",
            *(
                f"-o{fmt}={out / name}"
                for fmt, name in (("json", "r.json"), ("sarif", "r.sarif"), ("openvex", "r.vex"))
            ),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "PYTHONPATH": str(REPO),
            "XDG_CACHE_HOME": str(out / "cache"),
        },
        cwd=out,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_the_imported_library_is_in_use_and_the_other_is_not_in_json(reports):
    report = json.loads((reports / "r.json").read_text())
    sandbox = report["sandbox"]
    assert (sandbox["end"], sandbox["exit_code"], sandbox["stdout"].split()[0]) == ("exited", 0, "six")
    assert sandbox["user"].startswith("65534:65534")
    packages = {(p["type"], p["name"]): p["in_use"] for p in report["packages"]}
    assert packages[("deb", "python3-six")] is True
    assert packages[("deb", "python3-idna")] is False
    assert packages[("deb", "libc6")] is True
    assert packages[("deb", "python3.11-minimal")] is True
    assert packages[("pypi", "six")] is True  # installed by python3-six: in use with it
    assert packages[("pypi", "idna")] is False
    vulns = {v["id"]: v for v in report["vulnerabilities"]}
    assert vulns["CISEC-TEST-SIX-1"]["package"]["name"] == "python3-six"
    assert vulns["CISEC-TEST-SIX-1"]["in_use"] is True
    assert vulns["CISEC-TEST-IDNA-1"]["package"]["name"] == "python3-idna"
    assert vulns["CISEC-TEST-IDNA-1"]["in_use"] is False
    assert report["in_use_summary"].startswith("1 of 2 vulnerable packages were loaded at start-up")
    assert report["runtime"] == []


def test_sarif_results_carry_in_use(reports):
    sarif = validate((reports / "r.sarif").read_text())
    image_run = next(
        r for r in sarif["runs"] if r["automationDetails"]["id"].startswith("ci-security/image/")
    )
    in_use = {result["ruleId"]: result["properties"]["inUse"] for result in image_run["results"]}
    assert in_use == {"CISEC-TEST-SIX-1": True, "CISEC-TEST-IDNA-1": False}
    runtime_run = next(
        r for r in sarif["runs"] if r["automationDetails"]["id"].startswith("ci-security/runtime/")
    )
    assert runtime_run["results"] == []
    assert runtime_run["properties"]["inUseSummary"].startswith("1 of 2 vulnerable packages")


def test_openvex_states_not_in_execute_path_for_the_library_never_loaded_only(reports):
    document = json.loads((reports / "r.vex").read_text())
    assert [e.message for e in openvex_schema_validator().iter_errors(document)] == []
    statements = document["statements"]
    assert [s["vulnerability"]["name"] for s in statements] == ["CISEC-TEST-IDNA-1"]
    statement = statements[0]
    assert statement["status"] == "not_affected"
    assert statement["justification"] == "vulnerable_code_not_in_execute_path"
    assert "one bounded run, not proof" in statement["status_notes"]
    purls = [sub["@id"] for product in statement["products"] for sub in product["subcomponents"]]
    assert len(purls) == 1 and purls[0].startswith("pkg:deb/debian/python3-idna@")
