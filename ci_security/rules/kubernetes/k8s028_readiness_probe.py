"""K8S028: a long-running container has no `readinessProbe`.

Only regular containers of workloads that keep running: Jobs, CronJobs and pods with
`restartPolicy` Never or OnFailure run to completion, and init and ephemeral containers take no
readiness probe. The finding points at the container.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import kube_linter, runs_to_completion, where


class K8s028ReadinessProbe:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S028",
        kind="kubernetes",
        title="Readiness probe not set",
        severity=Severity.LOW,
        rationale="Without a readiness probe the pod receives traffic as soon as it starts and while it is "
        "overloaded or shutting down, which turns rollouts and restarts into errors for users.",
        remediation="Add a `readinessProbe` that succeeds only when the container can serve requests.",
        references=(
            "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/",
            kube_linter("no-readiness-probe"),
        ),
        peers=(("checkov", "CKV_K8S_9"), ("kube-linter", "no-readiness-probe")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        if runs_to_completion(obj):
            return
        for container in obj.containers():
            if container.kind == "containers" and not container.data.get("readinessProbe"):
                line = obj.line(*container.path)
                yield Hit(line, f"{container.label} has no readinessProbe", where(obj, container))
