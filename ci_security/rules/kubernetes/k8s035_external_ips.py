"""K8S035: a Service sets `externalIPs`.

The finding points at `spec.externalIPs`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import avd


class K8s035ExternalIps:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S035",
        kind="kubernetes",
        title="Service sets externalIPs",
        severity=Severity.MEDIUM,
        rationale="kube-proxy sends traffic for a Service's externalIPs to its pods on every node, whoever "
        "owns those addresses: a Service can intercept traffic meant for another destination "
        "(CVE-2020-8554).",
        remediation="Remove `externalIPs` and use a LoadBalancer or Ingress; clusters should block the field "
        "with the DenyServiceExternalIPs admission plugin.",
        references=("https://github.com/kubernetes/kubernetes/issues/97076", avd("KSV-0108")),
        peers=(("trivy", "KSV-0108"),),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        if obj.kind != "Service":
            return
        ips = obj.get("spec", "externalIPs")
        if isinstance(ips, list) and ips:
            listed = ", ".join(str(ip) for ip in ips)
            yield Hit(obj.line("spec", "externalIPs"), f"Service sets externalIPs {listed}", obj.resource)
