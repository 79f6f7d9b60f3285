"""Shared fixtures: fixture paths and a private work directory per test."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
PKGDB = FIXTURES / "pkgdb"


@pytest.fixture
def pkgdb() -> Path:
    return PKGDB
