"""DF021: the deprecated MAINTAINER instruction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import resource_of


class Df021Maintainer:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF021",
        kind="dockerfile",
        title="MAINTAINER is deprecated",
        severity=Severity.LOW,
        rationale="MAINTAINER has been deprecated since Docker 1.13; tools read the standard OCI labels "
        "instead, so the contact it gives is not found where people look.",
        remediation='Replace it with `LABEL org.opencontainers.image.authors="team@example.com"`.',
        references=(
            "https://docs.docker.com/reference/dockerfile/#maintainer-deprecated",
            "https://github.com/hadolint/hadolint/wiki/DL4000",
            "https://avd.aquasec.com/misconfig/ds-0022",
        ),
        peers=(("hadolint", "DL4000"), ("trivy", "DS-0022"), ("checkov", "CKV_DOCKER_6")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for inst in dockerfile.instructions:
            if inst.keyword == "MAINTAINER":
                yield Hit(inst.start_line, "MAINTAINER is deprecated", resource_of(dockerfile, inst))
