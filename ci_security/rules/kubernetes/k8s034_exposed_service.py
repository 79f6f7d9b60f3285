"""K8S034: a Service of type NodePort or LoadBalancer.

The finding points at `spec.type`. LOW: exposing a Service is how a public application is published,
and whether that one was meant to be is a question for the reviewer, not an exploitable setting (as
COMPOSE021 rates a published compose port).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import kube_linter

_EXPOSED = frozenset({"NodePort", "LoadBalancer"})


class K8s034ExposedService:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S034",
        kind="kubernetes",
        title="Service exposed outside the cluster",
        severity=Severity.LOW,
        rationale="A NodePort opens the port on every node and a LoadBalancer usually on the internet, "
        "outside the Ingress where TLS, authentication and rate limits are enforced; internal services "
        "exposed this way by mistake are a common breach.",
        remediation="Use `type: ClusterIP` and publish through an Ingress or Gateway; if the Service must "
        "be external, restrict `loadBalancerSourceRanges` and suppress with the reason.",
        references=(
            "https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types",
            kube_linter("exposed-services"),
        ),
        peers=(("kube-linter", "exposed-services"),),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        if obj.kind != "Service":
            return
        kind = obj.get("spec", "type")
        if kind in _EXPOSED:
            yield Hit(
                obj.line("spec", "type"), f"Service type {kind} exposes it outside the cluster", obj.resource
            )
