"""K8S014: a container runs without AppArmor (profile type Unconfined).

Both ways of saying it are read: the `appArmorProfile` field (container, else pod) and the older
`container.apparmor.security.beta.kubernetes.io/<container>: unconfined` annotation on the pod
(template) metadata, each at its own line. A profile that is simply not set is fine: the runtime's
default applies on hosts with AppArmor.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import (
    PSS,
    avd,
    context_line,
    pod_annotations,
    pod_metadata_path,
    where,
)

_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


class K8s014ApparmorUnconfined:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S014",
        kind="kubernetes",
        title="AppArmor disabled (Unconfined)",
        severity=Severity.HIGH,
        rationale="The runtime's default AppArmor profile blocks mounts, writes to /proc and /sys and other "
        "steps of known container escapes; Unconfined switches that protection off.",
        remediation="Remove the Unconfined setting (the runtime default then applies) or set "
        "`appArmorProfile: {type: RuntimeDefault}` or a Localhost profile written for the workload.",
        references=(PSS, "https://kubernetes.io/docs/tutorials/security/apparmor/", avd("KSV-0002")),
        peers=(("trivy", "KSV-0002"),),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        annotations = pod_annotations(obj)
        for container in obj.containers():
            profile = obj.security_context(container).get("appArmorProfile")
            kind = profile.get("type") if isinstance(profile, dict) else None
            if isinstance(kind, str) and kind.lower() == "unconfined":
                line = context_line(obj, container, "appArmorProfile", "type")
                yield Hit(
                    line, f"{container.label} sets appArmorProfile type Unconfined", where(obj, container)
                )
            key = _ANNOTATION + container.name
            value = annotations.get(key)
            if isinstance(value, str) and value.strip().lower() == "unconfined":
                line = obj.line(*pod_metadata_path(obj), "annotations", key)
                yield Hit(line, f"annotation {key} disables AppArmor", where(obj, container))
