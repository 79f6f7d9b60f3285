"""COMPOSE008: a service is given host devices (`devices:`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import UNKNOWN, resolve, service_items


class Compose008Devices:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE008",
        kind="compose",
        title="Host device exposed",
        severity=Severity.MEDIUM,
        rationale="A device node bypasses the container's filesystem isolation: a disk (`/dev/sda`) "
        "gives raw access to the host's data, and drivers behind GPUs, USB or serial devices are kernel "
        "attack surface. Each device should be a deliberate, reviewed exception.",
        remediation="Remove the device, or expose the narrowest node with the narrowest permissions "
        "(`/dev/ttyUSB0:/dev/ttyUSB0:rw`, never a whole disk); for GPUs prefer "
        "`deploy.resources.reservations.devices`.",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#devices",
            "https://docs.docker.com/reference/cli/docker/container/run/#device",
        ),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for service in compose.services():
            for index, item in service_items(service, "devices"):
                if isinstance(item, dict):
                    source = resolve(item.get("source")) or ""
                    keys: tuple[str | int, ...] = (
                        ("devices", index, "source") if "source" in item else ("devices", index)
                    )
                else:
                    spec = resolve(item) or ""
                    # CDI names (`nvidia.com/gpu=all`) hold no colon-separated target.
                    source = spec if "=" in spec else spec.split(":", 1)[0]
                    keys = ("devices", index)
                source = source.strip().replace(UNKNOWN, "$…") or "?"
                message = f"service {service.name} is given host device {source}"
                yield Hit(service.line(*keys), message, service.resource)
