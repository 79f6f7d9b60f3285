"""K8S029: a container image uses the `latest` tag or no tag.

An image pinned by digest passes whatever its tag says. Images filled in at deploy time (`${TAG}`,
`{{ ... }}`) are skipped: they say nothing about the real tag. The finding points at `image:`.
It implies K8S030 and K8S031 (the fix, a version pinned by digest, fixes both): their findings on the
same container are folded into this one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import avd, kube_linter, parse_image, where


class K8s029LatestTag:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S029",
        kind="kubernetes",
        title="Image uses the latest tag or no tag",
        severity=Severity.MEDIUM,
        rationale="`latest` (which an untagged image means) changes under you: each node may run a "
        "different build, a rollback cannot return to the previous one, and a compromised upstream push "
        "lands in production on the next restart.",
        remediation="Use an explicit version tag, or better a digest (`image: registry/app:1.4.2@sha256:…`).",
        references=(
            "https://kubernetes.io/docs/concepts/containers/images/#image-names",
            avd("KSV-0013"),
            kube_linter("latest-tag"),
        ),
        peers=(("trivy", "KSV-0013"), ("checkov", "CKV_K8S_14"), ("kube-linter", "latest-tag")),
        implies=("K8S030", "K8S031"),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            ref = parse_image(container.data.get("image"))
            if ref is None or ref.digest is not None:
                continue
            if ref.tag is None:
                message = f"{container.label} image {ref.name} has no tag, so it pulls :latest"
            elif ref.tag == "latest":
                message = f"{container.label} image {ref.name} uses the :latest tag"
            else:
                continue
            yield Hit(obj.line(*container.path, "image"), message, where(obj, container))
