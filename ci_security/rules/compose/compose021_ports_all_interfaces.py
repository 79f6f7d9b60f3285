"""COMPOSE021: a port is published on every host interface.

`"8080:80"`, `"80"` (a random host port), `"0.0.0.0:8080:80"`, `"[::]:8080:80"` and the long syntax
without `host_ip` all bind 0.0.0.0 (Docker's default). A host address that depends on an unset
variable is not reported. `expose:` publishes nothing and is not read; services using
`network_mode: host`, `service:` or `container:` are skipped (Docker ignores their `ports`).

LOW by default: publishing a port is what `ports:` is for, and whether the host is reachable from
untrusted networks is not in the file. MEDIUM when the container port is one of a database, cache,
search engine or the Docker API (5432, 3306, 6379, 27017, 9200, 2375, …), services that ship without
authentication or with default credentials and are meant for a private network.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import ALL_INTERFACES, UNKNOWN, Published, published_ports, resolve

# Container ports of services that are not meant to face a network without authentication in front:
# databases, caches, search engines, message brokers' admin APIs, etcd and the Docker API.
PRIVATE_SERVICE_PORTS = frozenset(
    {1433, 2375, 2376, 2379, 3306, 5432, 5984, 6379, 7000, 7001, 8086, 9042, 9200, 9300, 11211, 15672,
     27017, 27018, 28015}
)  # fmt: skip


def container_port(port: Published, target: str | None) -> int | None:
    """The container side of a published port (the first of a range), or None when unknown."""
    spec = target if target is not None else (port.ports or "").rsplit(":", 1)[-1]
    number = spec.split("/", 1)[0].split("-", 1)[0].strip()
    return int(number) if number.isdigit() else None


class Compose021PortsAllInterfaces:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE021",
        kind="compose",
        title="Port published on all interfaces",
        severity=Severity.LOW,
        scaled="MEDIUM when the container port is a database, cache, search engine, etcd or Docker API "
        "port (5432, 3306, 6379, 27017, 9200, 2375, …)",
        rationale="A port published without an address listens on every interface of the host, and "
        "Docker's own iptables rules let it through even when the host firewall (ufw, firewalld) denies "
        "it: a database or admin UI meant for local use becomes reachable from the network.",
        remediation='Bind the port to an address, e.g. `"127.0.0.1:8080:80"` (long syntax: '
        "`host_ip: 127.0.0.1`), put a reverse proxy in front for public traffic, and use the compose "
        "network (no `ports:` at all) for service-to-service traffic.",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#ports",
            "https://docs.docker.com/engine/network/packet-filtering-firewalls/",
            "https://docs.kics.io/latest/queries/dockercompose-queries/451d79dc-0588-476a-ad03-3c7f0320abb3/",
        ),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for service in compose.services():
            network = compose.setting(service.name, "network_mode", inherit=True)
            mode = (resolve(network[1]) or "").strip() if network is not None else ""
            if mode == "host" or mode.startswith(("service:", "container:")):
                continue
            for port in published_ports(service):
                if UNKNOWN not in port.host_ip and port.host_ip in ALL_INTERFACES:
                    message = (
                        f"service {service.name} publishes {port.text} on all host interfaces; bind it to "
                        f"loopback ({port.on_loopback()}) unless other hosts must reach it"
                    )
                    item = service.get(*port.keys[:2])
                    target = resolve(item.get("target")) if isinstance(item, dict) else None
                    number = container_port(port, target)
                    severity = Severity.MEDIUM if number in PRIVATE_SERVICE_PORTS else None
                    yield Hit(service.line(*port.keys), message, service.resource, severity)
