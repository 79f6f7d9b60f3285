"""K8S018: a Windows container runs as a HostProcess container.

`windowsOptions.hostProcess: true` on the container or the pod (the kubelet merges windowsOptions
field by field, so the pod's value applies unless the container sets its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import PSS, avd, is_true, pod_path, where

_KEY = ("securityContext", "windowsOptions", "hostProcess")


class K8s018HostProcess:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S018",
        kind="kubernetes",
        title="Windows HostProcess container",
        severity=Severity.CRITICAL,
        rationale="A HostProcess container runs as a process directly on the Windows node, with the "
        "node's network and filesystem and, often, SYSTEM rights: the Windows equivalent of a privileged "
        "container.",
        remediation="Remove `windowsOptions.hostProcess: true`; node management belongs in a "
        "dedicated, separately reviewed DaemonSet (suppress there with the reason).",
        references=(
            PSS,
            "https://kubernetes.io/docs/tasks/configure-pod-container/create-hostprocess-pod/",
            avd("KSV-0103"),
        ),
        peers=(("trivy", "KSV-0103"),),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            options = obj.security_context(container).get("windowsOptions")
            if not (isinstance(options, dict) and is_true(options.get("hostProcess"))):
                continue
            own = (*container.path, *_KEY)
            path = own if obj.get(*own) is not None else pod_path(obj, *_KEY)
            message = f"{container.label} runs as a HostProcess container (hostProcess: true)"
            yield Hit(obj.line(*path), message, where(obj, container))
