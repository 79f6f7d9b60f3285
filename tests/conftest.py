"""Shared fixtures: fixture paths and a private work directory per test, and the JSON report's schema
held to every report a test renders.

Third-party data (real package databases, OSV records published by pypa, Go and RustSec) comes from
`../shared` through `testkit.shared`; a test that asks for it is skipped when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit import shared
from testkit.report_schema import check_report

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def pkgdb() -> Path:
    """Real package databases and metadata files (`shared/data/pkgdb`, see its SOURCES.md and EXPECTED.md)."""
    return shared.shared_path("data", "pkgdb")


@pytest.fixture(scope="session")
def osv_go(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the four Go records of `testkit.shared.GO_RECORDS`."""
    return shared.osv_folder("go", tmp_path_factory.mktemp("osv-go"))


@pytest.fixture(scope="session")
def osv_crates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the three RustSec records of `testkit.shared.CRATES_RECORDS`."""
    return shared.osv_folder("crates.io", tmp_path_factory.mktemp("osv-crates"))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Every test gets an empty layer cache of its own; none touches ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture(autouse=True)
def _json_reports_follow_their_schema(monkeypatch):
    """Every JSON report rendered in the test process follows schema/report.schema.json: a test that
    made one that does not fails when it ends. The report itself is left as rendered, so the test
    sees what a user would; reports written by a subprocess are checked where a test reads them
    (`testkit.report_schema.load_report`).
    """
    from ci_security.report import json as json_report

    rendered = json_report.report_dict
    problems: list[list[str]] = []

    def checked(result, decision):
        report = rendered(result, decision)
        problems.append(check_report(report))
        return report

    monkeypatch.setattr(json_report, "report_dict", checked)
    yield
    broken = [errors for errors in problems if errors]
    assert not broken, f"a JSON report broke schema/report.schema.json: {broken[0][:10]}"
