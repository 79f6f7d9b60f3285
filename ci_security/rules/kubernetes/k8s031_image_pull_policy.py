"""K8S031: a container image referenced by tag is not pulled with `imagePullPolicy: Always`.

Images pinned by digest pass (the digest cannot change). Without an explicit policy Kubernetes uses
Always for `latest` or untagged images and IfNotPresent otherwise, so `app:1.4` with no policy is
reported. The finding points at `imagePullPolicy` when it is written, else at the container.
Images filled in at deploy time are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import parse_image, where


class K8s031ImagePullPolicy:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S031",
        kind="kubernetes",
        title="Image pull policy is not Always for a tag",
        severity=Severity.LOW,
        rationale="With IfNotPresent a node keeps running whatever it cached under the tag, so a re-pushed "
        "(fixed) image never arrives, and any pod on that node can use the cached private image without "
        "the registry checking its pull credentials.",
        remediation="Pin the image by digest, or set `imagePullPolicy: Always`.",
        references=("https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy",),
        peers=(("checkov", "CKV_K8S_15"),),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            ref = parse_image(container.data.get("image"))
            if ref is None or ref.digest is not None:
                continue
            policy = container.data.get("imagePullPolicy")
            if policy is None:
                if ref.tag is None or ref.tag == "latest":
                    continue
                line = obj.line(*container.path)
                message = (
                    f"{container.label} pulls tag {ref.tag} with the default imagePullPolicy IfNotPresent"
                )
            elif policy != "Always":
                line = obj.line(*container.path, "imagePullPolicy")
                message = f"{container.label} pulls tag {ref.tag or 'latest'} with imagePullPolicy {policy}"
            else:
                continue
            yield Hit(line, message, where(obj, container))
