"""DF027: OS packages installed with apt-get/apt or apk without a version.

apt: `pkg=version` is pinned, and so are `pkg/release` (a target release), `.deb` files and
variables. apk: `pkg=version` (also `~=`, `>`, `<`), `.apk` files and variables. apk's `--virtual`
name is not a package.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.manifests.shell import Command
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import all_runs, apk_options, apt_options, stage_label


def _unpinned(command: Command) -> list[str]:
    apt = apt_options(command)
    if apt is not None:
        if apt.positionals[:1] != ("install",):
            return []
        return [
            p for p in apt.positionals[1:] if not ("=" in p or "/" in p or p.endswith(".deb") or "$" in p)
        ]
    apk = apk_options(command)
    if apk is not None and apk.positionals[:1] == ("add",):
        return [p for p in apk.positionals[1:] if not any(m in p for m in "=<>$") and not p.endswith(".apk")]
    return []


class Df027OsPackagesUnpinned:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF027",
        kind="dockerfile",
        title="OS packages installed without pinned versions",
        severity=Severity.LOW,
        rationale="Unpinned packages are whatever the mirror has on the day of the build, so two builds "
        "of one commit can differ and a bad package release goes in unnoticed.",
        remediation="Pin the versions (`apt-get install -y curl=8.5.0-2ubuntu10.6`, `apk add "
        "curl=8.9.1-r2`) and let Renovate update them; or pin the base image by digest and rebuild on "
        "purpose.",
        references=(
            "https://docs.docker.com/build/building/best-practices/#apt-get",
            "https://github.com/hadolint/hadolint/wiki/DL3008",
            "https://github.com/hadolint/hadolint/wiki/DL3018",
        ),
        peers=(("hadolint", "DL3008"), ("hadolint", "DL3018")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage, run in all_runs(dockerfile):
            packages = list(dict.fromkeys(p for c in run.commands() for p in _unpinned(c)))
            if packages:
                shown = ", ".join(packages[:5]) + (
                    f" and {len(packages) - 5} more" if len(packages) > 5 else ""
                )
                yield Hit(run.instruction.start_line, f"RUN installs unpinned {shown}", stage_label(stage))
