"""RT002: the image looked up a name in DNS.

A DNS query is traffic to port 53 (UDP or TCP, to any resolver, the sandbox's loopback included:
with no `nameserver` the C library asks 127.0.0.1). When the query itself was sent with an address
or on a connected socket, the name asked for is decoded and named. Lookups of names the policy
allows (`runtime.allowed_destinations` entries that are names, `*.example.com`), or sent to an
allowed resolver address, do not count. Reading `/etc/resolv.conf` alone is recorded as an event
but not judged: language runtimes read it at start-up without resolving anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.models import RuntimeEvent, Severity
from ci_security.rules.base import RuleMeta
from ci_security.rules.runtime.base import RuntimeContext, RuntimeHit
from ci_security.rules.runtime.common import endpoint, grouped, hit, who


class Rt002DnsLookup:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="RT002",
        kind="runtime",
        title="DNS lookup",
        severity=Severity.MEDIUM,
        rationale="Resolving a name is the first step of reaching a host by name, and DNS itself carries "
        "data out (tunnelling) where other traffic is blocked. Many services resolve their "
        "dependencies at start-up, so this is MEDIUM: the name tells whether it was expected.",
        remediation="Check the names in the evidence; allow the expected ones with "
        "`runtime.allowed_destinations` (`db.internal`, `*.example.com`).",
        references=("https://attack.mitre.org/techniques/T1071/004/",),
    )

    def check(self, context: RuntimeContext) -> Iterator[RuntimeHit]:
        def is_lookup(event: RuntimeEvent) -> bool:
            if (
                event.kind not in ("connect", "send")
                or event.port != 53
                or event.family not in ("inet", "inet6")
            ):
                return False
            if event.name and any(allowed.allows_name(event.name, 53) for allowed in context.allowed):
                return False
            return not any(allowed.allows_address(event.address or "", 53) for allowed in context.allowed)

        found = [e for e in context.run.events if is_lookup(e)]
        named = [e for e in found if e.name]
        # A connect to the resolver and the query sent on it are one lookup: name it when the query
        # was seen, else name the resolver.
        if named:
            for subject, events in grouped(named, lambda e: (e.name or "").lower()):
                yield hit(subject, f"{who(events[0])} looked up {subject}", events)
            unnamed_pids = {e.pid for e in found if not e.name} - {e.pid for e in named}
            found = [e for e in found if not e.name and e.pid in unnamed_pids]
        for subject, events in grouped(found, lambda e: f"resolver {endpoint(e.address, e.port)}"):
            yield hit(
                subject, f"{who(events[0])} sent a DNS query to {subject.removeprefix('resolver ')}", events
            )
