"""K8S020: a container does not set `allowPrivilegeEscalation: false`.

The field exists only on containers; when it is missing the finding points at the container's
`securityContext`, else at the container. Pods declaring `os.name: windows` are skipped (the
setting is Linux-only). A privileged container always allows escalation and the API server rejects
`allowPrivilegeEscalation: false` next to `privileged: true` (or `capabilities.add: [CAP_SYS_ADMIN]`):
K8S001 implies this rule, so for such a container the finding is folded into K8S001's, and when it is
not (K8S001 disabled) its message says to remove `privileged` first instead of suggesting a fix the
API server refuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import (
    PSS,
    SECURITY_CONTEXT,
    avd,
    context_line,
    is_false,
    is_true,
    is_windows,
    kube_linter,
    shown,
    where,
)


def _blocker(context: dict[str, Any]) -> str:
    """What in a securityContext makes `allowPrivilegeEscalation: false` invalid, or ""."""
    if is_true(context.get("privileged")):
        return "privileged: true"
    caps = context.get("capabilities")
    added = caps.get("add") if isinstance(caps, dict) else None
    if isinstance(added, list) and "CAP_SYS_ADMIN" in added:
        return "capability CAP_SYS_ADMIN"
    return ""


class K8s020PrivilegeEscalation:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S020",
        kind="kubernetes",
        title="Privilege escalation allowed",
        severity=Severity.MEDIUM,
        rationale="Unless allowPrivilegeEscalation is false, a process can gain more privileges than its "
        "parent through setuid binaries or file capabilities (no_new_privs is not set), turning a "
        "non-root foothold into root.",
        remediation="Set `securityContext.allowPrivilegeEscalation: false` on every container.",
        references=(PSS, SECURITY_CONTEXT, avd("KSV-0001"), kube_linter("privilege-escalation-container")),
        peers=(
            ("trivy", "KSV-0001"),
            ("checkov", "CKV_K8S_20"),
            ("kube-linter", "privilege-escalation-container"),
        ),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        if is_windows(obj):
            return
        for container in obj.containers():
            context = obj.security_context(container)
            value = context.get("allowPrivilegeEscalation")
            if is_false(value):
                continue
            line = context_line(obj, container, "allowPrivilegeEscalation")
            if value is None:
                message = f"{container.label} does not set allowPrivilegeEscalation: false"
            else:
                message = f"{container.label} sets allowPrivilegeEscalation: {shown(value)}"
            blocker = _blocker(context)
            if blocker:
                message += (
                    f"; remove {blocker} first: the API server rejects allowPrivilegeEscalation: false "
                    "next to it"
                )
            yield Hit(line, message, where(obj, container))
