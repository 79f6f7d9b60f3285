"""COMPOSE006: a container-runtime API socket (Docker, containerd, Podman, CRI-O) reaches a container,
directly, through a directory that holds it (`/run`, `/var/run`, `/run/containerd`, …) or through the
host's whole `/`.

Short (`/var/run/docker.sock:/var/run/docker.sock:ro`) and long (`type: bind`, `source:`) syntax are
read, and so are named volumes that the local driver binds to such a path. A bind whose host side is
a variable (`${DOCKER_SOCK}:/var/run/docker.sock`) is reported when its target is a socket path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import all_mounts, runtime_socket


class Compose006RuntimeSocket:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE006",
        kind="compose",
        title="Container runtime socket or host root mounted",
        severity=Severity.CRITICAL,
        rationale="Whoever can talk to the Docker (or containerd, Podman, CRI-O) socket can start a "
        "privileged container with the host's `/` mounted: full root on the host. A `:ro` mount does "
        "not help, since it only stops writes to the socket file, not calls to the API behind it.",
        remediation="Remove the mount. If the service must see containers, put a filtering proxy in "
        "between (e.g. docker-socket-proxy allowing read-only endpoints) and give it only that; mount "
        "specific host directories instead of `/`, `/run` or `/var/run`.",
        references=(
            "https://docs.docker.com/engine/security/#docker-daemon-attack-surface",
            "https://cheatsheetseries.owasp.org/cheatsheets/Docker_Security_Cheat_Sheet.html",
            "https://docs.docker.com/reference/compose-file/services/#volumes",
            "https://docs.kics.io/latest/queries/dockercompose-queries/d6355c88-1e8d-49e9-b2f2-f8a1ca12c75b/",
        ),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for mount in all_mounts(compose):
            reason = runtime_socket(mount)
            if reason is not None:
                yield Hit(mount.line, f"{mount.resource} {reason}", mount.resource)
