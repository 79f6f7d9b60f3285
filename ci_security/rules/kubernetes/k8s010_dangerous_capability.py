"""K8S010: a container adds a dangerous capability (NET_ADMIN, SYS_PTRACE, SYS_MODULE,
DAC_READ_SEARCH, … see `common.DANGEROUS_CAPABILITIES`).

SYS_ADMIN and ALL are K8S009; any other added capability is K8S011. One finding per item.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import DANGEROUS_CAPABILITIES, PSS, avd, capabilities, where


class K8s010DangerousCapability:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S010",
        kind="kubernetes",
        title="Dangerous capability added",
        severity=Severity.HIGH,
        rationale="Capabilities such as SYS_MODULE (load kernel modules), SYS_PTRACE (trace other "
        "processes), DAC_READ_SEARCH (the open_by_handle_at escape), NET_ADMIN (reconfigure and sniff the "
        "network) or BPF give a compromised container a realistic way out to the node or into other pods.",
        remediation="Remove the capability from `capabilities.add`; if a node agent truly needs it, run it "
        "in a dedicated namespace and suppress the finding with the reason.",
        references=(PSS, "https://man7.org/linux/man-pages/man7/capabilities.7.html", avd("KSV-0120")),
        peers=(("trivy", "KSV-0120"),),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            for name, path in capabilities(obj, container, "add"):
                if name in DANGEROUS_CAPABILITIES:
                    yield Hit(
                        obj.line(*path), f"{container.label} adds capability {name}", where(obj, container)
                    )
