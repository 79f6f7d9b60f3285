"""DF002: a FROM that uses the `latest` tag or no tag at all (which means `latest`).

Global ARG defaults are substituted (the parser's `Stage.base`); a reference that still holds a
variable nobody set is only known at build time and is not flagged, nor are `scratch`, references to
earlier stages and references pinned by digest. It implies DF003 (the fix, a version pinned by
digest, fixes both), which is folded into it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import image_base, split_image, stage_label


class Df002LatestTag:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF002",
        kind="dockerfile",
        title="Base image uses latest or no tag",
        severity=Severity.MEDIUM,
        rationale="`latest` (or no tag) is whatever the publisher pushed last: two builds of the same "
        "commit can get different base images, and a compromised or broken push is picked up silently.",
        remediation="Name an explicit version tag (`python:3.12-slim-bookworm`), ideally with its digest "
        "(`python:3.12-slim-bookworm@sha256:…`).",
        references=(
            "https://docs.docker.com/build/building/best-practices/#pin-base-image-versions",
            "https://github.com/hadolint/hadolint/wiki/DL3006",
            "https://github.com/hadolint/hadolint/wiki/DL3007",
            "https://avd.aquasec.com/misconfig/ds-0001",
        ),
        peers=(
            ("hadolint", "DL3006"),
            ("hadolint", "DL3007"),
            ("trivy", "DS-0001"),
            ("checkov", "CKV_DOCKER_7"),
        ),
        implies=("DF003",),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage in dockerfile.stages:
            base = image_base(dockerfile, stage)
            if base is None:
                continue
            _, tag, digest = split_image(base)
            if digest is not None:
                continue
            if tag is None:
                message = f"FROM {base} has no tag, so it uses whatever `latest` is at build time"
            elif tag.lower() == "latest":
                message = f"FROM {base} uses the `latest` tag"
            else:
                continue
            yield Hit(stage.from_line, message, stage_label(stage))
