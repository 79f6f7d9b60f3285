"""Network destinations as the policy names them (`runtime.allowed_destinations`), and matching
against what the dynamic scan saw.

An entry is `HOST[:PORT]` (an IPv6 address in brackets when a port follows: `[2001:db8::1]:443`),
where HOST is an IP address, a network in CIDR form (`10.0.0.0/8`), or a DNS name, possibly with a
leading `*.` (`*.example.com` matches every name under example.com, not example.com itself). A
connection attempt is allowed by an entry whose address or network contains its address and whose
port, when the entry has one, is its port; a DNS lookup is allowed by a name entry matching the name
it asked for (names are compared case-insensitively, without a trailing dot). Inside the sandbox
there is no resolver, so a connection never has a name: a name entry allows the lookup only.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_NAME = re.compile(r"^(\*\.)?([A-Za-z0-9_]([A-Za-z0-9_-]{0,62})?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})?)*\.?$")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Destination:
    """One allowed destination: a network or a name pattern, and a port (None: any port)."""

    text: str
    network: Network | None
    name: str | None
    port: int | None

    def allows_address(self, address: str, port: int | None) -> bool:
        if self.network is None:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.version != self.network.version or ip not in self.network:
            return False
        return self.port is None or self.port == port

    def allows_name(self, name: str, port: int | None = None) -> bool:
        if self.name is None:
            return False
        wanted = name.lower().rstrip(".")
        matched = wanted.endswith(self.name[1:]) if self.name.startswith("*.") else wanted == self.name
        return matched and (self.port is None or port is None or self.port == port)


def parse_destination(text: str) -> Destination:
    """Parse one allow-list entry; `ValueError` with a reason when it is not one."""
    raw = text.strip()
    if not raw:
        raise ValueError("empty destination")
    host, port = raw, None
    if raw.startswith("["):
        end = raw.find("]")
        if end < 0:
            raise ValueError("an IPv6 address in brackets needs its closing ]")
        host, rest = raw[1:end], raw[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ValueError("expected :PORT after the bracketed address")
            port = _port(rest[1:])
    elif raw.count(":") == 1:
        host, _, port_text = raw.partition(":")
        port = _port(port_text)
    try:
        network = ipaddress.ip_network(host, strict=False)
    except ValueError:
        network = None
    if network is not None:
        if "/" in host:
            try:
                ipaddress.ip_network(host, strict=True)
            except ValueError:
                raise ValueError(f"{host} has host bits set (did you mean {network}?)") from None
        return Destination(raw, network, None, port)
    if ":" in host:
        raise ValueError("not an IP address, network or DNS name (write an IPv6 address as [ADDR]:PORT)")
    if not _NAME.match(host) or len(host) > 253:
        raise ValueError("not an IP address, a network (10.0.0.0/8) or a DNS name")
    return Destination(raw, None, host.lower().rstrip("."), port)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"port {text!r} is not a number from 1 to 65535")
    return int(text)


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1, an IPv4-mapped loopback and the unspecified address (a connection
    to 0.0.0.0 goes to the local host): traffic that never leaves the sandbox's own network.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified
