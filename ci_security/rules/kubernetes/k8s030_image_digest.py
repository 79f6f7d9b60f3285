"""K8S030: a container image is not pinned by digest (`@sha256:…`).

Images filled in at deploy time (`${IMAGE}`, `{{ ... }}`) are skipped. The finding points at
`image:`. It implies K8S031 (a digest makes the pull policy moot), which is folded into it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import parse_image, where


class K8s030ImageDigest:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S030",
        kind="kubernetes",
        title="Image not pinned by digest",
        severity=Severity.LOW,
        rationale="A tag can be moved to another image at any time, by the publisher or by whoever "
        "compromises the registry; only a digest guarantees that every node runs the image you tested "
        "and scanned.",
        remediation="Append the digest to the image reference (`app:1.4.2@sha256:…`); let Renovate or "
        "Dependabot keep it current.",
        references=("https://kubernetes.io/docs/concepts/containers/images/#image-names",),
        peers=(("checkov", "CKV_K8S_43"),),
        implies=("K8S031",),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            ref = parse_image(container.data.get("image"))
            if ref is not None and ref.digest is None:
                image = container.data.get("image")
                message = f"{container.label} image {image} is not pinned by digest"
                yield Hit(obj.line(*container.path, "image"), message, where(obj, container))
