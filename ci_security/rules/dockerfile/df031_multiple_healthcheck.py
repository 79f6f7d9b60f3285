"""DF031: more than one HEALTHCHECK in a stage; only the last one takes effect."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import stage_label


class Df031MultipleHealthcheck:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF031",
        kind="dockerfile",
        title="Multiple HEALTHCHECK in a stage",
        severity=Severity.LOW,
        rationale="Only the last HEALTHCHECK of a stage is used; an earlier one suggests a check the "
        "container never runs.",
        remediation="Keep a single HEALTHCHECK per stage.",
        references=(
            "https://docs.docker.com/reference/dockerfile/#healthcheck",
            "https://github.com/hadolint/hadolint/wiki/DL3012",
            "https://avd.aquasec.com/misconfig/ds-0023",
        ),
        peers=(("hadolint", "DL3012"), ("trivy", "DS-0023")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage in dockerfile.stages:
            first: int | None = None
            for inst in stage.instructions:
                if inst.keyword != "HEALTHCHECK":
                    continue
                if first is None:
                    first = inst.start_line
                else:
                    yield Hit(
                        inst.start_line, f"HEALTHCHECK overrides the one at line {first}", stage_label(stage)
                    )
