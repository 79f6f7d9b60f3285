"""DF024: yum, dnf, microdnf, tdnf or zypper leave their cache in the layer.

A RUN that installs or upgrades with one of them must also clean in the same RUN: `<tool> clean all`
(zypper: `clean`/`cc`), an `rm` of the tool's cache directory, or a BuildKit cache mount on it. Only
the final stage and the stages it is built FROM are checked, as their layers are the image.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import (
    Run,
    final_lineage,
    rpm_manager,
    rpm_options,
    stage_label,
    stage_runs,
)

_CACHES = {
    "yum": ("/var/cache/yum",),
    "dnf": ("/var/cache/dnf", "/var/cache/libdnf5"),
    "microdnf": ("/var/cache/yum", "/var/cache/dnf"),
    "tdnf": ("/var/cache/tdnf",),
    "zypper": ("/var/cache/zypp",),
}
_FILLS = frozenset(
    {"install", "in", "update", "up", "upgrade", "reinstall", "groupinstall", "localinstall", "makecache"}
    | {"distro-sync", "dist-upgrade", "dup", "source-install", "si", "group", "module", "downgrade"}
)


def _cleaned(run: Run, manager: str) -> bool:
    dirs = _CACHES[manager]
    if any(run.caches(d) for d in dirs):
        return True
    for command in run.commands():
        if command.name == "rm" and any(a.rstrip("/*").startswith(dirs) for a in command.args):
            return True
        if rpm_manager(command) == manager:
            options = rpm_options(command)
            positionals = options.positionals if options is not None else ()
            if manager == "zypper" and positionals[:1] in (("clean",), ("cc",)):
                return True
            if positionals[:2] == ("clean", "all"):
                return True
    return False


class Df024RpmCache:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF024",
        kind="dockerfile",
        title="yum/dnf/zypper cache not cleaned",
        severity=Severity.LOW,
        rationale="The package manager's metadata and package cache stay in the layer that filled them: "
        "a bigger image to store, pull and scan; cleaning in a later RUN does not shrink it.",
        remediation="End the RUN with `&& dnf clean all` (`yum clean all`, `zypper clean --all`), or use "
        "`RUN --mount=type=cache,target=/var/cache/dnf …`.",
        references=(
            "https://github.com/hadolint/hadolint/wiki/DL3032",
            "https://github.com/hadolint/hadolint/wiki/DL3040",
            "https://github.com/hadolint/hadolint/wiki/DL3036",
            "https://avd.aquasec.com/misconfig/ds-0015",
        ),
        peers=(
            ("hadolint", "DL3032"),
            ("hadolint", "DL3036"),
            ("hadolint", "DL3040"),
            ("trivy", "DS-0015"),
            ("trivy", "DS-0019"),
            ("trivy", "DS-0020"),
            ("trivy", "DS-0027"),
        ),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage in final_lineage(dockerfile):
            for run in stage_runs(dockerfile, stage):
                used: list[str] = []
                for command in run.commands():
                    manager = rpm_manager(command)
                    options = rpm_options(command)
                    if manager and options and options.positionals[:1] and options.positionals[0] in _FILLS:
                        used.append(manager)
                dirty = [m for m in dict.fromkeys(used) if not _cleaned(run, m)]
                if dirty:
                    message = f"RUN {dirty[0]} does not clean its cache in the same RUN"
                    yield Hit(run.instruction.start_line, message, stage_label(stage))
