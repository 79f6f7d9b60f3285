"""K8S016: a container sets `procMount: Unmasked`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import PSS, avd, context_line, kube_linter, where


class K8s016ProcMount:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S016",
        kind="kubernetes",
        title="/proc mounted unmasked",
        severity=Severity.HIGH,
        rationale="The runtime masks and makes read-only the parts of /proc (kcore, sysrq-trigger, sys) "
        "that let a process read kernel memory or act on the host kernel; Unmasked removes that protection.",
        remediation="Remove `procMount: Unmasked` (the Default mount type applies).",
        references=(PSS, avd("KSV-0027"), kube_linter("unsafe-proc-mount")),
        peers=(("trivy", "KSV-0027"), ("kube-linter", "unsafe-proc-mount")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            value = obj.security_context(container).get("procMount")
            if isinstance(value, str) and value.lower() == "unmasked":
                line = context_line(obj, container, "procMount")
                yield Hit(line, f"{container.label} sets procMount: Unmasked", where(obj, container))
