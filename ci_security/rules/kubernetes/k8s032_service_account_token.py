"""K8S032: the pod mounts a service account token (`automountServiceAccountToken` is not false).

A pod-level setting: a missing key points at the pod spec, `true` at its line. Turning the mount off
on the ServiceAccount instead is invisible from the pod, so such pods are reported too (suppress them
with the reason).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import avd, is_false, pod_path, shown


class K8s032ServiceAccountToken:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S032",
        kind="kubernetes",
        title="Service account token mounted",
        severity=Severity.MEDIUM,
        rationale="Kubernetes mounts an API token into every pod by default; most applications never call "
        "the API, and the token is the first thing an attacker in the pod uses to move into the cluster.",
        remediation="Set `automountServiceAccountToken: false` in the pod spec, and mount a projected token "
        "only in pods that call the Kubernetes API.",
        references=(
            "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/",
            avd("KSV-0036"),
        ),
        peers=(("trivy", "KSV-0036"), ("checkov", "CKV_K8S_38")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        spec = obj.pod_spec
        if spec is None:
            return
        value = spec.get("automountServiceAccountToken")
        if is_false(value):
            return
        line = obj.line(*pod_path(obj, "automountServiceAccountToken"))
        if value is None:
            message = "pod spec does not set automountServiceAccountToken: false"
        else:
            message = f"pod spec sets automountServiceAccountToken: {shown(value)}"
        yield Hit(line, message, obj.resource)
