"""K8S017: the pod sets a sysctl outside the Pod Security Standards' safe set.

Sysctls live in the pod's `securityContext.sysctls`; names may use `/` or `.` separators. One
finding per unsafe entry, at its `name` line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import PSS, avd, kube_linter, pod_path

# The baseline Pod Security Standard's allowed sysctls (namespaced and isolated per pod).
SAFE_SYSCTLS = frozenset(
    {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
     "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
     "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
     "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}
)  # fmt: skip


class K8s017UnsafeSysctls:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S017",
        kind="kubernetes",
        title="Unsafe sysctl",
        severity=Severity.HIGH,
        rationale="Sysctls outside the safe set are node-wide or namespaced without resource isolation: "
        "setting them changes kernel behaviour for other pods on the node or lets one pod exhaust shared "
        "kernel resources.",
        remediation="Remove the sysctl, or set it on the node (and run the pod on dedicated nodes) instead "
        "of from the pod.",
        references=(
            PSS,
            "https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/",
            avd("KSV-0026"),
            kube_linter("unsafe-sysctls"),
        ),
        peers=(("trivy", "KSV-0026"), ("kube-linter", "unsafe-sysctls")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        context = (obj.pod_spec or {}).get("securityContext")
        sysctls = context.get("sysctls") if isinstance(context, dict) else None
        if not isinstance(sysctls, list):
            return
        for index, sysctl in enumerate(sysctls):
            name = sysctl.get("name") if isinstance(sysctl, dict) else None
            if isinstance(name, str) and name.replace("/", ".") not in SAFE_SYSCTLS:
                line = obj.line(*pod_path(obj, "securityContext", "sysctls", index, "name"))
                yield Hit(line, f"pod securityContext sets unsafe sysctl {name}", obj.resource)
