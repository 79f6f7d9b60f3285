"""K8S005: a hostPath volume mounts the container runtime's socket or the node's root filesystem.

The socket of Docker, containerd, CRI-O, cri-dockerd or Podman (any path ending in one of their
socket names) lets whoever talks to it start a privileged container on the node. A mount of a
directory holding such a socket (`/var/run`, `/run/containerd`, `/run/user/1000`) exposes it just as
well, and a mount of `/` exposes everything: all of these are this rule (`rules.hostpaths.takeover`,
shared with compose's COMPOSE006). `readOnly` does not help, since connecting to a socket is not a
write. K8S006 and K8S007 skip what this rule reports, so one volume gives one finding, at its
`hostPath.path` line.
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
    kube_linter,
    takeover_mount,
    volumes,
)


class K8s005RuntimeSocket:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S005",
        kind="kubernetes",
        title="Container runtime socket or host root mounted",
        severity=Severity.CRITICAL,
        rationale="The container runtime's socket (docker.sock, containerd.sock, crio.sock) accepts "
        "requests to start privileged containers on the node, and a mount of `/` gives the whole node's "
        "filesystem: either is a direct takeover of the node and of every pod and secret on it.",
        remediation="Remove the hostPath volume. Build images with a daemonless builder (BuildKit rootless, "
        "Kaniko, Buildah) and read node data through a narrower path or the Kubernetes API.",
        references=(PSS, avd("KSV-0006"), kube_linter("docker-sock")),
        peers=(("trivy", "KSV-0006"), ("checkov", "CKV_K8S_27"), ("kube-linter", "docker-sock")),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for volume in volumes(obj):
            path = host_path(volume)
            reason = takeover_mount(path) if path else None
            if reason:
                message = f"volume {volume.name} mounts host path {path}, {reason}"
                yield Hit(host_path_line(obj, volume), message, obj.resource)
