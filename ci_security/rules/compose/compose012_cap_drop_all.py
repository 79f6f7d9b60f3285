"""COMPOSE012: a service keeps Docker's default capabilities (`cap_drop: [ALL]` missing). Off by
default: almost no compose file drops capabilities, so it would fire on every service.

`cap_drop` lists merge across layers and `extends`, as compose merges them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import capability


class Compose012CapDropAll:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE012",
        kind="compose",
        title="Capabilities not dropped",
        severity=Severity.MEDIUM,
        rationale="Docker's default set still includes NET_RAW (spoofing and sniffing on the container "
        "network), MKNOD, SETUID/SETGID and DAC_OVERRIDE; most services need none of them, and dropping "
        "them takes away tools an attacker would use after getting code execution.",
        remediation="Add `cap_drop: [ALL]` and add back only what the service needs, e.g. "
        "`cap_add: [NET_BIND_SERVICE]` for a server binding port 80.",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#cap_drop",
            "https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities",
            "https://docs.kics.io/latest/queries/dockercompose-queries/ce76b7d0-9e77-464d-b86f-c5c48e03e22d/",
        ),
        default_enabled=False,
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for name in compose.names():
            chain = compose.chain(name)
            dropped = {
                capability(item)
                for service in chain
                if isinstance(service.data.get("cap_drop"), list)
                for item in service.data["cap_drop"]
            }
            if "ALL" in dropped:
                continue
            where = next((s for s in chain if "cap_drop" in s.data), None)
            if where is not None:
                yield Hit(
                    where.line("cap_drop"),
                    f"service {name} does not drop ALL capabilities",
                    f"service {name}",
                )
            else:
                first = compose.definitions(name)[0]
                yield Hit(first.line(), f"service {name} has no cap_drop: [ALL]", f"service {name}")
