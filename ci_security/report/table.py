r"""`--output table` (the default): a summary for people reading a CI log, drawn with rich.

It names the image, its OS and platform and counts packages by type. A vulnerability scan then
lists findings, most severe first (severity, id, package, installed and fixed version, the
distribution's own rating and NVD's CVSS side by side, the date CISA added the CVE to its KEV
catalogue, the EPSS score and percentile, title); an inventory-only scan lists the packages (name,
version, type, the layer that introduced them).
The Policy column says which findings fail the build (`FAIL`), which the policy accepted (`ignored`,
`vex`) and, with a baseline, which are `new`. Then the policy's verdict, its image-rule violations,
the suppressions with their reasons and the expired ignore entries; warnings come last. Colour only
when writing to a terminal. After a dynamic scan, the vulnerability table has an "In use" column,
and a "Dynamic scan" block says what ran and how it ended, the packages-in-use line and the runtime
findings.

Every value from the image, the advisories or the repository goes through
`sanitize.rich_markup` (escape sequences and control characters removed, newlines shown as `\n`,
rich markup escaped), so none can restyle or break the log. In a CI job log (`RenderContext.max_rows`)
each table stops after that many rows, most severe first, and says how many more the reports hold.
"""

from __future__ import annotations

import io
from collections import Counter
from typing import TYPE_CHECKING, ClassVar

from ci_security.models import Decision, ScanResult, Severity
from ci_security.report.base import RenderContext
from ci_security.report.runtime import ending, in_use_label, in_use_line
from ci_security.report.signals import cvss_text, epss_text, kev_text, vendor_text
from ci_security.sanitize import rich_markup as esc

if TYPE_CHECKING:
    from rich.console import Console

_ATOMIC = frozenset({"Severity", "ID", "NVD", "KEV", "EPSS", "Policy"})
_STYLES = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
}


class TableReporter:
    """See the module docstring."""

    name: ClassVar[str] = "table"

    def render(self, result: ScanResult, decision: Decision, context: RenderContext) -> str:
        # rich costs ~60 ms to import; only table output needs it.
        from rich.console import Console
        from rich.table import Table

        buffer = io.StringIO()
        console = Console(
            file=buffer,
            width=context.width,
            force_terminal=context.color,
            no_color=not context.color,
            highlight=False,
            soft_wrap=False,
            emoji=False,  # `:smile:` in a package name stays text
        )
        cap = context.max_rows
        failing = {v.fingerprint for v in decision.violations if v.fingerprint}
        target = result.target
        if target is not None:
            os_text = f"{target.os.family} {target.os.version or ''}".strip() if target.os else "not detected"
            console.print(f"[bold]Image[/bold]     {esc(target.reference)}")
            console.print(f"[bold]Digest[/bold]    {esc(target.digest)}")
            console.print(f"[bold]OS[/bold]        {esc(os_text)}")
            console.print(f"[bold]Platform[/bold]  {esc(target.platform or 'unknown')}")
            console.print(f"[bold]Layers[/bold]    {len(target.layers)}")
        image_part = target is not None or bool(result.packages) or result.vulnerabilities_scanned
        counts = Counter(p.type for p in result.packages)
        summary = esc(", ".join(f"{n} {t}" for t, n in sorted(counts.items())) or "none")
        if image_part:
            console.print(f"[bold]Packages[/bold]  {len(result.packages)} ({summary})")
        if not image_part:
            pass  # a manifests-only scan: no image, so no package or vulnerability lines
        elif not result.vulnerabilities_scanned:
            console.print("[dim]Vulnerabilities were not checked (inventory-only scan).[/dim]")
            if result.packages:
                table = Table(show_edge=False, pad_edge=False, expand=False)
                for column in ("Name", "Version", "Type", "Layer"):
                    table.add_column(column, overflow="fold")
                for pkg in result.packages[:cap]:
                    layer = f"{pkg.layer.index}" if pkg.layer else "-"
                    table.add_row(esc(pkg.name), esc(pkg.version), esc(pkg.type), layer)
                console.print(table)
                _more(console, len(result.packages), cap, "package", "packages")
        else:
            by_severity = Counter(v.severity for v in result.vulnerabilities)
            parts = [f"{by_severity.get(s, 0)} {s.value.lower()}" for s in Severity]
            console.print(f"[bold]Vulnerabilities[/bold] {len(result.vulnerabilities)} ({', '.join(parts)})")
            if result.db is not None:
                console.print(f"[dim]Database: {esc(result.db.path)}, updated {esc(result.db.built)}[/dim]")
            if result.vulnerabilities:
                table = Table(show_edge=False, pad_edge=False, expand=False)
                dynamic = result.sandbox is not None
                columns = ("Severity", "ID", "Package", "Installed", "Fixed", "Vendor", "NVD", "KEV", "EPSS")
                shown = (*columns[:5], "In use", *columns[5:]) if dynamic else columns
                # Short values never fold (an id cut in two cannot be searched for); the rest fold.
                for column in (*shown, "Policy", "Title"):
                    table.add_column(column, overflow="fold", no_wrap=column in _ATOMIC)
                vulns = list(result.vulnerabilities)
                if cap is not None:
                    vulns = sorted(vulns, key=lambda v: v.sort_key())[:cap]
                for vuln in vulns:
                    cells = [
                        _severity(vuln.severity),
                        esc(vuln.id),
                        esc(vuln.package.name),
                        esc(vuln.package.version),
                        esc(vuln.fixed_version or f"({vuln.status})"),
                        esc(vendor_text(vuln) or "-"),
                        esc(cvss_text(vuln) or "-"),
                        _kev(kev_text(vuln)),
                        esc(epss_text(vuln) or "-"),
                        _mark(decision, vuln.fingerprint, failing),
                        esc(_short(vuln.title)),
                    ]
                    if dynamic:
                        cells.insert(5, in_use_label(vuln.package.in_use))
                    table.add_row(*cells)
                console.print(table)
                _more(console, len(result.vulnerabilities), cap, "vulnerability", "vulnerabilities")
        if result.misconfigurations:
            console.print(f"[bold]Misconfigurations[/bold] {len(result.misconfigurations)}")
            table = Table(show_edge=False, pad_edge=False, expand=False)
            for column in ("Severity", "Rule", "Where", "Policy", "Message"):
                table.add_column(column, overflow="fold")
            items = list(result.misconfigurations)
            if cap is not None:
                items = sorted(items, key=lambda m: m.sort_key())[:cap]
            for m in items:
                table.add_row(
                    _severity(m.severity),
                    esc(m.rule_id),
                    esc(f"{m.path}:{m.line}" if m.line else m.path),
                    _mark(decision, m.fingerprint, failing),
                    esc(_short(m.message)),
                )
            console.print(table)
            _more(console, len(result.misconfigurations), cap, "misconfiguration", "misconfigurations")
        run = result.sandbox
        if run is not None:
            command = esc(_short(" ".join(run.command), 80))
            console.print(f"[bold]Dynamic scan[/bold] {command}: {esc(ending(run))}")
            console.print(
                f"[dim]{run.processes} processes, {run.events_total} events, as {esc(run.user)}; "
                f"{esc(run.tracer)}[/dim]"
            )
            line = in_use_line(result)
            if line:
                console.print(f"[bold]In use[/bold]    {esc(line)}")
            if result.runtime:
                table = Table(show_edge=False, pad_edge=False, expand=False)
                for column in ("Severity", "Rule", "Policy", "What happened"):
                    table.add_column(column, overflow="fold")
                findings = sorted(result.runtime, key=lambda f: f.sort_key())
                for item in findings[:cap] if cap is not None else findings:
                    more = f" ({item.count} events)" if item.count > 1 else ""
                    table.add_row(
                        _severity(item.severity),
                        esc(item.rule_id),
                        _mark(decision, item.fingerprint, failing),
                        esc(_short(item.message, 100) + more),
                    )
                console.print(table)
                _more(console, len(result.runtime), cap, "runtime finding", "runtime findings")
            else:
                console.print("[dim]No runtime rule fired.[/dim]")
        verdict = "[green bold]PASS[/green bold]" if decision.passed else "[red bold]FAIL[/red bold]"
        source = f" ({esc(decision.policy_source)})" if decision.policy_source else " (default policy)"
        console.print(f"[bold]Policy[/bold]    {verdict}{source}: {esc(decision.summary)}")
        for violation in decision.violations:
            if violation.kind == "image":
                console.print(f"  [red]x[/red] {esc(violation.rule)}: {esc(violation.message)}")
        for gone in decision.expired:
            console.print(
                f"  [yellow]![/yellow] ignore {esc(gone.id)} expired on {esc(gone.expires)} "
                f"({esc(gone.source)}): no longer suppresses"
            )
        # One line per accepting entry, not per finding: one ignore can cover many packages.
        grouped = Counter((s.kind, s.reason, s.source, s.expires) for s in decision.suppressed)
        for (kind, reason, where, expires), count in sorted(grouped.items(), key=str):
            until = f", until {esc(expires)}" if expires else ""
            console.print(
                f"  [dim]-[/dim] {count} {esc(kind)}: {esc(_short(reason))}{until} [dim]({esc(where)})[/dim]"
            )
        if result.warnings:
            console.print(f"[yellow bold]{len(result.warnings)} warning(s)[/yellow bold]")
            for warning in result.warnings:
                console.print(f"  [yellow]![/yellow] {esc(str(warning))}")
        return buffer.getvalue()


def _more(console: Console, total: int, cap: int | None, one: str, many: str) -> None:
    """The line under a capped table: how many rows it left out, and where they are."""
    if cap is None or total <= cap:
        return
    rest = total - cap
    console.print(f"[dim]…and {rest} more {one if rest == 1 else many} (the reports list every one)[/dim]")


def _kev(date_added: str) -> str:
    return f"[red]{esc(date_added)}[/red]" if date_added else "-"


def _severity(severity: Severity) -> str:
    style = _STYLES.get(severity, "")
    return f"[{style}]{severity.value}[/{style}]" if style else severity.value


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _mark(decision: Decision, fingerprint: str, failing: set[str]) -> str:
    marks = []
    if fingerprint in failing:
        marks.append("[red bold]FAIL[/red bold]")
    suppression = decision.suppression_of(fingerprint)
    if suppression is not None:
        marks.append("vex" if suppression.kind == "vex" else "ignored")
    if decision.is_new(fingerprint):
        marks.append("new")
    return " ".join(marks)
