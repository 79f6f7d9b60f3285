"""COMPOSE009: `cap_add` grants SYS_ADMIN or ALL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import HOST_TAKEOVER_CAPABILITIES, added_capabilities


class Compose009CapSysAdmin:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE009",
        kind="compose",
        title="SYS_ADMIN or ALL capabilities added",
        severity=Severity.CRITICAL,
        rationale="CAP_SYS_ADMIN allows mounting filesystems, cgroup release agents and most of what "
        "`privileged` allows, with known escapes to the host; `ALL` grants it and every other "
        "capability.",
        remediation="Remove SYS_ADMIN/ALL from `cap_add`; add only the specific capability the service "
        "needs (e.g. NET_BIND_SERVICE), ideally after `cap_drop: [ALL]`.",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#cap_add",
            "https://man7.org/linux/man-pages/man7/capabilities.7.html",
            "https://docs.kics.io/latest/queries/dockercompose-queries/ce76b7d0-9e77-464d-b86f-c5c48e03e22d/",
        ),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for service in compose.services():
            for index, name in added_capabilities(service):
                if name in HOST_TAKEOVER_CAPABILITIES:
                    message = f"service {service.name} adds capability {name}"
                    yield Hit(service.line("cap_add", index), message, service.resource)
