"""K8S006: a hostPath volume mounts a sensitive host directory.

Sensitive: `/etc`, `/proc`, `/sys`, `/dev`, `/boot`, `/root`, `/home`, the system binary and library
directories, and the kubelet's, container runtimes' and etcd's state under `/var/lib`
(`common.SENSITIVE_PATHS`), a path below one of them, or a parent that contains one (`/var/lib`).
What K8S005 reports (runtime sockets, `/`) is left to it. `readOnly: true` does not make such a
mount safe: reading `/etc/kubernetes` or the kubelet's directory is enough to steal credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import (
    PSS,
    avd,
    host_path,
    host_path_line,
    kube_linter,
    sensitive_mount,
    takeover_mount,
    volumes,
)
from ci_security.rules.kubernetes.load import K8sObject


class K8s006SensitiveHostPath:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S006",
        kind="kubernetes",
        title="Sensitive host directory mounted",
        severity=Severity.HIGH,
        rationale="Host directories such as /etc, /proc, /sys, /dev, /root or the kubelet's state hold "
        "node and cluster credentials and kernel interfaces; a container that mounts them can read secrets "
        "of other pods or tamper with the node.",
        remediation="Remove the hostPath volume, or mount the single file or subdirectory the workload "
        "needs, read-only; prefer a ConfigMap, Secret, emptyDir or the downward API.",
        references=(PSS, avd("KSV-0121"), kube_linter("sensitive-host-mounts")),
        peers=(("trivy", "KSV-0121"), ("kube-linter", "sensitive-host-mounts")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for volume in volumes(obj):
            path = host_path(volume)
            if path is None or takeover_mount(path):
                continue
            sensitive = sensitive_mount(path)
            if sensitive is not None:
                inside = "" if sensitive == path else f" ({sensitive})"
                message = f"volume {volume.name} mounts the sensitive host path {path}{inside}"
                yield Hit(host_path_line(obj, volume), message, obj.resource)
