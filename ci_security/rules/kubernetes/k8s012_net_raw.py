"""K8S012: a container keeps NET_RAW, which container runtimes grant by default: its
`capabilities.drop` lists neither ALL nor NET_RAW.

Reported at the `drop` list when there is one, else at `capabilities`, `securityContext` or the
container. A container that adds NET_RAW back is K8S011's (a capability added on purpose), not
repeated here; one that drops no capabilities at all is K8S013's, which implies this rule (its fix,
`drop: [ALL]`, drops NET_RAW too), so the finding is folded into K8S013's when both fire. Pods
declaring `os.name: windows` are skipped (capabilities are Linux-only).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import avd, capabilities, is_windows, kube_linter, where


class K8s012NetRaw:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S012",
        kind="kubernetes",
        title="NET_RAW capability kept",
        severity=Severity.LOW,
        rationale="NET_RAW, granted by default, lets a compromised container craft raw packets: ARP and "
        "DNS spoofing of other pods on the node, and several kernel exploits need it.",
        remediation="Add `drop: [ALL]` (or at least NET_RAW) under the container's "
        "`securityContext.capabilities` and do not add NET_RAW back.",
        references=(avd("KSV-0119"), kube_linter("drop-net-raw-capability")),
        peers=(("trivy", "KSV-0119"), ("checkov", "CKV_K8S_28"), ("kube-linter", "drop-net-raw-capability")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        if is_windows(obj):
            return
        for container in obj.containers():
            added = any(name == "NET_RAW" for name, _ in capabilities(obj, container, "add"))
            dropped = {name for name, _ in capabilities(obj, container, "drop")}
            if not added and "ALL" not in dropped and "NET_RAW" not in dropped:
                line = obj.line(*container.path, "securityContext", "capabilities", "drop")
                yield Hit(line, f"{container.label} does not drop NET_RAW", where(obj, container))
