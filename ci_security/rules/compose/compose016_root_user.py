"""COMPOSE016: a service explicitly runs as root (`user: root`, `user: "0"`, `user: "0:0"`).

A service without `user:` is not reported: the image's USER decides, and a compose file cannot see
it (the Dockerfile rules and the image scan do).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import UNKNOWN, resolve


class Compose016RootUser:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE016",
        kind="compose",
        title="Service runs as root",
        severity=Severity.MEDIUM,
        rationale="Root in the container owns every file of the image and of writable mounts, and is "
        "root on the host after any escape or through any host mount. Only an explicit `user:` is "
        "checked: when it is missing the image's USER decides, which the compose file cannot show.",
        remediation='Set a non-root user, e.g. `user: "10001:10001"` (the image must allow it), or '
        "remove `user: root` so the image's non-root USER applies.",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#user",
            "https://docs.docker.com/build/building/best-practices/#user",
        ),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for name in compose.names():
            found = compose.setting(name, "user")
            if found is None:
                continue
            service, value = found
            user = (resolve(value) or "").split(":", 1)[0].strip()
            if UNKNOWN not in user and user in ("root", "0"):
                yield Hit(
                    service.line("user"), f"service {name} runs as root (user: {value})", service.resource
                )
