"""K8S019: a container runs without seccomp (profile type Unconfined).

The effective `seccompProfile` is the container's, else the pod's; the finding points at the
`type` line where Unconfined is written. A profile that is not set at all is K8S022.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import PSS, context_line, where


class K8s019SeccompUnconfined:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S019",
        kind="kubernetes",
        title="Seccomp disabled (Unconfined)",
        severity=Severity.HIGH,
        rationale="Seccomp's default profile blocks the system calls most kernel exploits and container "
        "escapes rely on (unshare, keyctl, bpf, mount); Unconfined explicitly switches it off.",
        remediation="Set `seccompProfile: {type: RuntimeDefault}` (or a Localhost profile made for the "
        "workload) instead of Unconfined.",
        references=(PSS, "https://kubernetes.io/docs/tutorials/security/seccomp/"),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            profile = obj.security_context(container).get("seccompProfile")
            kind = profile.get("type") if isinstance(profile, dict) else None
            if isinstance(kind, str) and kind.lower() == "unconfined":
                line = context_line(obj, container, "seccompProfile", "type")
                yield Hit(
                    line, f"{container.label} sets seccompProfile type Unconfined", where(obj, container)
                )
