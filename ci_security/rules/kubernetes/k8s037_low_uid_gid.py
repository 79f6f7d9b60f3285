"""K8S037: a container runs with a UID or GID of 10000 or less, or sets none.

Reads the effective `runAsUser` and `runAsGroup` (container, else pod) and gives one finding per
container for both: UID and GID are one problem with one fix. It points at the first offending
setting that is written (the UID's line, else the GID's), else at the container's
`securityContext`, else the container. `runAsUser: 0` is K8S021's; a container K8S021 reports has
this finding folded into it (K8S021 implies K8S037). Pods declaring `os.name: windows` are skipped
(Windows has no UIDs).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import as_int, avd, context_line, is_windows, where

_LIMIT = 10000


class K8s037LowUidGid:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S037",
        kind="kubernetes",
        title="UID or GID not above 10000",
        severity=Severity.LOW,
        rationale="Low UIDs and GIDs collide with users and groups on the node (and with the image's "
        "default user): a process that escapes its container then owns that host user's files.",
        remediation="Set `runAsUser` and `runAsGroup` above 10000 (for example 10001) in the pod's or "
        "container's securityContext.",
        references=(avd("KSV-0020"), avd("KSV-0021")),
        peers=(
            ("trivy", "KSV-0020"),
            ("trivy", "KSV-0021"),
            ("trivy", "KSV-0116"),
            ("checkov", "CKV_K8S_40"),
        ),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        if is_windows(obj):
            return
        for container in obj.containers():
            context = obj.security_context(container)
            problems: list[str] = []
            lines: list[int] = []
            for key, what in (("runAsUser", "UID"), ("runAsGroup", "GID")):
                value = as_int(context.get(key))
                if value is not None and (value > _LIMIT or (key == "runAsUser" and value == 0)):
                    continue
                if value is None:
                    problems.append(f"sets no {key} (the image's {what} applies)")
                else:
                    problems.append(f"runs with {what} {value}")
                    lines.append(context_line(obj, container, key))
            if problems:
                line = lines[0] if lines else context_line(obj, container, "runAsUser")
                message = f"{container.label} {' and '.join(problems)}; UID and GID should be above {_LIMIT}"
                yield Hit(line, message, where(obj, container))
