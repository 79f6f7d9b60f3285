"""K8S036: a namespaced object lives in the `default` namespace (off by default).

Fires on `metadata.namespace: default` (at that line) and on a missing namespace (at `metadata`,
else the object's first line), for every kind except the cluster-scoped ones Kubernetes defines.
Off by default: manifests applied with `kubectl -n`, kustomize or Helm rarely write a namespace.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import avd, kube_linter

CLUSTER_SCOPED = frozenset(
    {"Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "StorageClass",
     "CSIDriver", "CSINode", "VolumeAttachment", "CustomResourceDefinition", "APIService",
     "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy",
     "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
     "PriorityClass", "RuntimeClass", "IngressClass", "PodSecurityPolicy", "CertificateSigningRequest",
     "FlowSchema", "PriorityLevelConfiguration", "ComponentStatus", "DeviceClass", "ClusterTrustBundle",
     "SelfSubjectReview", "TokenReview", "SubjectAccessReview", "SelfSubjectAccessReview",
     "SelfSubjectRulesReview", "IPAddress", "ServiceCIDR", "VolumeAttributesClass", "List"}
)  # fmt: skip


class K8s036DefaultNamespace:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S036",
        kind="kubernetes",
        title="Object in the default namespace",
        severity=Severity.LOW,
        rationale="The default namespace mixes unrelated workloads, so RBAC, NetworkPolicies, quotas and "
        "Pod Security admission cannot be scoped to one application.",
        remediation="Set `metadata.namespace` to the application's own namespace.",
        references=(
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/",
            avd("KSV-0110"),
            kube_linter("use-namespace"),
        ),
        peers=(("trivy", "KSV-0110"), ("checkov", "CKV_K8S_21"), ("kube-linter", "use-namespace")),
        default_enabled=False,
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        if obj.kind in CLUSTER_SCOPED:
            return
        if obj.namespace is None:
            yield Hit(obj.line("metadata"), f"{obj.kind} {obj.name} sets no namespace", obj.resource)
        elif obj.namespace == "default":
            line = obj.line("metadata", "namespace")
            yield Hit(line, f"{obj.kind} {obj.name} is in the default namespace", obj.resource)
