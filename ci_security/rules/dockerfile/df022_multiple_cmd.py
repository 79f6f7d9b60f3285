"""DF022: more than one CMD or ENTRYPOINT in a stage.

Only the last CMD and the last ENTRYPOINT of a stage take effect; every earlier one is dead code that
misleads the reader. The hit points at each later instruction, as Hadolint does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import stage_label


class Df022MultipleCmd:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF022",
        kind="dockerfile",
        title="Multiple CMD or ENTRYPOINT in a stage",
        severity=Severity.LOW,
        rationale="Only the last CMD and ENTRYPOINT of a stage are used; the earlier ones suggest a "
        "start command the container never runs.",
        remediation="Keep one CMD and one ENTRYPOINT per stage; remove the others.",
        references=(
            "https://docs.docker.com/reference/dockerfile/#cmd",
            "https://github.com/hadolint/hadolint/wiki/DL4003",
            "https://github.com/hadolint/hadolint/wiki/DL4004",
            "https://avd.aquasec.com/misconfig/ds-0016",
            "https://avd.aquasec.com/misconfig/ds-0007",
        ),
        peers=(("hadolint", "DL4003"), ("hadolint", "DL4004"), ("trivy", "DS-0016"), ("trivy", "DS-0007")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage in dockerfile.stages:
            first: dict[str, int] = {}
            for inst in stage.instructions:
                if inst.keyword not in ("CMD", "ENTRYPOINT"):
                    continue
                if inst.keyword in first:
                    message = f"{inst.keyword} overrides the {inst.keyword} at line {first[inst.keyword]}"
                    yield Hit(inst.start_line, message, stage_label(stage))
                else:
                    first[inst.keyword] = inst.start_line
