"""COMPOSE014: a service does not set `security_opt: [no-new-privileges:true]`. Off by default: it
would fire on nearly every service of a typical compose file.

`security_opt` lists merge across layers and `extends`; a bare `no-new-privileges` counts as true,
as Docker reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile, Service
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import is_true, resolve

_OPTION = re.compile(r"\s*no-new-privileges\s*(?:[:=]\s*(.*?))?\s*\Z", re.I | re.S)


def _setting(service: Service) -> Iterator[tuple[int, bool]]:
    """(index, enabled) of every no-new-privileges item of one definition."""
    options = service.data.get("security_opt")
    if not isinstance(options, list):
        return
    for index, item in enumerate(options):
        match = _OPTION.match(resolve(item) or "")
        if match is not None:
            yield index, match.group(1) is None or is_true(match.group(1))


class Compose014NoNewPrivileges:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE014",
        kind="compose",
        title="Privilege escalation not blocked",
        severity=Severity.MEDIUM,
        rationale="Without no-new-privileges a process in the container can gain privileges through "
        "setuid or file-capability binaries (sudo, su, ping), which turns a foothold as an unprivileged "
        "user into root in the container.",
        remediation="Add `security_opt: [no-new-privileges:true]` to the service (or to a shared "
        "`x-` anchor merged into every service).",
        references=(
            "https://docs.docker.com/reference/cli/docker/container/run/#security-opt",
            "https://docs.kernel.org/userspace-api/no_new_privs.html",
            "https://docs.kics.io/latest/queries/dockercompose-queries/27fcc7d6-c49b-46e0-98f1-6c082a6a2750/",
        ),
        default_enabled=False,
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for name in compose.names():
            chain = compose.chain(name)
            settings = [(service, index, on) for service in chain for index, on in _setting(service)]
            if any(on for _, _, on in settings):
                continue
            if settings:
                service, index, _ = settings[0]
                message = f"service {name} sets no-new-privileges to false"
                yield Hit(service.line("security_opt", index), message, f"service {name}")
                continue
            where = next((s for s in chain if "security_opt" in s.data), None) or compose.definitions(name)[0]
            line = where.line("security_opt") if "security_opt" in where.data else where.line()
            yield Hit(line, f"service {name} does not set no-new-privileges:true", f"service {name}")
