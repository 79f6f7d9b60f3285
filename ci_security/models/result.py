"""The result of a scan: what was scanned, what was found, and what could not be read."""

from __future__ import annotations

from dataclasses import dataclass

from ci_security.models.image import ImageTarget
from ci_security.models.misconfiguration import ManifestSummary, Misconfiguration
from ci_security.models.package import Package
from ci_security.models.runtime import RuntimeFinding, SandboxRun
from ci_security.models.vulnerability import Vulnerability


@dataclass(frozen=True, slots=True, kw_only=True)
class DbInfo:
    """The vulnerability database a scan used: when it was built and from which sources."""

    path: str
    built: str
    sources: tuple[tuple[str, str, int], ...]  # (ecosystem, url or path, record count)
    schema_version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanWarning:
    """A problem that did not stop the scan, such as one unreadable package database among many.
    `source` names the stage or cataloger, `path` the file inside the image when there is one.
    """

    source: str
    message: str
    path: str | None = None
    layer: str | None = None
    # False for advice that does not mean something went unread (a stale vulnerability database).
    partial: bool = True

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.source}: {where}{self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanResult:
    """Everything a scan produced; reports are pure functions of it.

    `vulnerabilities_scanned` is False for an inventory-only scan (`--no-vulns`), so reports can say
    "not checked" instead of implying "nothing found".
    """

    target: ImageTarget | None
    packages: tuple[Package, ...]
    warnings: tuple[ScanWarning, ...] = ()
    vulnerabilities_scanned: bool = False
    vulnerabilities: tuple[Vulnerability, ...] = ()
    db: DbInfo | None = None
    misconfigurations: tuple[Misconfiguration, ...] = ()
    # What the manifest checks covered; None when no manifest was checked.
    manifests: ManifestSummary | None = None
    # The Dockerfile image findings are anchored to (repository-relative), when one was found.
    dockerfile: str | None = None
    # The dynamic scan (`ci-security sandbox`, `--dynamic`): how the run went, and the runtime
    # rules' findings; None and () when the image was not run.
    sandbox: SandboxRun | None = None
    runtime: tuple[RuntimeFinding, ...] = ()

    @property
    def partial(self) -> bool:
        """True when something could not be read; `--strict` turns that into exit code 3."""
        return any(w.partial for w in self.warnings)
