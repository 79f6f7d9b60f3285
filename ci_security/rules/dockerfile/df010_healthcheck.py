"""DF010: the image has no HEALTHCHECK.

Looked up in the final stage and the stages it is built FROM in this file; `HEALTHCHECK NONE` is a
deliberate choice and counts as present. The base image may define one that this file cannot see.
The hit points at the final stage's FROM line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import final_lineage, stage_label


class Df010Healthcheck:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF010",
        kind="dockerfile",
        title="No HEALTHCHECK",
        severity=Severity.LOW,
        rationale="Without a health check Docker and Compose only notice that a container died, not "
        "that it hangs or stopped serving, so a broken instance keeps receiving traffic.",
        remediation='Add `HEALTHCHECK --interval=30s --timeout=3s CMD ["/app/healthcheck"]` (a command '
        "present in the image), or `HEALTHCHECK NONE` when the orchestrator probes the container itself.",
        references=(
            "https://docs.docker.com/reference/dockerfile/#healthcheck",
            "https://github.com/hadolint/hadolint/wiki/DL3057",
            "https://avd.aquasec.com/misconfig/ds-0026",
        ),
        peers=(("hadolint", "DL3057"), ("trivy", "DS-0026"), ("checkov", "CKV_DOCKER_2")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        stages = final_lineage(dockerfile)
        if not stages:
            return
        if any(inst.keyword == "HEALTHCHECK" for stage in stages for inst in stage.instructions):
            return
        final = stages[0]
        yield Hit(final.from_line, "the final stage defines no HEALTHCHECK", stage_label(final))
