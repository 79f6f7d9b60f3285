"""COMPOSE017: a service's root filesystem is writable (`read_only: true` missing). Off by default:
few compose files set it, and many images need a `tmpfs` for /tmp before they can run read-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import is_true, resolve


class Compose017ReadOnly:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE017",
        kind="compose",
        title="Root filesystem writable",
        severity=Severity.LOW,
        rationale="A writable root filesystem lets an attacker who gets code execution drop tools, "
        "change the application's code or configuration, and persist until the container is recreated.",
        remediation="Set `read_only: true` and give the paths the service writes a `tmpfs` "
        "(`tmpfs: [/tmp]`) or a volume.",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#read_only",
            "https://docs.docker.com/reference/compose-file/services/#tmpfs",
        ),
        default_enabled=False,
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for name in compose.names():
            found = compose.setting(name, "read_only", inherit=True)
            if found is None:
                first = compose.definitions(name)[0]
                yield Hit(first.line(), f"service {name} does not set read_only: true", f"service {name}")
            elif not is_true(found[1]):
                service = found[0]
                message = f"service {name} sets read_only: {resolve(found[1])}"
                yield Hit(service.line("read_only"), message, f"service {name}")
