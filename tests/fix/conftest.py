"""The remediation tests' world (`testkit.fixworld`): one registry with the base images, for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from testkit.fixworld import FixWorld, fix_world


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FixWorld]:
    with fix_world(tmp_path_factory.mktemp("fix-world")) as running:
        yield running
