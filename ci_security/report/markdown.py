"""`--output markdown`: the summary people read in a pull request, a merge request or a job summary.

Rendered from a jinja2 template shipped in the package (`templates/markdown.md.j2`): the verdict, the
counts per severity with a mermaid pie chart (GitHub and GitLab both render mermaid), the blocking
findings as a table (most severe first; for vulnerabilities the distribution's rating beside NVD's
CVSS, and the KEV date and EPSS score), and everything else (all findings with where each is,
suppressions with their reasons and expiry, expired ignores, warnings) in collapsed `<details>`
blocks. With a baseline the new findings are counted and marked. Tables stop at `MAX_ROWS` rows so a
large image cannot make a comment exceed GitHub's 65,536-character limit; the JSON report always has
everything.

Ids link to what explains them (`report/links.py`): a CVE to NVD, a GHSA to GitHub's advisory
database, other advisories to their own page, our rules to their section of docs/rules.md. A
manifest finding shows its `file:line`.

After a dynamic scan a "Dynamic scan" section says what was run, how it ended and under which
isolation, the "packages in use" line ("12 of 40 vulnerable packages were loaded at start-up"), and
the runtime findings; the vulnerability tables gain an "In use" column.

Every value from the image, the advisories, the repository or the policy reaches the template as
Markdown made by `sanitize.markdown` (or `markdown_code`, `markdown_link`): the row fields below
are Markdown already, and the template applies the `md` and `code` filters to everything else.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

from ci_security.models import Decision, Misconfiguration, RuntimeFinding, ScanResult, Severity, Vulnerability
from ci_security.report.base import RenderContext
from ci_security.report.links import advisory_url, rule_url
from ci_security.report.runtime import ending, in_use_label, in_use_line, isolation_text
from ci_security.report.signals import cvss_text, epss_text, kev_text, vendor_text
from ci_security.sanitize import markdown, markdown_code, markdown_link

MAX_ROWS = 50


@dataclass(frozen=True, slots=True)
class _Row:
    """One table row; every field but `rank` is Markdown, ready for a cell."""

    rank: int
    severity: str
    id: str
    subject: str
    installed: str
    fixed: str
    where: str
    status: str
    new: str
    ratings: str = "-"
    kev: str = "-"
    epss: str = "-"
    in_use: str = ""


def _cell(value: object) -> str:
    """One table cell from untrusted text; "-" when empty."""
    raw = "" if value is None else str(value).strip()
    return "-" if raw in ("", "-") else markdown(raw)


def _new(decision: Decision, fingerprint: str) -> str:
    new = decision.is_new(fingerprint)
    return "new" if new else ("" if new is None else "existing")


def _vuln_row(vuln: Vulnerability, decision: Decision) -> _Row:
    where = (
        f"{vuln.location.path}:{vuln.location.line}"
        if vuln.location and vuln.location.line
        else (vuln.location.path if vuln.location else vuln.package.path)
    )
    return _Row(
        rank=vuln.severity.rank,
        severity=vuln.severity.value,
        id=markdown_link(_cell(vuln.id), advisory_url(vuln.id, vuln.references)),
        subject=_cell(f"{vuln.package.name} ({vuln.package.type})"),
        installed=_cell(vuln.package.version),
        fixed=_cell(vuln.fixed_version),
        where=_cell(where),
        status=_cell("suppressed" if decision.suppression_of(vuln.fingerprint) else vuln.status),
        new=_new(decision, vuln.fingerprint),
        ratings=_cell(_ratings(vuln)),
        kev=_cell(kev_text(vuln)),
        epss=_cell(epss_text(vuln)),
        in_use=in_use_label(vuln.package.in_use),
    )


def _ratings(vuln: Vulnerability) -> str:
    """The distribution's rating and NVD's CVSS side by side (`unimportant / 9.8`)."""
    vendor, cvss = vendor_text(vuln), cvss_text(vuln)
    return f"{vendor or '-'} / {cvss or '-'}" if vendor or cvss else ""


def _misconfig_row(item: Misconfiguration, decision: Decision, docs_url: str) -> _Row:
    link = rule_url(item.rule_id, found_by=item.found_by, docs_url=docs_url, references=item.references)
    return _Row(
        rank=item.severity.rank,
        severity=item.severity.value,
        id=markdown_link(_cell(item.rule_id), link),
        subject=_cell(item.message or item.title),
        installed="-",
        fixed="-",
        where=_cell(f"{item.path}:{item.line}" if item.line else item.path),
        status="suppressed" if decision.suppression_of(item.fingerprint) else "open",
        new=_new(decision, item.fingerprint),
    )


def _runtime_row(item: RuntimeFinding, decision: Decision, docs_url: str) -> _Row:
    link = rule_url(item.rule_id, found_by="ci-security", docs_url=docs_url, references=item.references)
    where = item.location
    return _Row(
        rank=item.severity.rank,
        severity=item.severity.value,
        id=markdown_link(_cell(item.rule_id), link),
        subject=_cell(item.message + (f" ({item.count} events)" if item.count > 1 else "")),
        installed="-",
        fixed="-",
        where=_cell(f"{where.path}:{where.line}" if where and where.line else (where.path if where else "-")),
        status="suppressed" if decision.suppression_of(item.fingerprint) else "open",
        new=_new(decision, item.fingerprint),
    )


def _order(row: _Row) -> tuple[int, str, str, str]:
    return (-row.rank, row.where, row.id, row.subject)


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
        env.filters["md"] = lambda value: markdown(value)
        env.filters["code"] = lambda value: markdown_code(value)
        docs = context.docs_url
        rows = (
            [_vuln_row(v, decision) for v in result.vulnerabilities]
            + [_misconfig_row(m, decision, docs) for m in result.misconfigurations]
            + [_runtime_row(r, decision, docs) for r in result.runtime]
        )
        by_fp: dict[str, Vulnerability | Misconfiguration | RuntimeFinding] = (
            {v.fingerprint: v for v in result.vulnerabilities}
            | {m.fingerprint: m for m in result.misconfigurations}
            | {r.fingerprint: r for r in result.runtime}
        )
        blocking = []
        for violation in decision.violations:
            finding = by_fp.get(violation.fingerprint)
            if isinstance(finding, Vulnerability):
                blocking.append(_vuln_row(finding, decision))
            elif isinstance(finding, Misconfiguration):
                blocking.append(_misconfig_row(finding, decision, docs))
            elif isinstance(finding, RuntimeFinding):
                blocking.append(_runtime_row(finding, decision, docs))
            else:
                blocking.append(
                    _Row(
                        violation.severity.rank,
                        violation.severity.value,
                        _cell(violation.rule),
                        _cell(violation.message),
                        "-",
                        "-",
                        "-",
                        "open",
                        "",
                    )
                )
        blocking.sort(key=_order)
        every: list[Vulnerability | Misconfiguration | RuntimeFinding] = [
            *result.vulnerabilities,
            *result.misconfigurations,
            *result.runtime,
        ]
        open_findings = [f for f in every if decision.suppression_of(f.fingerprint) is None]
        counts = Counter(f.severity.value for f in open_findings)
        suppressed_rows = []
        for item in decision.suppressed:
            finding = by_fp.get(item.fingerprint)
            label = (
                finding.id
                if isinstance(finding, Vulnerability)
                else (
                    finding.rule_id
                    if isinstance(finding, Misconfiguration | RuntimeFinding)
                    else item.fingerprint
                )
            )
            suppressed_rows.append(
                {
                    "id": _cell(label),
                    "reason": _cell(item.reason),
                    "expires": _cell(item.expires or "-"),
                    "source": _cell(item.source),
                }
            )
        chart = [(s.value.title(), counts.get(s.value, 0)) for s in Severity if counts.get(s.value, 0)]
        run = result.sandbox
        dynamic = None
        if run is not None:
            dynamic = {
                "command": " ".join(run.command),
                "user": run.user,
                "ending": ending(run),
                "processes": run.processes,
                "events": run.events_total,
                "isolation": isolation_text(run),
                "in_use": in_use_line(result),
                "findings": sorted((_runtime_row(f, decision, docs) for f in result.runtime), key=_order),
            }
        template = env.get_template("markdown.md.j2")
        text = template.render(
            dynamic=dynamic,
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
