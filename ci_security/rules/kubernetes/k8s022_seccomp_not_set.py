"""K8S022: a container has no seccomp profile (RuntimeDefault or Localhost).

The effective `seccompProfile` is the container's, else the pod's. Unconfined is K8S019; any other
type that is not RuntimeDefault or Localhost is reported at its `type` line; a missing profile at the
container's `securityContext`, else the container. The old `seccomp.security.alpha.kubernetes.io`
annotations do not count: current Kubernetes versions ignore them. Pods declaring
`os.name: windows` are skipped (seccomp is Linux-only).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import PSS, avd, context_line, is_windows, where

# Confined types pass; Unconfined is K8S019's.
_NOT_HERE = frozenset({"runtimedefault", "localhost", "unconfined"})


class K8s022SeccompNotSet:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S022",
        kind="kubernetes",
        title="Seccomp profile not set",
        severity=Severity.MEDIUM,
        rationale="Kubernetes runs containers without seccomp unless a profile is set (the kubelet's "
        "SeccompDefault is off by default), leaving every system call available to an attacker; the "
        "restricted Pod Security Standard requires RuntimeDefault or Localhost.",
        remediation="Set `securityContext.seccompProfile: {type: RuntimeDefault}` on the pod (it applies "
        "to every container) or on each container.",
        references=(PSS, "https://kubernetes.io/docs/tutorials/security/seccomp/", avd("KSV-0030")),
        peers=(("trivy", "KSV-0030"), ("trivy", "KSV-0104"), ("checkov", "CKV_K8S_31")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        if is_windows(obj):
            return
        for container in obj.containers():
            profile = obj.security_context(container).get("seccompProfile")
            kind = profile.get("type") if isinstance(profile, dict) else None
            if isinstance(kind, str) and kind.lower() in _NOT_HERE:
                continue
            line = context_line(obj, container, "seccompProfile", "type")
            if kind is None:
                message = f"{container.label} has no seccompProfile (RuntimeDefault or Localhost)"
            else:
                message = (
                    f"{container.label} sets seccompProfile type {kind}, not RuntimeDefault or Localhost"
                )
            yield Hit(line, message, where(obj, container))
