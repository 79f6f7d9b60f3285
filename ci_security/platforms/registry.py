"""Every CI system the step knows, listed once; `detect` asks each in turn which one the run is in."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ci_security.platforms.base import StepSurface
from ci_security.platforms.context import CiContext
from ci_security.platforms.github_actions import GitHubActions
from ci_security.platforms.gitlab_ci import GitLabCi
from ci_security.platforms.local import LocalRun

# In the order `detect` asks them; LocalRun claims any environment, so it stays last.
SURFACES: dict[str, StepSurface] = {
    surface.name: surface
    for surface in (
        GitHubActions(),
        GitLabCi(),
        LocalRun(),
    )
}


def detect(env: Mapping[str, str] | None = None) -> CiContext:
    """The CI context from `env` (the process environment by default)."""
    env = os.environ if env is None else env
    for surface in SURFACES.values():
        context = surface.detect(env)
        if context is not None:
            return context
    raise AssertionError("LocalRun detects every environment")
