"""K8S025: a container sets no CPU request or limit.

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


class K8s025CpuResources:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S025",
        kind="kubernetes",
        title="CPU request or limit not set",
        severity=Severity.LOW,
        rationale="Without a CPU request the scheduler packs the pod blindly and it gets the smallest share "
        "under contention; without a limit one compromised or runaway container can starve its neighbours on "
        "the node.",
        remediation="Set `resources.requests.cpu` and `resources.limits.cpu` (a limit alone also sets the "
        "request).",
        references=(
            "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
            avd("KSV-0015"),
            kube_linter("unset-cpu-requirements"),
        ),
        peers=(
            ("trivy", "KSV-0015"),
            ("trivy", "KSV-0011"),
            ("checkov", "CKV_K8S_10"),
            ("checkov", "CKV_K8S_11"),
            ("kube-linter", "unset-cpu-requirements"),
        ),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            if container.kind == "ephemeralContainers":
                continue
            gap = resource_gap(obj, container, "cpu")
            if gap is not None:
                line, missing = gap
                yield Hit(line, f"{container.label} sets no CPU {missing}", where(obj, container))
