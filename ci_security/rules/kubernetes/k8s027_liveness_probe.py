"""K8S027: a long-running container has no `livenessProbe`.

Only regular containers of workloads that keep running: Jobs, CronJobs and pods with
`restartPolicy` Never or OnFailure run to completion, and init and ephemeral containers take no
liveness probe. The finding points at the container.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import kube_linter, runs_to_completion, where


class K8s027LivenessProbe:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S027",
        kind="kubernetes",
        title="Liveness probe not set",
        severity=Severity.LOW,
        rationale="Without a liveness probe a container that hangs (deadlock, exhausted pool) keeps its "
        "place and keeps receiving traffic until someone restarts it by hand.",
        remediation="Add a `livenessProbe` (httpGet, tcpSocket, grpc or exec) that fails when the process "
        "can no longer make progress.",
        references=(
            "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/",
            kube_linter("no-liveness-probe"),
        ),
        peers=(("checkov", "CKV_K8S_8"), ("kube-linter", "no-liveness-probe")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        if runs_to_completion(obj):
            return
        for container in obj.containers():
            if container.kind == "containers" and not container.data.get("livenessProbe"):
                line = obj.line(*container.path)
                yield Hit(line, f"{container.label} has no livenessProbe", where(obj, container))
