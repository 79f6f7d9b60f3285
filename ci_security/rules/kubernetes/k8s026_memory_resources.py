"""K8S026: a container sets no memory request or limit.

Regular and init containers (ephemeral containers cannot have resources). A limit without a request
is complete, since Kubernetes then uses the limit as the request. A request without a limit is
reported at `resources.limits`, a container with neither at `resources.requests` (or, for both,
the nearest existing parent: `resources`, else the container).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import avd, kube_linter, resource_gap, where


class K8s026MemoryResources:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S026",
        kind="kubernetes",
        title="Memory request or limit not set",
        severity=Severity.LOW,
        rationale="Without a memory request the scheduler overcommits the node, and without a limit a leak "
        "or an attacker can exhaust the node's memory and get other pods OOM-killed or evicted.",
        remediation="Set `resources.requests.memory` and `resources.limits.memory` (a limit alone also sets "
        "the request).",
        references=(
            "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
            avd("KSV-0016"),
            kube_linter("unset-memory-requirements"),
        ),
        peers=(
            ("trivy", "KSV-0016"),
            ("trivy", "KSV-0018"),
            ("checkov", "CKV_K8S_12"),
            ("checkov", "CKV_K8S_13"),
            ("kube-linter", "unset-memory-requirements"),
        ),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            if container.kind == "ephemeralContainers":
                continue
            gap = resource_gap(obj, container, "memory")
            if gap is not None:
                line, missing = gap
                yield Hit(line, f"{container.label} sets no memory {missing}", where(obj, container))
