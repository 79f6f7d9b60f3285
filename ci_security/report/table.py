"""`--output table` (the default): a summary for people reading a CI log, drawn with rich.

It names the image, its OS and platform and counts packages by type. A vulnerability scan then
lists findings, most severe first (severity, id, package, installed and fixed version, title); an
inventory-only scan lists the packages (name, version, type, the layer that introduced them).
Warnings come last. Colour only when writing to a terminal.
"""

from __future__ import annotations

import io
from collections import Counter
from typing import ClassVar

from ci_security.models import ScanResult, Severity
from ci_security.report.base import RenderContext

_STYLES = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
}


class TableReporter:
    """See the module docstring."""

    name: ClassVar[str] = "table"

    def render(self, result: ScanResult, context: RenderContext) -> str:
        # rich costs ~60 ms to import; only table output needs it.
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        buffer = io.StringIO()
        console = Console(
            file=buffer,
            width=context.width,
            force_terminal=context.color,
            no_color=not context.color,
            highlight=False,
            soft_wrap=False,
        )
        target = result.target
        if target is not None:
            os_text = f"{target.os.family} {target.os.version or ''}".strip() if target.os else "not detected"
            console.print(f"[bold]Image[/bold]     {escape(target.reference)}")
            console.print(f"[bold]Digest[/bold]    {target.digest}")
            console.print(f"[bold]OS[/bold]        {os_text}")
            console.print(f"[bold]Platform[/bold]  {target.platform or 'unknown'}")
            console.print(f"[bold]Layers[/bold]    {len(target.layers)}")
        counts = Counter(p.type for p in result.packages)
        summary = ", ".join(f"{n} {t}" for t, n in sorted(counts.items())) or "none"
        console.print(f"[bold]Packages[/bold]  {len(result.packages)} ({summary})")
        if not result.vulnerabilities_scanned:
            console.print("[dim]Vulnerabilities were not checked (inventory-only scan).[/dim]")
            if result.packages:
                table = Table(show_edge=False, pad_edge=False, expand=False)
                for column in ("Name", "Version", "Type", "Layer"):
                    table.add_column(column, overflow="fold")
                for pkg in result.packages:
                    layer = f"{pkg.layer.index}" if pkg.layer else "-"
                    table.add_row(escape(pkg.name), escape(pkg.version), pkg.type, layer)
                console.print(table)
        else:
            by_severity = Counter(v.severity for v in result.vulnerabilities)
            parts = [f"{by_severity.get(s, 0)} {s.value.lower()}" for s in Severity]
            console.print(f"[bold]Vulnerabilities[/bold] {len(result.vulnerabilities)} ({', '.join(parts)})")
            if result.db is not None:
                console.print(f"[dim]Database: {escape(result.db.path)}, updated {result.db.built}[/dim]")
            if result.vulnerabilities:
                table = Table(show_edge=False, pad_edge=False, expand=False)
                for column in ("Severity", "ID", "Package", "Installed", "Fixed", "Title"):
                    table.add_column(column, overflow="fold")
                for vuln in result.vulnerabilities:
                    style = _STYLES.get(vuln.severity, "")
                    title = vuln.title if len(vuln.title) <= 60 else vuln.title[:57] + "..."
                    table.add_row(
                        f"[{style}]{vuln.severity.value}[/{style}]" if style else vuln.severity.value,
                        escape(vuln.id),
                        escape(vuln.package.name),
                        escape(vuln.package.version),
                        escape(vuln.fixed_version or f"({vuln.status})"),
                        escape(title),
                    )
                console.print(table)
        if result.warnings:
            console.print(f"[yellow bold]{len(result.warnings)} warning(s)[/yellow bold]")
            for warning in result.warnings:
                console.print(f"  [yellow]![/yellow] {escape(str(warning))}")
        return buffer.getvalue()
