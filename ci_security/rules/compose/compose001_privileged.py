"""COMPOSE001: a service runs privileged (`privileged: true`), or builds its image privileged.

A privileged container has every capability, every host device and no confinement, so COMPOSE001
implies the capability, device and no-new-privileges rules (COMPOSE008-COMPOSE012, COMPOSE014): their
findings on the same service are folded into this one. A privileged *build* is reported with the
resource `service NAME build` and folds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import is_true


class Compose001Privileged:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE001",
        kind="compose",
        title="Privileged container",
        severity=Severity.CRITICAL,
        rationale="A privileged container gets every capability, every host device and no seccomp or "
        "AppArmor confinement: root in it is root on the host (mount the host disk, load kernel modules). "
        "`build.privileged` gives the same power to every RUN step of the image build.",
        remediation="Remove `privileged: true` (and `build.privileged`); grant only what the service "
        "needs, e.g. `cap_add: [NET_ADMIN]` or `devices: [/dev/ttyUSB0]`.",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#privileged",
            "https://docs.docker.com/reference/compose-file/build/#privileged",
            "https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities",
            "https://docs.kics.io/latest/queries/dockercompose-queries/ae5b6871-7f45-42e0-bb4c-ab300c4d2026/",
        ),
        implies=("COMPOSE008", "COMPOSE009", "COMPOSE010", "COMPOSE011", "COMPOSE012", "COMPOSE014"),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for name in compose.names():
            found = compose.setting(name, "privileged")
            if found is not None and is_true(found[1]):
                service = found[0]
                yield Hit(
                    service.line("privileged"), f"service {name} sets privileged: true", service.resource
                )
            build = compose.setting(name, "build")
            if build is not None and isinstance(build[1], dict) and is_true(build[1].get("privileged")):
                service = build[0]
                yield Hit(
                    service.line("build", "privileged"),
                    f"service {name} builds its image with privileged: true",
                    # Its own resource: a privileged build implies nothing about the running container.
                    f"{service.resource} build",
                )
