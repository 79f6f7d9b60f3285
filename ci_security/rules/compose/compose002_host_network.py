"""COMPOSE002: a service shares the host's network namespace (`network_mode: host`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import resolve


class Compose002HostNetwork:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE002",
        kind="compose",
        title="Host network namespace shared",
        severity=Severity.HIGH,
        rationale="With the host's network stack the container reaches every service the host binds "
        "to 127.0.0.1, can listen on any host port, and (with the default NET_RAW capability) sniff "
        "the host's traffic; published-port and network isolation no longer apply.",
        remediation="Remove `network_mode: host`; attach the service to a compose network and publish "
        'only the ports it serves, bound to an address (`ports: ["127.0.0.1:8080:8080"]`).',
        references=(
            "https://docs.docker.com/reference/compose-file/services/#network_mode",
            "https://docs.docker.com/engine/network/drivers/host/",
            "https://docs.kics.io/latest/queries/dockercompose-queries/071a71ff-f868-47a4-ac0b-3c59e4ab5443/",
        ),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for name in compose.names():
            found = compose.setting(name, "network_mode")
            if found is not None and (resolve(found[1]) or "").strip() == "host":
                service = found[0]
                yield Hit(
                    service.line("network_mode"), f"service {name} sets network_mode: host", service.resource
                )
