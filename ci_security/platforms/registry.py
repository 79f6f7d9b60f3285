"""Every CI system the step knows, listed once, by the name `platforms.context.detect` gives it."""

from __future__ import annotations

from ci_security.platforms.base import StepSurface
from ci_security.platforms.github_actions import GitHubActions
from ci_security.platforms.gitlab_ci import GitLabCi
from ci_security.platforms.local import LocalRun

SURFACES: dict[str, StepSurface] = {
    surface.name: surface for surface in (GitHubActions(), GitLabCi(), LocalRun())
}
