"""K8S013: a container does not drop all capabilities (`capabilities.drop` lacks ALL).

The finding points at the `drop` list when there is one, else at `capabilities`, `securityContext`
or the container. Pods declaring `os.name: windows` are skipped (capabilities are Linux-only).
It implies K8S012 (dropping ALL drops NET_RAW), which is folded into it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import PSS, avd, capabilities, is_windows, where


class K8s013DropAll:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S013",
        kind="kubernetes",
        title="Capabilities not dropped",
        severity=Severity.MEDIUM,
        rationale="Container runtimes grant about fourteen capabilities by default (CHOWN, DAC_OVERRIDE, "
        "SETUID, NET_RAW, …) that few applications use and many exploits do; the restricted Pod Security "
        "Standard requires dropping ALL.",
        remediation="Set `securityContext.capabilities.drop: [ALL]` on the container and add back only what "
        "it needs (usually nothing, or NET_BIND_SERVICE).",
        references=(PSS, avd("KSV-0003"), avd("KSV-0106")),
        peers=(
            ("trivy", "KSV-0003"),
            ("trivy", "KSV-0004"),
            ("trivy", "KSV-0106"),
            ("checkov", "CKV_K8S_37"),
        ),
        implies=("K8S012",),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        if is_windows(obj):
            return
        for container in obj.containers():
            dropped = [name for name, _ in capabilities(obj, container, "drop")]
            if "ALL" not in dropped:
                line = obj.line(*container.path, "securityContext", "capabilities", "drop")
                what = (
                    f"drops {', '.join(dropped)} but not ALL" if dropped else "does not drop ALL capabilities"
                )
                yield Hit(line, f"{container.label} {what}", where(obj, container))
