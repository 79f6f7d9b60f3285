"""The CI step anywhere else (a developer's machine, another CI system): the JSON, Markdown and
SARIF reports and the verdict, nothing to comment on, notices as plain lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from ci_security import sanitize
from ci_security.platforms.base import COMMON_REPORTS, Annotation, Notice, Platform
from ci_security.platforms.context import CiContext


class LocalRun:
    """The step surface outside a known CI system."""

    name: ClassVar[str] = "local"
    reports: ClassVar[Mapping[str, str]] = {**COMMON_REPORTS, "sarif": "ci-security.sarif"}

    def detect(self, env: Mapping[str, str]) -> CiContext | None:
        return CiContext(platform="local")  # anywhere: the registry asks it last

    def masks(self, secrets: Sequence[str]) -> list[str]:
        return []

    def fence(self) -> tuple[str, str] | None:
        return None

    def annotations(self, candidates: Sequence[Annotation]) -> list[str]:
        return []

    def write_summary(self, context: CiContext, markdown: str) -> None:
        return None

    def write_outputs(self, context: CiContext, values: Mapping[str, str]) -> None:
        return None

    def notice_lines(self, notices: Sequence[Notice], *, now: int) -> list[str]:
        return [sanitize.log_line(f"ci-security: {notice.line()}") for notice in notices]

    def platform(self, context: CiContext) -> Platform | None:
        return None
