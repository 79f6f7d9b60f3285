"""K8S040: a Role or ClusterRole rule grants a privilege-escalation verb: `escalate`, `bind` or
`impersonate`.

One finding per such verb item, at its line (a `*` verb is K8S039).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import avd

_ROLE_KINDS = frozenset({"Role", "ClusterRole"})
_ESCALATING = frozenset({"escalate", "bind", "impersonate"})


class K8s040RbacEscalation:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S040",
        kind="kubernetes",
        title="RBAC rule grants escalate, bind or impersonate",
        severity=Severity.HIGH,
        rationale="`escalate` lets a subject write roles with permissions it does not have, `bind` lets it "
        "bind any role (cluster-admin included) to itself, and `impersonate` lets it act as another user, "
        "group or service account: each is a direct path to more privileges than the role shows.",
        remediation="Remove the verb; grant role management only to cluster administrators, and bind the "
        "specific roles a controller needs in the manifests instead of letting it bind them at run time.",
        references=(
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#escalate-verb",
            "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping",
            avd("KSV-0050"),
        ),
        peers=(
            ("trivy", "KSV-0050"),
            ("trivy", "KSV-0043"),
            ("checkov", "CKV_K8S_157"),
            ("checkov", "CKV_K8S_158"),
            ("checkov", "CKV2_K8S_3"),
        ),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        if obj.kind not in _ROLE_KINDS:
            return
        rules = obj.get("rules")
        if not isinstance(rules, list):
            return
        for index, rule in enumerate(rules):
            verbs = rule.get("verbs") if isinstance(rule, dict) else None
            if not isinstance(verbs, list):
                continue
            resources = rule.get("resources")
            on = f" on {', '.join(map(str, resources))}" if isinstance(resources, list) and resources else ""
            for position, verb in enumerate(verbs):
                if isinstance(verb, str) and verb.lower() in _ESCALATING:
                    line = obj.line("rules", index, "verbs", position)
                    yield Hit(line, f"{obj.kind} {obj.name} rule {index} grants {verb}{on}", obj.resource)
