"""K8S021: a container may run as root.

Reads the effective securityContext (container, else pod). It passes when `runAsUser` is a
non-zero UID or `runAsNonRoot` is true (what Checkov and kube-linter accept; the kubelet then
refuses to start an image whose user is root). It fires, at the line that says so, on
`runAsUser: 0` (even with runAsNonRoot, which then only stops the pod from starting) and on
`runAsNonRoot: false`; and, when neither is set anywhere, at the container's `securityContext`, else
at the container. It implies K8S037 (UID and GID not above 10000): the fix is the same
securityContext, so that finding is folded into this one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import (
    PSS,
    as_int,
    avd,
    context_line,
    is_true,
    kube_linter,
    shown,
    where,
)


class K8s021RunAsRoot:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S021",
        kind="kubernetes",
        title="Container may run as root",
        severity=Severity.MEDIUM,
        rationale="Without runAsNonRoot or a non-zero runAsUser the container runs as whatever user the "
        "image says, usually root; root in a container is one kernel bug or misconfiguration away from "
        "root on the node.",
        remediation="Set `securityContext.runAsNonRoot: true` (pod or container) with `runAsUser` and "
        "`runAsGroup` above 10000 (for example 10001), and build the image with a non-root USER.",
        references=(PSS, avd("KSV-0012"), avd("KSV-0105"), kube_linter("run-as-non-root")),
        peers=(
            ("trivy", "KSV-0012"),
            ("trivy", "KSV-0105"),
            ("checkov", "CKV_K8S_23"),
            ("kube-linter", "run-as-non-root"),
        ),
        implies=("K8S037",),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            context = obj.security_context(container)
            user = as_int(context.get("runAsUser"))
            non_root = context.get("runAsNonRoot")
            if user == 0:
                line = context_line(obj, container, "runAsUser")
                yield Hit(line, f"{container.label} runs as UID 0 (runAsUser: 0)", where(obj, container))
            elif (user is not None and user > 0) or is_true(non_root):
                continue
            elif non_root is not None:
                line = context_line(obj, container, "runAsNonRoot")
                yield Hit(
                    line, f"{container.label} sets runAsNonRoot: {shown(non_root)}", where(obj, container)
                )
            else:
                line = context_line(obj, container, "runAsNonRoot")
                message = f"{container.label} sets neither runAsNonRoot: true nor a non-root runAsUser"
                yield Hit(line, message, where(obj, container))
