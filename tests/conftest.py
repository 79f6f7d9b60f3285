"""Shared fixtures: fixture paths and a private work directory per test.

Third-party data (real package databases, OSV records published by pypa, Go and RustSec) comes from
`../shared` through `testkit.shared`; a test that asks for it is skipped when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit import shared

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
