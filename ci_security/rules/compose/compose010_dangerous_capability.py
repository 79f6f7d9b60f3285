"""COMPOSE010: `cap_add` grants a capability with a known path to the host (SYS_PTRACE, SYS_MODULE,
NET_ADMIN, DAC_READ_SEARCH, …); SYS_ADMIN and ALL are COMPOSE009.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import DANGEROUS_CAPABILITIES, added_capabilities


class Compose010DangerousCapability:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE010",
        kind="compose",
        title="Dangerous capability added",
        severity=Severity.HIGH,
        rationale="These capabilities each have a documented route out of the container or into host "
        "secrets: SYS_MODULE loads kernel code, SYS_PTRACE attaches to processes, DAC_READ_SEARCH opens "
        "host files by handle (the 'shocker' escape), NET_ADMIN rewires networking, SYS_RAWIO, BPF and "
        "PERFMON reach kernel memory.",
        remediation="Remove the capability from `cap_add`, or move the privileged step into a separate, "
        "short-lived service; start from `cap_drop: [ALL]` and add back only what is needed.",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#cap_add",
            "https://man7.org/linux/man-pages/man7/capabilities.7.html",
            "https://docs.kics.io/latest/queries/dockercompose-queries/ce76b7d0-9e77-464d-b86f-c5c48e03e22d/",
        ),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for service in compose.services():
            for index, name in added_capabilities(service):
                if name in DANGEROUS_CAPABILITIES:
                    message = f"service {service.name} adds capability {name}"
                    yield Hit(service.line("cap_add", index), message, service.resource)
