"""RT001: the image tried to connect to a host outside the sandbox.

Every connect() and every datagram sent with an explicit address to an IPv4 or IPv6 destination
counts, whatever the outcome (in the sandbox they all fail: there is no network). Loopback and the
unspecified address stay on the sandbox's own host and do not count; DNS (port 53) is RT002.
Destinations the policy allows (`runtime.allowed_destinations`: addresses, networks, `:PORT`) do not
count either.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.destinations import is_loopback
from ci_security.models import Severity
from ci_security.rules.base import RuleMeta
from ci_security.rules.runtime.base import RuntimeContext, RuntimeHit
from ci_security.rules.runtime.common import endpoint, grouped, hit, who


class Rt001OutboundConnection:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="RT001",
        kind="runtime",
        title="Outbound connection attempt",
        severity=Severity.HIGH,
        rationale="An image that connects somewhere as it starts is calling home: a reverse shell, a "
        "command-and-control channel, exfiltration, or at least a dependency on a service its owners "
        "should know about. The sandbox has no network, so the attempt failed there; in production it "
        "would not.",
        remediation="Find the process and address in the evidence. If the destination is expected (the "
        "service's database, an API), list it in the policy's `runtime.allowed_destinations`; otherwise "
        "treat the image as compromised and rebuild it from a trusted base.",
        references=("https://attack.mitre.org/tactics/TA0011/",),
    )

    def check(self, context: RuntimeContext) -> Iterator[RuntimeHit]:
        def outbound(kind: str, family: str | None, address: str | None, port: int | None) -> bool:
            if kind not in ("connect", "send") or family not in ("inet", "inet6") or not address:
                return False
            if port == 53 or is_loopback(address):
                return False
            return not any(allowed.allows_address(address, port) for allowed in context.allowed)

        found = [e for e in context.run.events if outbound(e.kind, e.family, e.address, e.port)]
        for subject, events in grouped(found, lambda e: endpoint(e.address, e.port)):
            first = events[0]
            times = "" if len(events) == 1 else f" ({len(events)} attempts)"
            yield hit(subject, f"{who(first)} tried to connect to {subject}{times}", events)
