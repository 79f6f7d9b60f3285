"""K8S002: the pod sets `hostNetwork: true`.

A pod-level setting, so the finding names the pod (workload), not a container, and points at the
`hostNetwork` line of the pod spec.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import PSS, avd, is_true, kube_linter, pod_path


class K8s002HostNetwork:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S002",
        kind="kubernetes",
        title="Pod shares the node's network namespace",
        severity=Severity.HIGH,
        rationale="With the node's network namespace the pod can bind any host port, reach services "
        "listening on the node's loopback (the kubelet's, local daemons') and sniff or spoof node traffic, "
        "bypassing NetworkPolicies.",
        remediation="Remove `hostNetwork: true` and expose the workload through a Service; only node agents "
        "that must see the node's interfaces need it (suppress with the reason).",
        references=(PSS, avd("KSV-0009"), kube_linter("host-network")),
        peers=(("trivy", "KSV-0009"), ("checkov", "CKV_K8S_19"), ("kube-linter", "host-network")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        spec = obj.pod_spec
        if spec is not None and is_true(spec.get("hostNetwork")):
            yield Hit(
                obj.line(*pod_path(obj, "hostNetwork")), "pod spec sets hostNetwork: true", obj.resource
            )
