"""Which `apiVersion`/`kind` pairs Kubernetes itself serves, to tell a typo from a custom resource.

A document that looks like a Kubernetes object is one of three things:
- **built-in**: a kind of a Kubernetes API group (`apps/v1 Deployment`, `v1 ConfigMap`), or of one of
  the configuration and add-on APIs the project publishes under `*.k8s.io` and that manifests
  commonly hold (kustomize, kubeadm, the kubelet's configuration, Gateway API, volume snapshots);
- **custom**: a kind of any other group with a dot in its name (`monitoring.coreos.com/v1
  ServiceMonitor`). Custom resource groups must contain a dot (the API server refuses a
  CustomResourceDefinition whose `spec.group` has none), so this is an operator's resource, valid
  or not by its own schema, which these rules do not know;
- **unknown**: a kind the group does not have (`apps/v1 Deploymnet`, `v1 Deployment`), or a group
  without a dot that is a near miss of a Kubernetes one (`app/v1`, `batches/v1`). The API server
  refuses such an object (`no matches for kind`), so it is reported once (MAN003) instead of being
  skipped silently: the author meant *something*, and what they meant was not checked.

Any other group without a dot belongs to a tool that borrowed the shape (`skaffold/v4beta6
Config`): it is counted with the custom resources, not reported.

Kinds are matched exactly (the API server is case-sensitive); a `…List` kind counts as its item kind.
"""

from __future__ import annotations

import difflib
from typing import Literal

Verdict = Literal["builtin", "custom", "unknown"]

# `Config` is a kubeconfig file (`apiVersion: v1`, `kind: Config`), which repositories also hold.
_CORE = (
    "Binding ComponentStatus Config ConfigMap Endpoints Event LimitRange List Namespace Node "
    "PersistentVolume PersistentVolumeClaim Pod PodTemplate ReplicationController ResourceQuota "
    "Secret Service ServiceAccount"
)
# group -> its kinds (Kubernetes 1.34, plus kinds removed in recent releases that old manifests hold).
BUILTIN_KINDS: dict[str, frozenset[str]] = {
    group: frozenset(kinds.split())
    for group, kinds in {
        "": _CORE,
        "admissionregistration.k8s.io": "MutatingWebhookConfiguration ValidatingWebhookConfiguration "
        "ValidatingAdmissionPolicy ValidatingAdmissionPolicyBinding MutatingAdmissionPolicy "
        "MutatingAdmissionPolicyBinding InitializerConfiguration",
        "apiextensions.k8s.io": "CustomResourceDefinition",
        "apiregistration.k8s.io": "APIService",
        "apps": "ControllerRevision DaemonSet Deployment ReplicaSet StatefulSet",
        "authentication.k8s.io": "TokenReview SelfSubjectReview TokenRequest",
        "authorization.k8s.io": "LocalSubjectAccessReview SelfSubjectAccessReview SelfSubjectRulesReview "
        "SubjectAccessReview",
        "autoscaling": "HorizontalPodAutoscaler Scale",
        "batch": "CronJob Job",
        "certificates.k8s.io": "CertificateSigningRequest ClusterTrustBundle PodCertificateRequest",
        "coordination.k8s.io": "Lease LeaseCandidate",
        "discovery.k8s.io": "EndpointSlice",
        "events.k8s.io": "Event",
        "extensions": "DaemonSet Deployment Ingress NetworkPolicy PodSecurityPolicy ReplicaSet",
        "flowcontrol.apiserver.k8s.io": "FlowSchema PriorityLevelConfiguration",
        "internal.apiserver.k8s.io": "StorageVersion",
        "networking.k8s.io": "Ingress IngressClass IPAddress NetworkPolicy ServiceCIDR",
        "node.k8s.io": "RuntimeClass",
        "policy": "Eviction PodDisruptionBudget PodSecurityPolicy",
        "rbac.authorization.k8s.io": "ClusterRole ClusterRoleBinding Role RoleBinding",
        "resource.k8s.io": "DeviceClass DeviceTaintRule ResourceClaim ResourceClaimTemplate ResourceSlice",
        "scheduling.k8s.io": "PriorityClass",
        "settings.k8s.io": "PodPreset",
        "storage.k8s.io": "CSIDriver CSINode CSIStorageCapacity StorageClass VolumeAttachment "
        "VolumeAttributesClass",
        "storagemigration.k8s.io": "StorageVersionMigration",
        "metrics.k8s.io": "NodeMetrics PodMetrics",
        # Configuration files and add-on APIs the Kubernetes project publishes.
        "kustomize.config.k8s.io": "Kustomization Component",
        "kubeadm.k8s.io": "ClusterConfiguration InitConfiguration JoinConfiguration ResetConfiguration "
        "UpgradeConfiguration",
        "kubelet.config.k8s.io": "KubeletConfiguration CredentialProviderConfig",
        "kubeproxy.config.k8s.io": "KubeProxyConfiguration",
        "kubescheduler.config.k8s.io": "KubeSchedulerConfiguration",
        "apiserver.config.k8s.io": "AdmissionConfiguration AuthenticationConfiguration "
        "AuthorizationConfiguration EncryptionConfiguration EgressSelectorConfiguration "
        "TracingConfiguration",
        "audit.k8s.io": "Policy Event",
        "client.authentication.k8s.io": "ExecCredential",
        "gateway.networking.k8s.io": "BackendTLSPolicy Gateway GatewayClass GRPCRoute HTTPRoute "
        "ListenerSet ReferenceGrant TCPRoute TLSRoute UDPRoute",
        "snapshot.storage.k8s.io": "VolumeSnapshot VolumeSnapshotClass VolumeSnapshotContent",
    }.items()
}


_DOTLESS = sorted(g for g in BUILTIN_KINDS if g and "." not in g)


def group_of(api_version: str) -> str:
    """The API group of an `apiVersion` (`apps/v1` → `apps`, `v1` → "", the core group)."""
    return api_version.rpartition("/")[0].strip()


def classify(api_version: str, kind: str) -> Verdict:
    """Whether (`api_version`, `kind`) is a built-in kind, a custom resource, or unknown."""
    group = group_of(api_version)
    item = kind[:-4] if kind.endswith("List") and kind != "List" else kind
    known = BUILTIN_KINDS.get(group)
    if known is not None:
        return "builtin" if item in known else "unknown"
    if "." in group or not difflib.get_close_matches(group, _DOTLESS, n=1, cutoff=0.75):
        return "custom"
    return "unknown"


def suggestion(api_version: str, kind: str) -> str:
    """A hint for an unknown pair: the group that serves this kind (`Deployment is in apps/v1`), or
    the closest kind of this group (`did you mean Deployment?`); "" when there is none.
    """
    groups = sorted(g for g, kinds in BUILTIN_KINDS.items() if kind in kinds)
    if groups:
        # Prefer the core API and the un-suffixed groups (apps, batch) over the *.k8s.io ones.
        group = min(groups, key=lambda g: (g.endswith(".k8s.io"), g))
        return f"{kind} is in the {group + ' API group' if group else 'core v1 API'}"
    own = BUILTIN_KINDS.get(group_of(api_version), frozenset())
    everything = sorted(own) + sorted(k for kinds in BUILTIN_KINDS.values() for k in kinds if k not in own)
    by_case = [known for known in everything if known.lower() == kind.lower()]
    close = by_case or difflib.get_close_matches(kind, everything, n=1, cutoff=0.8)
    return f"did you mean {close[0]}?" if close else ""
