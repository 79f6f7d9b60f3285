"""K8S009: a container adds SYS_ADMIN or ALL capabilities.

Names are read as the runtimes read them (case-insensitive, with or without the `CAP_` prefix);
each offending item of `capabilities.add` is one finding at its own line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import PSS, TAKEOVER_CAPABILITIES, avd, capabilities, where


class K8s009SysAdmin:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S009",
        kind="kubernetes",
        title="SYS_ADMIN or ALL capabilities added",
        severity=Severity.CRITICAL,
        rationale="CAP_SYS_ADMIN allows mounting filesystems, cgroup release agents and most of what "
        "root can do in the kernel, and ALL includes it: both are well-known container escapes, as bad "
        "as a privileged container.",
        remediation="Remove SYS_ADMIN/ALL from `capabilities.add`; add only the specific capability the "
        "workload needs (often none), after `drop: [ALL]`.",
        references=(PSS, avd("KSV-0005")),
        peers=(("trivy", "KSV-0005"), ("checkov", "CKV_K8S_39")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            for name, path in capabilities(obj, container, "add"):
                if name in TAKEOVER_CAPABILITIES:
                    yield Hit(
                        obj.line(*path), f"{container.label} adds capability {name}", where(obj, container)
                    )
