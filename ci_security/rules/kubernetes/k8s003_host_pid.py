"""K8S003: the pod sets `hostPID: true`.

A pod-level setting, so the finding names the pod (workload), not a container, and points at the
`hostPID` line of the pod spec.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import PSS, avd, is_true, kube_linter, pod_path


class K8s003HostPid:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S003",
        kind="kubernetes",
        title="Pod shares the node's process namespace",
        severity=Severity.HIGH,
        rationale="With the node's PID namespace the pod sees every process on the node, can read their "
        "environment and command lines (secrets) and, with ptrace or as root, enter them: a short path to "
        "the node.",
        remediation="Remove `hostPID: true`; node-level debugging belongs in an ephemeral `kubectl debug "
        "node/...` session, not in a manifest.",
        references=(PSS, avd("KSV-0010"), kube_linter("host-pid")),
        peers=(("trivy", "KSV-0010"), ("checkov", "CKV_K8S_17"), ("kube-linter", "host-pid")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        spec = obj.pod_spec
        if spec is not None and is_true(spec.get("hostPID")):
            yield Hit(obj.line(*pod_path(obj, "hostPID")), "pod spec sets hostPID: true", obj.resource)
