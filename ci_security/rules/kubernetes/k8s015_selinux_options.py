"""K8S015: a container sets a custom SELinux type, user or role.

The baseline Pod Security Standard allows only the container types `container_t`,
`container_init_t`, `container_kvm_t` and `container_engine_t`, and no user or role. The effective
`seLinuxOptions` is the container's, else the pod's (the kubelet takes the container's as a whole);
each offending field is one finding at its line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import PSS, avd, context_line, where

_ALLOWED_TYPES = frozenset({"container_t", "container_init_t", "container_kvm_t", "container_engine_t"})


class K8s015SelinuxOptions:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S015",
        kind="kubernetes",
        title="Custom SELinux type, user or role",
        severity=Severity.MEDIUM,
        rationale="A custom SELinux type such as spc_t (super-privileged container) or a custom user or "
        "role takes the container out of the confinement SELinux gives it on hosts that enforce it.",
        remediation="Remove `seLinuxOptions.type`, `user` and `role` (keep `level` if you need MCS "
        "separation), or use one of the container types the Pod Security Standards allow.",
        references=(PSS, avd("KSV-0025")),
        peers=(("trivy", "KSV-0025"),),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            options = obj.security_context(container).get("seLinuxOptions")
            if not isinstance(options, dict):
                continue
            for field in ("type", "user", "role"):
                value = options.get(field)
                if value is None or value == "" or (field == "type" and value in _ALLOWED_TYPES):
                    continue
                line = context_line(obj, container, "seLinuxOptions", field)
                message = f"{container.label} sets seLinuxOptions {field} {value}"
                yield Hit(line, message, where(obj, container))
