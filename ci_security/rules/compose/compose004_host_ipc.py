"""COMPOSE004: a service shares the host's IPC namespace (`ipc: host`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import resolve


class Compose004HostIpc:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE004",
        kind="compose",
        title="Host IPC namespace shared",
        severity=Severity.HIGH,
        rationale="The container can read and change the shared memory segments, semaphores and "
        "message queues of host processes (databases and browsers keep data there), and exhaust them.",
        remediation="Remove `ipc: host`. Services that must share memory can use `ipc: shareable` on "
        "one and `ipc: service:<name>` on the other.",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#ipc",
            "https://docs.kics.io/latest/queries/dockercompose-queries/baa3890f-bed7-46f5-ab8f-1da8fc91c729/",
        ),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for name in compose.names():
            found = compose.setting(name, "ipc")
            if found is not None and (resolve(found[1]) or "").strip() == "host":
                service = found[0]
                yield Hit(service.line("ipc"), f"service {name} sets ipc: host", service.resource)
