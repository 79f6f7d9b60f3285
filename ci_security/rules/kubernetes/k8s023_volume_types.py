"""K8S023: a volume of a type the restricted Pod Security Standard does not allow.

Allowed: configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected,
secret. hostPath volumes are K8S005 to K8S007. The finding points at the volume's type key (`nfs:`,
`gitRepo:`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import PSS, avd, volumes

_ALLOWED = frozenset(
    {"name", "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
     "projected", "secret", "hostPath"}
)  # fmt: skip


class K8s023VolumeTypes:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S023",
        kind="kubernetes",
        title="Volume type outside the restricted set",
        severity=Severity.LOW,
        rationale="In-tree volume types such as nfs, iscsi, rbd, cephfs or gitRepo are mounted by the node "
        "on the pod's behalf, with the node's network access and credentials; gitRepo has even let pods run "
        "commands on the node (CVE-2024-10220).",
        remediation="Mount storage through a PersistentVolumeClaim (the cluster admin defines the "
        "PersistentVolume) or a CSI driver; replace gitRepo with an init container that clones into an "
        "emptyDir.",
        references=(PSS, avd("KSV-0028")),
        peers=(("trivy", "KSV-0028"),),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for volume in volumes(obj):
            for key in volume.data:
                if isinstance(key, str) and key not in _ALLOWED:
                    line = obj.line(*volume.path, key)
                    yield Hit(line, f"volume {volume.name} uses the {key} volume type", obj.resource)
