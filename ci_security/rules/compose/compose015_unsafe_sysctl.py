"""COMPOSE015: `sysctls` sets a kernel parameter that is not confined to the container.

Docker only accepts sysctls that live in the container's own namespaces: the IPC ones
(`kernel.msg*`, `kernel.sem`, `kernel.shm*`, `fs.mqueue.*`) and `net.*` in the container's network
namespace. Reported are: anything else (it would change the whole host, e.g. `kernel.core_pattern`,
`vm.*`), `net.*` on a service with `network_mode: host` (that namespace is the host's), and
`route_localnet=1`, which makes 127.0.0.1-bound services of the container reachable from outside
(the kube-proxy CVE-2020-8558 pattern). Tuning like `net.core.somaxconn` is fine and not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from ci_security.manifests.compose import ComposeFile, Service
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import resolve

IPC_SYSCTLS = frozenset(
    {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
     "kernel.shmmni", "kernel.shm_rmid_forced"}
)  # fmt: skip
_ROUTE_LOCALNET = re.compile(r"net\.ipv4\.conf\.[^.]+\.route_localnet\Z")


def _entries(service: Service) -> Iterator[tuple[str | int, str, Any]]:
    """(key below `sysctls`, name, value) of each sysctl, mapping or `name=value` list form."""
    value = service.data.get("sysctls")
    if isinstance(value, dict):
        for name, setting in value.items():
            yield name, str(name).strip(), setting
    elif isinstance(value, list):
        for index, item in enumerate(value):
            text = resolve(item) or ""
            name, _, setting = text.partition("=")
            yield index, name.strip(), setting.strip()


def _problem(name: str, value: Any, host_network: bool) -> str | None:
    normalised = name.replace("/", ".")
    if normalised.startswith("net."):
        if host_network:
            return "changes the host's network stack (the service uses network_mode: host)"
        if _ROUTE_LOCALNET.match(normalised) and (resolve(value) or "").strip() not in ("", "0"):
            return "routes traffic from outside to services bound to 127.0.0.1"
        return None
    if normalised in IPC_SYSCTLS or normalised.startswith("fs.mqueue."):
        return None
    return "is not namespaced: it would change the whole host's kernel"


class Compose015UnsafeSysctl:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE015",
        kind="compose",
        title="Unsafe sysctl",
        severity=Severity.HIGH,
        rationale="A sysctl outside the container's namespaces changes the host kernel for every "
        "process (core_pattern runs a host command as root on a crash), and `route_localnet` exposes "
        "services that were meant to be reachable only from inside the container.",
        remediation="Remove the sysctl; set host-wide kernel parameters on the host (or its provisioning), "
        "and keep services that need loopback-only access off `route_localnet`.",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#sysctls",
            "https://docs.docker.com/reference/cli/docker/container/run/#sysctl",
            "https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/",
        ),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for service in compose.services():
            network = compose.setting(service.name, "network_mode", inherit=True)
            host_network = network is not None and (resolve(network[1]) or "").strip() == "host"
            for key, name, value in _entries(service):
                problem = _problem(name, value, host_network)
                if problem is not None:
                    message = f"service {service.name} sets sysctl {name}, which {problem}"
                    yield Hit(service.line("sysctls", key), message, service.resource)
