"""Packages found in an image.

A `Package` is one installed package, with the evidence that proves it: `path` is the file inside the
image it was read from (a dpkg status file, a wheel's METADATA, ...), `layer` the layer that introduced
it, and `found_by` the cataloger that read it. `version` is the full version as the package manager
prints it (`1:2.38.1-5+deb12u3` for dpkg, `[epoch:]version-release` for rpm), so it compares with
`dpkg-query`, `rpm -q` and `apk info` output directly.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerRef:
    """The layer a package came from: its position, blob digest and uncompressed digest (diff-id)."""

    index: int
    digest: str
    diff_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Package:
    """One installed package; `type` is a Package-URL type (`deb`, `apk`, `rpm`, `pypi`, ...)."""

    name: str
    version: str
    type: str
    purl: str = ""
    source_name: str | None = None
    source_version: str | None = None
    arch: str | None = None
    epoch: int | None = None
    path: str = ""
    layer: LayerRef | None = None
    found_by: str = ""
    licenses: tuple[str, ...] = ()
    # rpm modularity label (name:stream:version:context); Red Hat advisories are scoped by it.
    modularity_label: str | None = None
    # The OS package that installed this language package's evidence file (python3-requests for a
    # dist-packages egg-info): such packages are matched through the OS package, not their ecosystem.
    installed_by: str | None = None
    # Whether the dynamic scan saw a file of this package opened, mapped or executed: True, False,
    # or None when there was no dynamic run or its files are not known (`sandbox.inuse`).
    in_use: bool | None = None

    def sort_key(self) -> tuple[str, str, str, str, str]:
        """Deterministic order for reports: type, name, version, arch, then evidence path."""
        return (self.type, self.name, self.version, self.arch or "", self.path)
