"""Helpers shared by the Kubernetes rules: how Kubernetes reads a value, where a pod keeps its
volumes and annotations, what a capability or an image reference looks like, and reference URLs.

Booleans: Kubernetes decodes YAML 1.1 (sigs.k8s.io/yaml over yaml.v2), so a plain `yes`, `on` or
`y` is true there while our YAML 1.2 loader keeps it as a string. A rule that compared with `True`
would let `privileged: yes` through, so every rule reads booleans with `is_true`/`is_false`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ci_security.manifests.kubernetes import Container, K8sObject
from ci_security.manifests.yamldoc import Path
from ci_security.rules import hostpaths

_TRUE = frozenset({"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
_FALSE = frozenset({"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})

PSS = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
SECURITY_CONTEXT = "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"
JOB_KINDS = frozenset({"Job", "CronJob"})


def avd(check_id: str) -> str:
    """Trivy's page for a check (`KSV-0017`)."""
    return f"https://avd.aquasec.com/misconfig/{check_id.lower()}"


def kube_linter(check: str) -> str:
    """kube-linter's documentation of a check (`privileged-container`)."""
    return f"https://docs.kubelinter.io/#/generated/checks?id={check}"


def is_true(value: Any) -> bool:
    """True as Kubernetes reads it (YAML 1.1: also `yes`, `on`, `y`)."""
    return value is True or (isinstance(value, str) and value in _TRUE)


def is_false(value: Any) -> bool:
    """False as Kubernetes reads it (YAML 1.1: also `no`, `off`, `n`)."""
    return value is False or (isinstance(value, str) and value in _FALSE)


def as_int(value: Any) -> int | None:
    """An integer field's value, or None when it is unset or not a number (an integral float such
    as `1e4` counts: Kubernetes accepts it for an integer field).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def shown(value: Any) -> str:
    """A value as the manifest would write it, for messages (`True` → `true`)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def where(obj: K8sObject, container: Container) -> str:
    """The resource label of a container: `Deployment/prod/web container app`."""
    return f"{obj.resource} {container.label}"


def context_line(obj: K8sObject, container: Container, key: str, *sub: str) -> int:
    """The line of `key` (and `sub` keys below it) of a container's effective securityContext: the
    container's own setting, else the pod's, else the nearest existing parent.
    """
    return obj.line(*obj.security_context_path(container, key), *sub)


def resource_gap(obj: K8sObject, container: Container, resource: str) -> tuple[int, str] | None:
    """What a container leaves unset of `resource` ("cpu" | "memory"), and the line to point at, or
    None when both are set. A limit without a request is complete: Kubernetes copies the limit into
    the request.
    """
    found = container.data.get("resources")
    resources = found if isinstance(found, dict) else {}
    has: dict[str, bool] = {}
    for kind in ("requests", "limits"):
        values = resources.get(kind)
        has[kind] = isinstance(values, dict) and values.get(resource) not in (None, "")
    if has["limits"]:
        return None
    if has["requests"]:
        return obj.line(*container.path, "resources", "limits", resource), "limit"
    return obj.line(*container.path, "resources", "requests", resource), "request or limit"


def runs_to_completion(obj: K8sObject) -> bool:
    """A Job, a CronJob, or a pod that is not restarted (`restartPolicy` Never or OnFailure)."""
    policy = (obj.pod_spec or {}).get("restartPolicy")
    return obj.kind in JOB_KINDS or policy in ("Never", "OnFailure")


def is_windows(obj: K8sObject) -> bool:
    """The pod declares `os.name: windows`, where Linux-only controls do not apply."""
    spec = obj.pod_spec or {}
    os_spec = spec.get("os")
    return isinstance(os_spec, dict) and os_spec.get("name") == "windows"


def pod_path(obj: K8sObject, *rest: str | int) -> Path:
    """A path below the pod spec (`hostNetwork` → `spec.template.spec.hostNetwork`)."""
    return (*(obj.pod_spec_path or ()), *rest)


def pod_metadata_path(obj: K8sObject) -> Path:
    """Where the pod's own metadata is: `metadata` of a Pod, `spec.template.metadata` of a workload."""
    spec_path = obj.pod_spec_path or ()
    return (*spec_path[:-1], "metadata")


def pod_annotations(obj: K8sObject) -> dict[str, Any]:
    found = obj.get(*pod_metadata_path(obj), "annotations")
    return found if isinstance(found, dict) else {}


@dataclass(frozen=True, slots=True)
class Volume:
    name: str
    data: dict[str, Any]
    path: Path  # of the volume item, relative to the object


def volumes(obj: K8sObject) -> Iterator[Volume]:
    spec = obj.pod_spec
    items = spec.get("volumes") if spec else None
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if isinstance(item, dict):
            name = item.get("name")
            yield Volume(str(name) if name else f"#{index}", item, pod_path(obj, "volumes", index))


def host_path(volume: Volume) -> str | None:
    """The normalised host path of a hostPath volume (`/var/run//docker.sock/` → `/var/run/docker.sock`)."""
    spec = volume.data.get("hostPath")
    raw = spec.get("path") if isinstance(spec, dict) else None
    if not isinstance(raw, str) or not raw.strip():
        return None
    normal = posixpath.normpath("/" + raw.strip())
    return "/" + normal.lstrip("/")


def host_path_line(obj: K8sObject, volume: Volume) -> int:
    return obj.line(*volume.path, "hostPath", "path")


def volume_read_only(obj: K8sObject, volume: Volume) -> bool:
    """Whether every container that mounts `volume` mounts it `readOnly: true` (and at least one
    does): only then can nothing in the pod write through it. An unmounted volume counts as writable,
    since the next edit may mount it.
    """
    mounts = [
        mount
        for container in obj.containers()
        for mount in (container.data.get("volumeMounts") or [])
        if isinstance(mount, dict) and mount.get("name") == volume.name
    ]
    return bool(mounts) and all(is_true(mount.get("readOnly")) for mount in mounts)


def takeover_mount(path: str) -> str | None:
    """Why mounting host `path` hands over the node (K8S005), or None (`rules.hostpaths`)."""
    return hostpaths.takeover(path)


def sensitive_mount(path: str, *, read_only: bool) -> str | None:
    """Why mounting host `path` is sensitive (K8S006), or None (`rules.hostpaths`)."""
    if hostpaths.takeover(path):
        return None
    return hostpaths.sensitive(path, read_only=read_only)


def capability(name: Any) -> str:
    """A capability as Kubernetes and the runtimes accept it: `cap_sys_admin` → `SYS_ADMIN`."""
    text = str(name).strip().upper()
    return text.removeprefix("CAP_")


def capabilities(obj: K8sObject, container: Container, which: str) -> list[tuple[str, Path]]:
    """The capabilities a container adds or drops (`which` = "add" | "drop"), each with its path."""
    caps = obj.security_context(container).get("capabilities")
    items = caps.get(which) if isinstance(caps, dict) else None
    if not isinstance(items, list):
        return []
    base = (*container.path, "securityContext", "capabilities", which)
    return [(capability(item), (*base, index)) for index, item in enumerate(items) if item is not None]


# Capabilities that hand over the node outright (K8S009), and ones that give a realistic path to it or
# to other pods' data (K8S010): module loading, ptrace, raw I/O, eBPF, network control, the
# open_by_handle_at escape (DAC_READ_SEARCH), disabling LSMs, kernel logs, the host clock and reboot.
TAKEOVER_CAPABILITIES = frozenset({"SYS_ADMIN", "ALL"})
DANGEROUS_CAPABILITIES = frozenset(
    {"BPF", "DAC_READ_SEARCH", "MAC_ADMIN", "MAC_OVERRIDE", "NET_ADMIN", "PERFMON", "SYS_BOOT",
     "SYS_MODULE", "SYS_PTRACE", "SYS_RAWIO", "SYS_TIME", "SYSLOG"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ImageRef:
    name: str
    tag: str | None
    digest: str | None


def parse_image(value: Any) -> ImageRef | None:
    """A container's image reference, or None when it is missing or filled in at deploy time
    (`${IMAGE}`, `{{ .Values.image }}`, `$(IMAGE)`): such a value says nothing about the real tag.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    image = value.strip()
    if "${" in image or "{{" in image or "$(" in image:
        return None
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    if tag is not None:
        name = name[: -len(tag) - 1]
    return ImageRef(name, tag or None, digest or None)
