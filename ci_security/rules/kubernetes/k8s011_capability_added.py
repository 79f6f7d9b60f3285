"""K8S011: a container adds a capability.

Any added capability except NET_BIND_SERVICE, the one the restricted Pod Security Standard allows
after `drop: [ALL]` (binding a port below 1024). SYS_ADMIN/ALL (K8S009) and the dangerous set
(K8S010) are left to those rules, so an item gives one finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import (
    DANGEROUS_CAPABILITIES,
    PSS,
    TAKEOVER_CAPABILITIES,
    avd,
    capabilities,
    where,
)

_REPORTED_ELSEWHERE = TAKEOVER_CAPABILITIES | DANGEROUS_CAPABILITIES | {"NET_BIND_SERVICE"}


class K8s011CapabilityAdded:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S011",
        kind="kubernetes",
        title="Capability added",
        severity=Severity.MEDIUM,
        rationale="Every added capability widens what a compromised process can do in the kernel; the "
        "restricted Pod Security Standard allows adding only NET_BIND_SERVICE.",
        remediation="Remove the capability from `capabilities.add` (most applications need none after "
        "`drop: [ALL]`); to bind a port below 1024 add only NET_BIND_SERVICE.",
        references=(PSS, avd("KSV-0022")),
        peers=(("trivy", "KSV-0022"), ("checkov", "CKV_K8S_25")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            for name, path in capabilities(obj, container, "add"):
                if name not in _REPORTED_ELSEWHERE:
                    yield Hit(
                        obj.line(*path), f"{container.label} adds capability {name}", where(obj, container)
                    )
