"""`--output markdown`: the summary people read in a pull request, a merge request or a job summary.

Rendered from a jinja2 template shipped in the package (`templates/markdown.md.j2`): the verdict, the
counts per severity with a mermaid pie chart (GitHub and GitLab both render mermaid), the blocking
findings as a table, and everything else (all findings, suppressions with their reasons and expiry,
expired ignores, warnings) in collapsed `<details>` blocks. With a baseline the new findings are
counted and marked. Tables stop at `MAX_ROWS` rows so a large image cannot make a comment exceed
GitHub's 65,536-character limit; the JSON report always has everything.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

from ci_security.models import Decision, Misconfiguration, ScanResult, Severity, Vulnerability
from ci_security.report.base import RenderContext

MAX_ROWS = 50


@dataclass(frozen=True, slots=True)
class _Row:
    severity: str
    id: str
    subject: str
    installed: str
    fixed: str
    where: str
    status: str
    new: str


def _cell(text: object) -> str:
    """One line of inline Markdown: pipes escaped for tables, and `<`/`>` as entities so an advisory
    title or a policy reason can never close the `<details>` block or inject markup.
    """
    flat = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return flat.replace("|", "\\|").replace("\r", " ").replace("\n", " ").strip() or "-"


def _vuln_row(vuln: Vulnerability, decision: Decision) -> _Row:
    where = (
        f"{vuln.location.path}:{vuln.location.line}"
        if vuln.location and vuln.location.line
        else (vuln.location.path if vuln.location else vuln.package.path)
    )
    new = decision.is_new(vuln.fingerprint)
    return _Row(
        severity=vuln.severity.value,
        id=vuln.id,
        subject=f"{vuln.package.name} ({vuln.package.type})",
        installed=vuln.package.version,
        fixed=vuln.fixed_version or "-",
        where=where,
        status="suppressed" if decision.suppression_of(vuln.fingerprint) else vuln.status,
        new="new" if new else ("" if new is None else "existing"),
    )


def _misconfig_row(item: Misconfiguration, decision: Decision) -> _Row:
    new = decision.is_new(item.fingerprint)
    return _Row(
        severity=item.severity.value,
        id=item.rule_id,
        subject=item.message or item.title,
        installed="-",
        fixed="-",
        where=f"{item.path}:{item.line}" if item.line else item.path,
        status="suppressed" if decision.suppression_of(item.fingerprint) else "open",
        new="new" if new else ("" if new is None else "existing"),
    )


class MarkdownReporter:
    """See the module docstring."""

    name: ClassVar[str] = "markdown"

    def render(self, result: ScanResult, decision: Decision, context: RenderContext) -> str:
        # jinja2 costs start-up time; only markdown output needs it.
        import jinja2

        env = jinja2.Environment(
            loader=jinja2.PackageLoader("ci_security.report", "templates"),
            autoescape=False,  # noqa: S701 - the output is Markdown, not HTML; cells are escaped by `cell`
            keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined,
        )
        env.filters["cell"] = _cell
        rows = [_vuln_row(v, decision) for v in result.vulnerabilities] + [
            _misconfig_row(m, decision) for m in result.misconfigurations
        ]
        by_fp = {v.fingerprint: v for v in result.vulnerabilities} | {
            m.fingerprint: m for m in result.misconfigurations
        }
        blocking = []
        for violation in decision.violations:
            finding = by_fp.get(violation.fingerprint)
            if isinstance(finding, Vulnerability):
                blocking.append(_vuln_row(finding, decision))
            elif isinstance(finding, Misconfiguration):
                blocking.append(_misconfig_row(finding, decision))
            else:
                blocking.append(
                    _Row(
                        violation.severity.value, violation.rule, violation.message, "-", "-", "-", "open", ""
                    )
                )
        open_findings = [
            f
            for f in list(result.vulnerabilities) + list(result.misconfigurations)
            if decision.suppression_of(f.fingerprint) is None
        ]
        counts = Counter(f.severity.value for f in open_findings)
        suppressed_rows = []
        for item in decision.suppressed:
            finding = by_fp.get(item.fingerprint)
            label = (
                finding.id
                if isinstance(finding, Vulnerability)
                else (finding.rule_id if isinstance(finding, Misconfiguration) else item.fingerprint)
            )
            suppressed_rows.append(
                {"id": label, "reason": item.reason, "expires": item.expires, "source": item.source}
            )
        chart = [(s.value.title(), counts.get(s.value, 0)) for s in Severity if counts.get(s.value, 0)]
        template = env.get_template("markdown.md.j2")
        text = template.render(
            decision=decision,
            target=result.target,
            packages=len(result.packages),
            dockerfile=result.dockerfile,
            scanned=result.vulnerabilities_scanned or bool(result.misconfigurations),
            counts={s.value: counts.get(s.value, 0) for s in Severity},
            suppressed_count=len(decision.suppressed),
            baseline=decision.new is not None,
            new_count=len(decision.new or ()),
            chart=chart,
            violations=blocking,
            expired=decision.expired,
            findings=rows,
            suppressed=suppressed_rows,
            warnings=[str(w) for w in result.warnings],
            max_rows=MAX_ROWS,
        )
        return text.rstrip() + "\n"
