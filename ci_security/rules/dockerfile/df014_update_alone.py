"""DF014: a package index update alone in its RUN.

`RUN apt-get update` (or `apk update`) on its own is a layer the build cache keeps forever: later
`RUN apt-get install` lines reuse the stale lists and fail or install outdated packages once the
mirror moved on. The update must be followed, in the same RUN, by an install or upgrade with the
same tool. yum/dnf/zypper `update` upgrades packages, a complete step, so it is not flagged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.manifests.shell import Command
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import all_runs, apk_options, apt_action, stage_label

_APT_USES = frozenset(
    {"install", "upgrade", "dist-upgrade", "full-upgrade", "reinstall", "build-dep", "source", "download"}
)
_APK_USES = frozenset({"add", "upgrade", "fix"})


def _step(command: Command) -> tuple[str, bool] | None:
    """("apt"|"apk", is_update) for a package-index update or use, else None."""
    action = apt_action(command)
    if action is not None:
        if action == "update":
            return "apt", True
        return ("apt", False) if action in _APT_USES else None
    options = apk_options(command)
    if options is not None and options.positionals:
        if options.positionals[0] == "update":
            return "apk", True
        return ("apk", False) if options.positionals[0] in _APK_USES else None
    return None


class Df014UpdateAlone:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF014",
        kind="dockerfile",
        title="Package update without install in the same RUN",
        severity=Severity.LOW,
        rationale="A cached `RUN apt-get update` layer is reused by later builds, so the install in a "
        "following RUN works from outdated package lists: builds break or silently install old, "
        "vulnerable versions.",
        remediation="Update and install in one RUN: `RUN apt-get update && apt-get install -y "
        "--no-install-recommends <packages> && rm -rf /var/lib/apt/lists/*`.",
        references=(
            "https://docs.docker.com/build/building/best-practices/#apt-get",
            "https://avd.aquasec.com/misconfig/ds-0017",
        ),
        peers=(("trivy", "DS-0017"), ("checkov", "CKV_DOCKER_5")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage, run in all_runs(dockerfile):
            pending: dict[str, str] = {}
            for command in run.commands():
                step = _step(command)
                if step is None:
                    continue
                tool, is_update = step
                if is_update:
                    pending.setdefault(tool, command.name)
                else:
                    pending.pop(tool, None)
            if pending:
                name = next(iter(pending.values()))
                message = f"RUN {name} update is not followed by an install in the same RUN"
                yield Hit(run.instruction.start_line, message, stage_label(stage))
