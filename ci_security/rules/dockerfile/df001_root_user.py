"""DF001: the image the Dockerfile builds runs as root.

The user a container starts as is the last USER of the final stage, or of the stages it is built FROM
in this file; without one it is the base image's user, root for nearly every base image. Distroless
`nonroot` tags set a non-root user in the image config, so a final stage built FROM one of them
without USER is not flagged. A USER whose value is a variable nobody set is unknown and not flagged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile, scope_at
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import lineage, split_image, stage_label, unquote


class Df001RootUser:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF001",
        kind="dockerfile",
        title="Image runs as root",
        severity=Severity.MEDIUM,
        rationale="A process running as root in the container is root on the host's kernel: any code "
        "execution bug in it gets the most privileges a container can have and the best chance of "
        "escaping.",
        remediation="Create an unprivileged user and switch to it at the end of the final stage: "
        "`RUN useradd --uid 10001 --create-home app` then `USER 10001`.",
        references=(
            "https://docs.docker.com/build/building/best-practices/#user",
            "https://docs.docker.com/reference/dockerfile/#user",
            "https://github.com/hadolint/hadolint/wiki/DL3002",
            "https://avd.aquasec.com/misconfig/ds-0002",
        ),
        peers=(
            ("hadolint", "DL3002"),
            ("trivy", "DS-0002"),
            ("checkov", "CKV_DOCKER_3"),
            ("checkov", "CKV_DOCKER_8"),
        ),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        final = dockerfile.final_stage
        if final is None:
            return
        resource = stage_label(final)
        chain = lineage(dockerfile, final)
        for stage in chain:
            users = [inst for inst in stage.instructions if inst.keyword == "USER"]
            if not users:
                continue
            last = users[-1]
            value = unquote(last.args, dockerfile, scope_at(dockerfile, last)).strip()
            user = value.split(":", 1)[0]
            if user in ("root", "0"):
                where = "" if stage is final else f" (inherited from {stage_label(stage)})"
                yield Hit(last.start_line, f"the last USER of the final stage is {value}{where}", resource)
            return
        _, tag, _ = split_image(chain[-1].base)
        if tag is not None and "nonroot" in tag:
            return
        yield Hit(final.from_line, "the final stage sets no USER, so the container runs as root", resource)
