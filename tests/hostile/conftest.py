"""Each hostile case gets its own directories (see `testkit.hostile`)."""

from __future__ import annotations

import pytest
from testkit.hostile import CaseDirs


@pytest.fixture
def case(tmp_path) -> CaseDirs:
    return CaseDirs.make(tmp_path / "case")
