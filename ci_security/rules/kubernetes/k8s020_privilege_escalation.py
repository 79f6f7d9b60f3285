"""K8S020: a container does not set `allowPrivilegeEscalation: false`.

The field exists only on containers; when it is missing the finding points at the container's
`securityContext`, else at the container. Pods declaring `os.name: windows` are skipped (the
setting is Linux-only).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import (
    PSS,
    SECURITY_CONTEXT,
    avd,
    context_line,
    is_false,
    is_windows,
    kube_linter,
    shown,
    where,
)
from ci_security.rules.kubernetes.load import K8sObject


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
            value = obj.security_context(container).get("allowPrivilegeEscalation")
            if is_false(value):
                continue
            line = context_line(obj, container, "allowPrivilegeEscalation")
            if value is None:
                message = f"{container.label} does not set allowPrivilegeEscalation: false"
            else:
                message = f"{container.label} sets allowPrivilegeEscalation: {shown(value)}"
            yield Hit(line, message, where(obj, container))
