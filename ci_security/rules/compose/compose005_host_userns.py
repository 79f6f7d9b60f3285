"""COMPOSE005: a service opts out of user-namespace remapping (`userns_mode: host`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import resolve


class Compose005HostUserns:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE005",
        kind="compose",
        title="Host user namespace shared",
        severity=Severity.HIGH,
        rationale="On a daemon that remaps users (`userns-remap`) root in a container is an unprivileged "
        "host user; `userns_mode: host` undoes exactly that for this service, so a breakout or a "
        "writable host mount gives real root on the host.",
        remediation="Remove `userns_mode: host`; if the service needs host file ownership, map the "
        "needed IDs or run it with a fixed non-root `user:` instead.",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#userns_mode",
            "https://docs.docker.com/engine/security/userns-remap/",
            "https://docs.kics.io/latest/queries/dockercompose-queries/8af7162d-6c98-482f-868e-0d33fb675ca8/",
        ),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for name in compose.names():
            found = compose.setting(name, "userns_mode")
            if found is not None and (resolve(found[1]) or "").strip() == "host":
                service = found[0]
                yield Hit(
                    service.line("userns_mode"), f"service {name} sets userns_mode: host", service.resource
                )
