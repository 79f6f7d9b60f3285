from ci_security.models import (
    Decision,
    ImageTarget,
    LayerRef,
    OSInfo,
    Package,
    Platform,
    ScanResult,
    ScanWarning,
)
from ci_security.report.base import RenderContext
from ci_security.report.table import TableReporter

TARGET = ImageTarget(
    reference="docker-archive:[odd]name.tar",
    transport="docker-archive",
    digest="sha256:abc",
    image_id="sha256:abc",
    platform=Platform(os="linux", architecture="amd64"),
    layers=(),
    os=OSInfo(family="debian", version="12.5"),
)


def test_table_lists_packages_and_warnings_without_markup_injection():
    result = ScanResult(
        target=TARGET,
        packages=(
            Package(
                name="pkg[bold]",
                version="1.0",
                type="deb",
                layer=LayerRef(index=2, digest="sha256:l", diff_id="sha256:l"),
            ),
        ),
        warnings=(ScanWarning(source="os/rpm", path="/var/lib/rpm/Packages", message="bad [red]header"),),
    )
    text = TableReporter().render(result, Decision(passed=True), RenderContext(color=False, width=100))
    assert "docker-archive:[odd]name.tar" in text
    assert "debian 12.5" in text and "linux/amd64" in text
    assert "pkg[bold]" in text and "bad [red]header" in text
    assert "1 (1 deb)" in text and "inventory-only" in text
    assert "\x1b[" not in text  # no colour codes when not writing to a terminal


def test_colour_only_when_asked():
    result = ScanResult(target=TARGET, packages=())
    assert "\x1b[" in TableReporter().render(
        result, Decision(passed=True), RenderContext(color=True, width=100)
    )


def test_text_from_the_image_is_shown_as_text_and_cannot_restyle_the_log():
    hostile = ImageTarget(
        reference="docker-archive:app.tar",
        transport="docker-archive",
        digest="sha256:abc",
        image_id="sha256:abc",
        platform=Platform(os="linux", architecture="amd64\n::error::x[/]"),
        layers=(),
        os=OSInfo(family="[/]", version="[bold red]1\x1b[31m"),
    )
    package = Package(name="evil\n::error::pwned \x1b]0;title\x07[/]", version="1", type="npm")
    result = ScanResult(target=hostile, packages=(package,))
    text = TableReporter().render(result, Decision(passed=True), RenderContext(color=True, width=200))
    assert "[/] [bold red]1" in text  # the OS line crashed rich before
    assert "evil\\n::error::pwned [/]" in text and "amd64\\n::error::x[/]" in text
    assert "\x1b]" not in text and "\x1b[31m" not in text
    assert "\n::error" not in text


def test_in_a_job_log_each_table_stops_at_max_rows():
    from testkit.findings import deb_vuln

    from ci_security.models import Severity

    low = [deb_vuln(f"CVE-2024-{n:04d}", f"pkg{n}", Severity.LOW) for n in range(7)]
    vulns = (*low, deb_vuln("CVE-2024-9999", "worst", Severity.CRITICAL))
    result = ScanResult(target=TARGET, packages=(), vulnerabilities_scanned=True, vulnerabilities=vulns)
    capped = TableReporter().render(result, Decision(passed=True), RenderContext(width=200, max_rows=3))
    rows = [line for line in capped.splitlines() if "CVE-2024-" in line]
    assert len(rows) == 3 and "CVE-2024-9999" in rows[0]  # the most severe first
    assert "…and 5 more vulnerabilities (the reports list every one)" in capped
    full = TableReporter().render(result, Decision(passed=True), RenderContext(width=200))
    assert len([line for line in full.splitlines() if "CVE-2024-" in line]) == 8 and "more" not in full
