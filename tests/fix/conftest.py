"""The remediation tests' world (`testkit.fixworld`): one registry with the base images, for the session."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from testkit.fixworld import FixWorld, fix_world

from ci_security.platforms.github_actions import GitHubActions
from ci_security.platforms.gitlab_ci import GitLabCi


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FixWorld]:
    with fix_world(tmp_path_factory.mktemp("fix-world")) as running:
        yield running


@dataclass
class Sleeps:
    """The platforms' waits, recorded instead of slept (Retry-After must be honoured, not waited out)."""

    seconds: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch) -> Sleeps:
    from ci_security.platforms.github import GitHubPlatform
    from ci_security.platforms.gitlab import GitLabPlatform

    sleeps = Sleeps()
    monkeypatch.setattr(
        GitHubActions,
        "platform",
        lambda self, context: GitHubPlatform(context, sleep=sleeps, write_interval=0),
    )
    monkeypatch.setattr(GitLabCi, "platform", lambda self, context: GitLabPlatform(context, sleep=sleeps))
    return sleeps
