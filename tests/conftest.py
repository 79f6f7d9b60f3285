"""Shared fixtures: fixture paths and a private work directory per test."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
PKGDB = FIXTURES / "pkgdb"


@pytest.fixture
def pkgdb() -> Path:
    return PKGDB


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Every test gets an empty layer cache of its own; none touches ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
