"""DF008: sudo in a RUN.

Builds already run as the stage's USER; sudo there means the image ships sudo (and usually a
NOPASSWD rule), which lets any process in the container become root again. Found as the program of
any command or as a wrapper of one (`sudo -E apt-get …`, `xargs sudo …`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import all_runs, stage_label


class Df008Sudo:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF008",
        kind="dockerfile",
        title="sudo used in RUN",
        severity=Severity.MEDIUM,
        rationale="sudo in a build means the image carries sudo and a rule allowing it, so a "
        "compromised non-root process in the container can become root again; it also behaves "
        "unpredictably without a TTY.",
        remediation="Run the privileged steps before the final `USER` instruction (switch with `USER root` "
        "and back if needed); at runtime use gosu or su-exec in the entrypoint, not sudo.",
        references=(
            "https://docs.docker.com/build/building/best-practices/#user",
            "https://github.com/hadolint/hadolint/wiki/DL3004",
            "https://avd.aquasec.com/misconfig/ds-0010",
        ),
        peers=(("hadolint", "DL3004"), ("trivy", "DS-0010"), ("checkov", "CKV2_DOCKER_1")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage, run in all_runs(dockerfile):
            if any(c.name == "sudo" or "sudo" in c.wrappers for c in run.commands()):
                yield Hit(run.instruction.start_line, "RUN uses sudo", stage_label(stage))
