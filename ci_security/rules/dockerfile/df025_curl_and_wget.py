"""DF025: a stage runs both curl and wget.

Counted are the programs the RUNs execute, not package names. The hit points at the first RUN that
brings in the second tool.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import stage_label, stage_runs


class Df025CurlAndWget:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF025",
        kind="dockerfile",
        title="Both curl and wget used",
        severity=Severity.LOW,
        rationale="Two download tools mean two sets of packages and vulnerabilities in the image for "
        "one job, and two sets of options (TLS, retries, redirects) to get right.",
        remediation="Pick one tool for every download of the stage, and remove the other from the "
        "installed packages.",
        references=(
            "https://github.com/hadolint/hadolint/wiki/DL4001",
            "https://avd.aquasec.com/misconfig/ds-0014",
        ),
        peers=(("hadolint", "DL4001"), ("trivy", "DS-0014")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage in dockerfile.stages:
            first: dict[str, int] = {}
            for run in stage_runs(dockerfile, stage):
                tools = {c.name for c in run.commands() if c.name in ("curl", "wget")}
                for tool in sorted(tools):
                    first.setdefault(tool, run.instruction.start_line)
                if len(first) == 2:
                    line = max(first.values())
                    other = min(first, key=lambda t: first[t])
                    message = f"stage uses both curl and wget ({other} first at line {first[other]})"
                    yield Hit(line, message, stage_label(stage))
                    break
