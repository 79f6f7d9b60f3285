"""DF009: EXPOSE of port 22 (SSH).

A container image that publishes SSH runs an SSH daemon next to its application: another service
with credentials to manage and attack. Matches `22`, `22/tcp` and port ranges that include 22;
variables are expanded from the ARG/ENV values in scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile, number, scope_at, split_words
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import resource_of


def _includes_ssh(spec: str) -> bool:
    port, _, protocol = spec.partition("/")
    if protocol.lower() not in ("", "tcp"):
        return False
    low, _, high = port.partition("-")
    first, last = number(low), number(high or low)
    if first is None or last is None:
        return False
    return first <= 22 <= last


class Df009ExposeSsh:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF009",
        kind="dockerfile",
        title="SSH port exposed",
        severity=Severity.MEDIUM,
        rationale="Exposing port 22 means the container runs an SSH server: extra attack surface, "
        "long-lived credentials baked into or mounted into the image, and a way in that bypasses the "
        "orchestrator's access controls and audit logs.",
        remediation="Remove the SSH server and `EXPOSE 22`; use `docker exec` or `kubectl exec` to get "
        "a shell in a running container.",
        references=(
            "https://docs.docker.com/reference/dockerfile/#expose",
            "https://avd.aquasec.com/misconfig/ds-0004",
        ),
        peers=(("trivy", "DS-0004"), ("checkov", "CKV_DOCKER_1")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for inst in dockerfile.instructions:
            if inst.keyword != "EXPOSE":
                continue
            words = split_words(inst.args, scope_at(dockerfile, inst), escape=dockerfile.escape)
            ssh = [w for w in words if _includes_ssh(w)]
            if ssh:
                yield Hit(
                    inst.start_line, f"EXPOSE {' '.join(ssh)} publishes SSH", resource_of(dockerfile, inst)
                )
