"""Every output format, listed once; the CLI offers exactly these names."""

from __future__ import annotations

from ci_security.report.base import Reporter
from ci_security.report.codequality import CodeQualityReporter
from ci_security.report.cyclonedx import CycloneDxReporter
from ci_security.report.events import EventsReporter
from ci_security.report.gitlab import GitLabReporter
from ci_security.report.json import JsonReporter
from ci_security.report.markdown import MarkdownReporter
from ci_security.report.openvex import OpenVexReporter
from ci_security.report.sarif import SarifReporter
from ci_security.report.table import TableReporter

REPORTERS: dict[str, Reporter] = {
    reporter.name: reporter
    for reporter in (
        TableReporter(),
        JsonReporter(),
        SarifReporter(),
        GitLabReporter(),
        CodeQualityReporter(),
        MarkdownReporter(),
        CycloneDxReporter(),
        OpenVexReporter(),
        EventsReporter(),
    )
}
