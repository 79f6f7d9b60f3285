"""K8S006: a hostPath volume mounts a sensitive host path.

Which paths are sensitive is defined once for Kubernetes and compose (`rules.hostpaths`): a whole
system directory (`/etc`, `/proc`, `/sys`, `/dev`, `/usr`, `/var`, …) or a tree holding credentials or
kernel control (`/etc/kubernetes`, `/var/lib/kubelet`, `/root`, …) at any mode, since reading them is
enough to steal credentials; and anything else below a system directory when it is writable
(`/etc/cni/net.d`, `/usr/local/bin`, `/lib/modules`). The volume is read-only when every container
that mounts it sets `readOnly: true`: then a CA bundle (`/etc/ssl/certs`, `/etc/pki/tls/certs`) or
`/lib/modules` is not sensitive, and the syslog socket `/dev/log` never is. Those stay hostPath
volumes (K8S007). What K8S005 reports (runtime sockets, `/`) is left to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import (
    PSS,
    avd,
    host_path,
    host_path_line,
    kube_linter,
    sensitive_mount,
    volume_read_only,
    volumes,
)


class K8s006SensitiveHostPath:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S006",
        kind="kubernetes",
        title="Sensitive host directory mounted",
        severity=Severity.HIGH,
        rationale="Host directories such as /etc, /proc, /sys, /dev, /root or the kubelet's state hold "
        "node and cluster credentials and kernel interfaces; a container that mounts them can read secrets "
        "of other pods, and one that can write below a system directory can plant a binary, a kernel "
        "module or a CA certificate the node trusts.",
        remediation="Remove the hostPath volume, or mount the single file or subdirectory the workload "
        "needs with `readOnly: true` on every volumeMount; prefer a ConfigMap, Secret, emptyDir or the "
        "downward API.",
        references=(PSS, avd("KSV-0121"), kube_linter("sensitive-host-mounts")),
        peers=(("trivy", "KSV-0121"), ("kube-linter", "sensitive-host-mounts")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for volume in volumes(obj):
            path = host_path(volume)
            read_only = volume_read_only(obj, volume)
            why = sensitive_mount(path, read_only=read_only) if path is not None else None
            if why is not None:
                mode = "read-only " if read_only else ""
                message = f"volume {volume.name} mounts the sensitive host path {path} {mode}({why})"
                yield Hit(host_path_line(obj, volume), message, obj.resource)
