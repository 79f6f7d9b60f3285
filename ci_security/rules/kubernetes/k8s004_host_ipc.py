"""K8S004: the pod sets `hostIPC: true`.

A pod-level setting, so the finding names the pod (workload), not a container, and points at the
`hostIPC` line of the pod spec.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import PSS, avd, is_true, kube_linter, pod_path


class K8s004HostIpc:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S004",
        kind="kubernetes",
        title="Pod shares the node's IPC namespace",
        severity=Severity.HIGH,
        rationale="With the node's IPC namespace the pod can read and write the shared memory and message "
        "queues of every process on the node, including other pods' data.",
        remediation="Remove `hostIPC: true`; share memory between containers of one pod with an `emptyDir` "
        "volume with `medium: Memory`.",
        references=(PSS, avd("KSV-0008"), kube_linter("host-ipc")),
        peers=(("trivy", "KSV-0008"), ("checkov", "CKV_K8S_18"), ("kube-linter", "host-ipc")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        spec = obj.pod_spec
        if spec is not None and is_true(spec.get("hostIPC")):
            yield Hit(obj.line(*pod_path(obj, "hostIPC")), "pod spec sets hostIPC: true", obj.resource)
