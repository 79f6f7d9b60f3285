"""K8S039: a Role or ClusterRole rule grants a wildcard (`*`) verb or resource.

One finding per wildcard item of a rule's `verbs` or `resources`, at its line. A wildcard in
`apiGroups` alone is not reported: with named resources and verbs it grants nothing unexpected.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import avd, kube_linter
from ci_security.rules.kubernetes.load import K8sObject

_ROLE_KINDS = frozenset({"Role", "ClusterRole"})


class K8s039RbacWildcard:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S039",
        kind="kubernetes",
        title="RBAC rule grants a wildcard",
        severity=Severity.HIGH,
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
            for field in ("verbs", "resources"):
                items = rule.get(field)
                if not isinstance(items, list):
                    continue
                for position, item in enumerate(items):
                    if item == "*":
                        line = obj.line("rules", index, field, position)
                        message = f"{obj.kind} {obj.name} rule {index} grants every {field[:-1]} ('*')"
                        yield Hit(line, message, obj.resource)
