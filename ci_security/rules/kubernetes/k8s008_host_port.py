"""K8S008: a container port is bound on the node with `hostPort`.

Points at the `hostPort` line of each port that sets a non-zero one (`hostPort: 0` means unset).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import PSS, as_int, avd, where


class K8s008HostPort:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S008",
        kind="kubernetes",
        title="Container port bound on the node (hostPort)",
        severity=Severity.MEDIUM,
        rationale="A hostPort opens the port on the node's own address, outside Services and most "
        "NetworkPolicy enforcement, and limits the pod to one replica per node.",
        remediation="Remove `hostPort` and reach the container through a Service (ClusterIP, or a "
        "NodePort/LoadBalancer or Ingress when it must be reachable from outside).",
        references=(PSS, avd("KSV-0024")),
        peers=(("trivy", "KSV-0024"), ("checkov", "CKV_K8S_26")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            ports = container.data.get("ports")
            if not isinstance(ports, list):
                continue
            for index, port in enumerate(ports):
                host_port = as_int(port.get("hostPort")) if isinstance(port, dict) else None
                if host_port:
                    line = obj.line(*container.path, "ports", index, "hostPort")
                    message = f"{container.label} binds hostPort {host_port} on the node"
                    yield Hit(line, message, where(obj, container))
