"""The CI step outside a known CI system: JSON, Markdown and SARIF reports, plain notices, no
platform to comment on."""

from __future__ import annotations

from ci_security.platforms.base import Notice
from ci_security.platforms.context import CiContext
from ci_security.platforms.local import LocalRun
from ci_security.platforms.registry import SURFACES

SURFACE = LocalRun()


def test_reports_and_no_platform():
    assert set(SURFACE.reports) == {"json", "markdown", "sarif"}
    assert SURFACE.platform(CiContext(platform="local")) is None
    assert SURFACE.masks(["a-secret"]) == [] and SURFACE.fence() is None


def test_notices_are_plain_lines():
    notice = Notice(
        level="notice", subject="summary comment skipped", detail="no token (GITHUB_TOKEN is not set)"
    )
    assert SURFACE.notice_lines([notice], now=0) == [
        "ci-security: summary comment skipped: no token (GITHUB_TOKEN is not set)"
    ]


def test_every_ci_system_detect_names_has_a_surface():
    assert set(SURFACES) == {"github", "gitlab", "local"}
    assert all(name == surface.name for name, surface in SURFACES.items())
