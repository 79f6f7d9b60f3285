"""K8S038: a container exposes port 22 (SSH).

The finding points at each `containerPort: 22` (TCP, the default protocol).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import as_int, kube_linter, where


class K8s038SshPort:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S038",
        kind="kubernetes",
        title="SSH port exposed",
        severity=Severity.MEDIUM,
        rationale="An SSH server in a container is a second way in with its own credentials to leak and "
        "patch, and bypasses the audit trail of `kubectl exec`.",
        remediation="Remove the SSH server and the port; use `kubectl exec` or `kubectl debug` for access.",
        references=(kube_linter("ssh-port"),),
        peers=(("kube-linter", "ssh-port"),),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            ports = container.data.get("ports")
            if not isinstance(ports, list):
                continue
            for index, port in enumerate(ports):
                if not isinstance(port, dict) or as_int(port.get("containerPort")) != 22:
                    continue
                if str(port.get("protocol") or "TCP").upper() == "TCP":
                    line = obj.line(*container.path, "ports", index, "containerPort")
                    yield Hit(
                        line, f"{container.label} exposes containerPort 22 (SSH)", where(obj, container)
                    )
