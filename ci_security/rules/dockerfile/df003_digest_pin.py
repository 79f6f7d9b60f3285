"""DF003: a FROM not pinned by digest.

A tag is a movable pointer; only `image@sha256:…` names fixed content. `scratch`, references to
earlier stages and references still holding an unset variable are not flagged. No other tool checks
this for Dockerfiles (Checkov's CKV_K8S_43 is the Kubernetes equivalent).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import image_base, split_image, stage_label


class Df003DigestPin:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF003",
        kind="dockerfile",
        title="Base image not pinned by digest",
        severity=Severity.LOW,
        rationale="Tags can be moved to other content at any time, by the publisher or by whoever takes "
        "over the registry account; a digest names exactly the image that was reviewed, so rebuilds are "
        "reproducible and a swapped base image cannot slip in.",
        remediation="Append the digest to the reference (`FROM python:3.12-slim@sha256:…`, from `docker "
        "buildx imagetools inspect python:3.12-slim`) and let Renovate or Dependabot update it.",
        references=(
            "https://docs.docker.com/build/building/best-practices/#pin-base-image-versions",
            "https://docs.docker.com/reference/dockerfile/#from",
        ),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage in dockerfile.stages:
            base = image_base(dockerfile, stage)
            if base is None or split_image(base)[2] is not None:
                continue
            yield Hit(stage.from_line, f"FROM {base} is not pinned by digest", stage_label(stage))
