"""K8S001: a container runs privileged.

`privileged: true` gives the container every capability and every host device, with no seccomp,
AppArmor or SELinux confinement: root in it is root on the node. Checked on regular, init and
ephemeral containers; `privileged: yes` counts too, as Kubernetes reads YAML 1.1 booleans.

It implies the capability and escalation rules (K8S009-K8S013, K8S020): a privileged container has
them all, and `allowPrivilegeEscalation: false` is rejected next to `privileged: true`, so their
findings on the same container are folded into this one (`rules.fold`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import PSS, avd, is_true, kube_linter, where


class K8s001Privileged:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S001",
        kind="kubernetes",
        title="Privileged container",
        severity=Severity.CRITICAL,
        rationale="A privileged container has all capabilities and the host's devices and runs without "
        "seccomp or AppArmor: anyone who gets code execution in it owns the node and every pod on it.",
        remediation="Remove `privileged: true` from the container's securityContext; grant the one "
        "capability or device the workload really needs instead.",
        references=(PSS, avd("KSV-0017"), kube_linter("privileged-container")),
        peers=(("trivy", "KSV-0017"), ("checkov", "CKV_K8S_16"), ("kube-linter", "privileged-container")),
        implies=("K8S009", "K8S010", "K8S011", "K8S012", "K8S013", "K8S020"),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            if is_true(obj.security_context(container).get("privileged")):
                line = obj.line(*obj.security_context_path(container, "privileged"))
                yield Hit(line, f"{container.label} sets privileged: true", where(obj, container))
