"""K8S039: a Role or ClusterRole rule grants a wildcard (`*`) verb or resource.

One finding per rule item that has a wildcard in `verbs` or `resources`, at the first wildcard
(`resources`, else `verbs`). A wildcard in `apiGroups` alone is not reported: with named resources
and verbs it grants nothing unexpected.

The severity follows what the wildcard reaches (`rate()`), not the `*` itself:
- CRITICAL: every verb on every resource of the core API (or of every group) in a ClusterRole, which
  is cluster-admin wherever it is bound;
- HIGH: the same in a namespaced Role (namespace admin: every Secret, any service account), write
  verbs on a built-in API (creating pods or patching any object), or reading every resource of the
  core API (every Secret);
- MEDIUM: write verbs confined to custom resources, an operator managing its own CRDs;
- LOW: reads of other built-in or custom resources, anything in the metrics APIs
  (`metrics.k8s.io`, `custom.metrics.k8s.io`, `external.metrics.k8s.io`, which only serve reads, so
  `*` there is not cluster-admin), and non-resource URLs (`/metrics`, `/healthz`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import avd, kube_linter

_ROLE_KINDS = frozenset({"Role", "ClusterRole"})
_READ_VERBS = frozenset({"get", "list", "watch"})
# Aggregated APIs that serve nothing but reads of resource usage.
READ_ONLY_GROUPS = frozenset({"metrics.k8s.io", "custom.metrics.k8s.io", "external.metrics.k8s.io"})


def _builtin(group: str) -> bool:
    return group == "*" or "." not in group or group.endswith(".k8s.io")


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def rate(kind: str, groups: list[str], resources: list[str], verbs: list[str]) -> tuple[Severity, str]:
    """The severity of a rule item with a wildcard, and why (see the module docstring)."""
    wild_verbs, wild_resources = "*" in verbs, "*" in resources
    writes = wild_verbs or any(verb.lower() not in _READ_VERBS for verb in verbs)
    if not resources:
        return Severity.LOW, ""
    if groups and all(group in READ_ONLY_GROUPS for group in groups):
        return Severity.LOW, "the metrics APIs only serve reads"
    core = "" in groups or "*" in groups
    if wild_verbs and wild_resources and core:
        if kind == "ClusterRole":
            return Severity.CRITICAL, "cluster-admin wherever it is bound"
        return Severity.HIGH, "admin of its namespace"
    builtin = any(_builtin(group) and group not in READ_ONLY_GROUPS for group in groups)
    if not builtin:
        return (Severity.MEDIUM, "write access to custom resources") if writes else (Severity.LOW, "")
    if writes:
        return Severity.HIGH, "write access to built-in resources"
    if wild_resources and core:
        return Severity.HIGH, "it reads every Secret"
    return Severity.LOW, ""


def _describe(groups: list[str], resources: list[str], verbs: list[str]) -> str:
    what = "every verb" if "*" in verbs else ", ".join(verbs) or "no verb"
    on = "every resource" if "*" in resources else ", ".join(resources) or "non-resource URLs"
    if not resources:
        return f"{what} on non-resource URLs"
    if "*" in groups:
        where = "every API group"
    else:
        where = ", ".join("the core API" if g == "" else g for g in groups) or "the core API"
    return f"{what} on {on} in {where}"


class K8s039RbacWildcard:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S039",
        kind="kubernetes",
        title="RBAC rule grants a wildcard",
        severity=Severity.HIGH,
        scaled="CRITICAL for every verb on every core resource in a ClusterRole (cluster-admin); HIGH "
        "for that in a Role, for write verbs on built-in APIs and for reading every core resource (every "
        "Secret); MEDIUM for write verbs on custom resources only; LOW for other reads, the read-only "
        "metrics APIs (`metrics.k8s.io`, `custom.metrics.k8s.io`, `external.metrics.k8s.io`) and "
        "non-resource URLs",
        rationale="A `*` verb includes escalate, bind, impersonate and exec, and a `*` resource includes "
        "Secrets and resources added later: whoever holds the role can read every secret in its scope or "
        "grant themselves more, up to cluster-admin.",
        remediation="List the exact resources and verbs the subject needs (for example "
        "`resources: [configmaps]`, `verbs: [get, list, watch]`).",
        references=(
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
            avd("KSV-0044"),
            kube_linter("wildcard-in-rules"),
        ),
        peers=(
            ("trivy", "KSV-0044"),
            ("trivy", "KSV-0045"),
            ("trivy", "KSV-0046"),
            ("trivy", "KSV-0112"),
            ("checkov", "CKV_K8S_49"),
            ("kube-linter", "wildcard-in-rules"),
        ),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        if obj.kind not in _ROLE_KINDS:
            return
        rules = obj.get("rules")
        if not isinstance(rules, list):
            return
        for index, rule in enumerate(rules):
            if not isinstance(rule, dict):
                continue
            groups, resources = _strings(rule.get("apiGroups")), _strings(rule.get("resources"))
            verbs = _strings(rule.get("verbs"))
            field, items = ("resources", resources) if "*" in resources else ("verbs", verbs)
            if "*" not in items:
                continue
            line = obj.line("rules", index, field, items.index("*"))
            severity, why = rate(obj.kind, groups, resources, verbs)
            message = f"{obj.kind} {obj.name} rule {index} grants {_describe(groups, resources, verbs)}"
            yield Hit(line, message + (f" ({why})" if why else ""), obj.resource, severity)
