"""Kubernetes objects from YAML files, with the line of every key.

A file may hold several documents (`---`) and `List` kinds (`kind: List` or `…List` with `items:`);
each object becomes one `K8sObject`. A document counts as Kubernetes when it is a mapping with string
`apiVersion` and `kind`. Paths given to `line()` are relative to the object (for a `List` item the
`items[i]` prefix is added), so rules never care where the object sits in the file.

Pod templates are found where the workload controllers keep them: `spec` of a Pod, `template.spec`
of a PodTemplate, `spec.template.spec` of Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job and OpenShift's DeploymentConfig, and `spec.jobTemplate.spec.template.spec`
of a CronJob. `containers()` yields regular, init and ephemeral containers (the Pod Security Standards
cover all three; Trivy and Checkov skip ephemeral ones). `security_context()` resolves a container's
effective settings as the kubelet does: the container's `securityContext` wins, the pod's fills in
the fields both have (runAsUser, runAsGroup, runAsNonRoot, seLinuxOptions, seccompProfile,
appArmorProfile, windowsOptions); a field written as null counts as unset, and `windowsOptions` is
merged field by field, as the kubelet does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ci_security.manifests.yamldoc import Path, Positions, YamlDocument, load_documents

POD_SPEC_PATHS: dict[str, Path] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "DeploymentConfig": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
CONTAINER_KEYS = ("initContainers", "containers", "ephemeralContainers")
# Pod-level securityContext fields that also exist on containers (PodSecurityContext ∩ SecurityContext).
INHERITED = ("runAsUser", "runAsGroup", "runAsNonRoot", "seLinuxOptions", "seccompProfile", "appArmorProfile",
             "windowsOptions")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Container:
    """One container of a pod template; `path` is relative to the object."""

    name: str
    kind: str  # "containers" | "initContainers" | "ephemeralContainers"
    data: dict[str, Any]
    path: Path

    @property
    def label(self) -> str:
        what = {"initContainers": "init container", "ephemeralContainers": "ephemeral container"}
        return f"{what.get(self.kind, 'container')} {self.name}"


@dataclass(frozen=True, slots=True)
class K8sObject:
    """One Kubernetes object from a manifest file."""

    path: str  # repository-relative file path
    doc_index: int
    kind: str
    api_version: str
    name: str
    namespace: str | None
    data: dict[str, Any]
    positions: Positions
    base: Path = ()  # where the object sits in its document: () or ("items", i)

    @property
    def resource(self) -> str:
        """`Kind/namespace/name`, or `Kind/name` when no namespace is written."""
        return "/".join(p for p in (self.kind, self.namespace, self.name) if p)

    @property
    def annotations(self) -> dict[str, Any]:
        meta = self.data.get("metadata")
        found = meta.get("annotations") if isinstance(meta, dict) else None
        return found if isinstance(found, dict) else {}

    def line(self, *path: str | int) -> int:
        """Line of `path` inside the object, or of its nearest existing parent."""
        return self.positions.line((*self.base, *path)) if path or self.base else self._start()

    def exact(self, *path: str | int) -> int | None:
        return self.positions.exact((*self.base, *path))

    def _start(self) -> int:
        first = next(iter(self.data), None)
        found = self.positions.exact((first,)) if first is not None else None
        return found or self.positions.start_line

    def get(self, *path: str | int) -> Any:
        """The value at `path`, or None."""
        value: Any = self.data
        for part in path:
            if isinstance(value, dict):
                value = value.get(part)
            elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
                value = value[part]
            else:
                return None
        return value

    @property
    def pod_spec_path(self) -> Path | None:
        path = POD_SPEC_PATHS.get(self.kind)
        if path is None or not isinstance(self.get(*path), dict):
            return None
        return path

    @property
    def pod_spec(self) -> dict[str, Any] | None:
        path = self.pod_spec_path
        return self.get(*path) if path is not None else None

    def containers(self) -> Iterator[Container]:
        spec_path = self.pod_spec_path
        if spec_path is None:
            return
        spec = self.get(*spec_path)
        for key in CONTAINER_KEYS:
            items = spec.get(key)
            if not isinstance(items, list):
                continue
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    name = item.get("name")
                    yield Container(str(name) if name else f"#{index}", key, item, (*spec_path, key, index))

    def security_context(self, container: Container) -> dict[str, Any]:
        """The container's effective securityContext (pod-level fields filled in)."""
        spec = self.pod_spec or {}
        pod = spec.get("securityContext")
        own = container.data.get("securityContext")
        merged: dict[str, Any] = {}
        if isinstance(pod, dict):
            merged.update({k: v for k, v in pod.items() if k in INHERITED and v is not None})
        if isinstance(own, dict):
            for key, value in own.items():
                # A null field is an unset one, so the pod's value still applies; windowsOptions is the
                # one struct the kubelet merges field by field (DetermineEffectiveSecurityContext).
                if value is None:
                    continue
                inherited = merged.get(key)
                if key == "windowsOptions" and isinstance(value, dict) and isinstance(inherited, dict):
                    value = {**inherited, **{k: v for k, v in value.items() if v is not None}}
                merged[key] = value
        return merged

    def security_context_path(self, container: Container, key: str) -> Path:
        """Where `key` of the effective securityContext is written: the container's own setting, else
        the pod's, else the container's securityContext (or the container) for a missing key.
        """
        own = (*container.path, "securityContext", key)
        if self.exact(*own) is not None and self.get(*own) is not None:
            return own
        spec_path = self.pod_spec_path or ()
        pod = (*spec_path, "securityContext", key)
        if key in INHERITED and self.exact(*pod) is not None and self.get(*pod) is not None:
            return pod
        if self.exact(*own) is not None:
            return own
        return (*container.path, "securityContext")


def _objects(path: str, doc: YamlDocument) -> Iterator[K8sObject]:
    data = doc.data
    if not _is_object(data):
        return
    items = data.get("items")
    if str(data["kind"]).endswith("List") and isinstance(items, list):
        for index, item in enumerate(items):
            if _is_object(item):
                yield _object(path, doc, item, ("items", index))
        return
    yield _object(path, doc, data, ())


def _is_object(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("apiVersion"), str)
        and isinstance(data.get("kind"), str)
    )


def _object(path: str, doc: YamlDocument, data: dict[str, Any], base: Path) -> K8sObject:
    found = data.get("metadata")
    meta: dict[str, Any] = found if isinstance(found, dict) else {}
    name = meta.get("name") or meta.get("generateName") or ""
    namespace = meta.get("namespace")
    return K8sObject(
        path=path,
        doc_index=doc.index,
        kind=data["kind"],
        api_version=data["apiVersion"],
        name=str(name),
        namespace=str(namespace) if namespace else None,
        data=data,
        positions=doc.positions,
        base=base,
    )


def objects_in(path: str, documents: Sequence[YamlDocument]) -> list[K8sObject]:
    """The Kubernetes objects of already loaded documents (non-Kubernetes documents are skipped)."""
    return [obj for doc in documents for obj in _objects(path, doc)]


def load_kubernetes(text: str, path: str) -> list[K8sObject]:
    """The Kubernetes objects in `text` (see `yamldoc.load_documents` for what raises)."""
    return objects_in(path, load_documents(text))


def is_kubernetes(documents: Sequence[YamlDocument]) -> bool:
    return any(_is_object(doc.data) for doc in documents)
