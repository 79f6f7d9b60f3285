"""DF012: `apt-get update` leaves the package lists in the layer.

`apt-get update` downloads tens of megabytes of package lists to `/var/lib/apt/lists`; removing them
in a later RUN does not shrink the image, so they must go in the same RUN: `rm -rf
/var/lib/apt/lists/*` (any `rm` of that directory), `apt-get distclean`, or a BuildKit cache mount on
`/var/lib/apt` or `/var/lib/apt/lists`. Only the final stage and the stages it is built FROM are
checked: the layers of other build stages never reach the image.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import Run, apt_action, final_lineage, stage_label, stage_runs

_LISTS = "/var/lib/apt/lists"


def _cleans(run: Run) -> bool:
    if run.caches(_LISTS):
        return True
    for command in run.commands():
        if command.name == "rm" and any(a.rstrip("/*").startswith(_LISTS) for a in command.args):
            return True
        if apt_action(command) in ("distclean", "dist-clean"):
            return True
    return False


class Df012AptLists:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF012",
        kind="dockerfile",
        title="apt lists not removed after apt-get update",
        severity=Severity.LOW,
        rationale="The package lists stay in the layer that downloaded them: a bigger image to store, "
        "pull and scan, and stale package metadata shipped to production.",
        remediation="End the RUN that calls `apt-get update` with `&& rm -rf /var/lib/apt/lists/*`, or "
        "use `RUN --mount=type=cache,target=/var/lib/apt/lists …`.",
        references=(
            "https://docs.docker.com/build/building/best-practices/#apt-get",
            "https://github.com/hadolint/hadolint/wiki/DL3009",
        ),
        peers=(("hadolint", "DL3009"),),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage in final_lineage(dockerfile):
            for run in stage_runs(dockerfile, stage):
                updates = [c.name for c in run.commands() if apt_action(c) == "update"]
                if updates and not _cleans(run):
                    message = f"RUN {updates[0]} update does not remove {_LISTS} in the same RUN"
                    yield Hit(run.instruction.start_line, message, stage_label(stage))
