"""DF019: `cd` in a RUN to set the working directory.

Only a `cd` at the top level of the RUN's scripts counts: one inside `( … )`, `$( … )` or an
`sh -c` string does not outlive its subshell.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import all_runs, stage_label


class Df019RunCd:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF019",
        kind="dockerfile",
        title="RUN cd instead of WORKDIR",
        severity=Severity.LOW,
        rationale="A `cd` lasts only for its RUN, so the directory later instructions work in is not the "
        "one the reader expects; chains of `cd … && …` are hard to review and easy to break.",
        remediation="Set the directory with `WORKDIR /path` before the RUN (WORKDIR creates it if needed).",
        references=(
            "https://docs.docker.com/build/building/best-practices/#workdir",
            "https://github.com/hadolint/hadolint/wiki/DL3003",
            "https://avd.aquasec.com/misconfig/ds-0013",
        ),
        peers=(("hadolint", "DL3003"), ("trivy", "DS-0013")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage, run in all_runs(dockerfile):
            targets = [
                command.args[0] if command.args else "~"
                for script in run.scripts
                for command in script.top_commands()
                if command.name == "cd" and not command.subshell
            ]
            if targets:
                yield Hit(
                    run.instruction.start_line,
                    f"RUN changes directory with cd {targets[0]}",
                    stage_label(stage),
                )
