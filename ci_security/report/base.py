"""The reporter contract: `render` turns a scan result and the policy decision on it into text, with
no file or network I/O. Every reporter sees the same decision, so no report can disagree with the
exit code; a reporter never drops findings the policy suppressed, it shows them as suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from ci_security.models import Decision, ScanResult
from ci_security.models.fix import FixPlan


@dataclass(frozen=True, slots=True)
class RenderContext:
    """How the text will be shown: colour only for terminals, width for tables; `max_rows` caps the
        rows of each table of the terminal report (the CI job log: the reports have every row), and
        `docs_url` is where ci-security's documentation lives, for links to rule descriptions; `fix_plan`
    is the remediation plan made with the scan, when one was.
    """

    color: bool = False
    width: int = 120
    max_rows: int | None = None
    docs_url: str = ""
    # The remediation plan made with the scan (the CI step's fix pull requests), or None: the GitLab
    # report turns the updates that fix its findings into `remediations`.
    fix_plan: FixPlan | None = None


class Reporter(Protocol):
    """One output format (`--output NAME[=FILE]`)."""

    name: ClassVar[str]

    def render(self, result: ScanResult, decision: Decision, context: RenderContext) -> str:
        """The complete text of the report; "" when the format has nothing to say (OpenVEX with no
        accepted vulnerabilities), in which case no file is written.
        """
        ...
