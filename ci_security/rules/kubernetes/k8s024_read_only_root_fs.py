"""K8S024: a container's root filesystem is writable (`readOnlyRootFilesystem` is not true).

A container-only field: a missing key points at the container's `securityContext`, else at the
container. Pods declaring `os.name: windows` are skipped (Windows does not support it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import (
    SECURITY_CONTEXT,
    avd,
    context_line,
    is_true,
    is_windows,
    kube_linter,
    shown,
    where,
)


class K8s024ReadOnlyRootFs:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S024",
        kind="kubernetes",
        title="Root filesystem is writable",
        severity=Severity.MEDIUM,
        rationale="A writable root filesystem lets an attacker drop tools, alter the application's code "
        "or configuration and persist until the container restarts.",
        remediation="Set `securityContext.readOnlyRootFilesystem: true` and mount an emptyDir where the "
        "application must write (/tmp, caches).",
        references=(SECURITY_CONTEXT, avd("KSV-0014"), kube_linter("no-read-only-root-fs")),
        peers=(("trivy", "KSV-0014"), ("checkov", "CKV_K8S_22"), ("kube-linter", "no-read-only-root-fs")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        if is_windows(obj):
            return
        for container in obj.containers():
            value = obj.security_context(container).get("readOnlyRootFilesystem")
            if is_true(value):
                continue
            line = context_line(obj, container, "readOnlyRootFilesystem")
            if value is None:
                message = f"{container.label} does not set readOnlyRootFilesystem: true"
            else:
                message = f"{container.label} sets readOnlyRootFilesystem: {shown(value)}"
            yield Hit(line, message, where(obj, container))
