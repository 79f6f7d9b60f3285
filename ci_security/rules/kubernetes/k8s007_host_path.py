"""K8S007: a hostPath volume (any other host path).

The baseline Pod Security Standard forbids hostPath volumes altogether. Paths that hand over the
node (K8S005) or expose sensitive host data (K8S006) are reported by those rules; this one reports
the rest (`/var/log`, `/opt/data`, `/tmp`, and read-only CA bundles, `/lib/modules` or the `/dev/log`
socket), so one volume gives one finding. A hostPath volume with no path yet is reported at its
`hostPath` line.
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
    host_path,
    host_path_line,
    sensitive_mount,
    takeover_mount,
    volume_read_only,
    volumes,
)


class K8s007HostPath:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S007",
        kind="kubernetes",
        title="hostPath volume",
        severity=Severity.MEDIUM,
        rationale="A hostPath volume ties the pod to one node and gives it the node's files; a writable "
        "one lets the container plant files the node or other pods trust (a writable /var/log mount has "
        "been used to read any file on the node through the kubelet).",
        remediation="Use an emptyDir, a PersistentVolumeClaim or a ConfigMap instead; if a node agent "
        "must read host files, mount the narrowest path with `readOnly: true` and suppress with the reason.",
        references=(PSS, avd("KSV-0023")),
        peers=(("trivy", "KSV-0023"),),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for volume in volumes(obj):
            if "hostPath" not in volume.data:
                continue
            path = host_path(volume)
            read_only = volume_read_only(obj, volume)
            if path is not None and (takeover_mount(path) or sensitive_mount(path, read_only=read_only)):
                continue
            mode = " read-only" if read_only else ""
            message = f"volume {volume.name} mounts host path {path or '(none given)'}{mode}"
            yield Hit(host_path_line(obj, volume), message, obj.resource)
