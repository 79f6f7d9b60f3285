"""COMPOSE011: `cap_add` grants a capability beyond Docker's default set that COMPOSE009 and COMPOSE010
do not cover (SYS_NICE, IPC_LOCK, SYS_RESOURCE, …).

Adding a capability of the default set (NET_BIND_SERVICE, CHOWN, …) is not reported: the container
has it anyway unless it was dropped, and `cap_drop: [ALL]` followed by adding one back is the
hardened form this check must not punish.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import (
    DANGEROUS_CAPABILITIES,
    DEFAULT_CAPABILITIES,
    HOST_TAKEOVER_CAPABILITIES,
    added_capabilities,
)

_ELSEWHERE = DEFAULT_CAPABILITIES | HOST_TAKEOVER_CAPABILITIES | DANGEROUS_CAPABILITIES


class Compose011CapabilityAdded:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE011",
        kind="compose",
        title="Capability added",
        severity=Severity.MEDIUM,
        rationale="Every capability beyond Docker's default set widens what root in the container may "
        "do to the shared kernel (lock memory, raise resource limits, change scheduling priorities); "
        "each should be a reviewed need.",
        remediation="Remove the capability from `cap_add` unless the service fails without it; document "
        "why with an inline suppression when it is needed.",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#cap_add",
            "https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities",
            "https://docs.kics.io/latest/queries/dockercompose-queries/ce76b7d0-9e77-464d-b86f-c5c48e03e22d/",
        ),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for service in compose.services():
            for index, name in added_capabilities(service):
                if name not in _ELSEWHERE:
                    message = f"service {service.name} adds capability {name}"
                    yield Hit(service.line("cap_add", index), message, service.resource)
