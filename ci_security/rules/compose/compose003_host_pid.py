"""COMPOSE003: a service shares the host's process namespace (`pid: host`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import resolve


class Compose003HostPid:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE003",
        kind="compose",
        title="Host PID namespace shared",
        severity=Severity.HIGH,
        rationale="The container sees every process on the host with its command line (secrets passed "
        "as arguments included), and root in it can signal or kill host processes; with ptrace it can "
        "inject code into them.",
        remediation="Remove `pid: host`. To watch another container, share that container's namespace "
        "instead (`pid: service:app`).",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#pid",
            "https://docs.kics.io/latest/queries/dockercompose-queries/4f31dd9f-2cc3-4751-9b53-67e4af83dac0/",
        ),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for name in compose.names():
            found = compose.setting(name, "pid")
            if found is not None and (resolve(found[1]) or "").strip() == "host":
                service = found[0]
                yield Hit(service.line("pid"), f"service {name} sets pid: host", service.resource)
