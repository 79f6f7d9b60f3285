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
