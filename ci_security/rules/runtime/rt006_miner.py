"""RT006: a cryptocurrency miner ran: a known miner program (xmrig, xmr-stak, cpuminer, minerd,
t-rex, nbminer, ethminer, lolMiner, …) or a command line with a miner's tell-tale arguments
(`stratum+tcp://`, `stratum+ssl://`, `--donate-level`, `--cpu-max-threads-hint`, `-a rx/0`).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import ClassVar

from ci_security.models import RuntimeEvent, Severity
from ci_security.rules.base import RuleMeta
from ci_security.rules.runtime.base import RuntimeContext, RuntimeHit
from ci_security.rules.runtime.common import command_text, execs, grouped, hit, names

MINERS = frozenset(
    {
        "xmrig",
        "xmrig-notls",
        "xmr-stak",
        "xmr-stak-cpu",
        "xmr-stak-rx",
        "minerd",
        "cpuminer",
        "cpuminer-multi",
        "cpuminer-opt",
        "ccminer",
        "t-rex",
        "nbminer",
        "ethminer",
        "lolminer",
        "phoenixminer",
        "nanominer",
        "srbminer",
        "srbminer-multi",
        "teamredminer",
        "gminer",
        "bminer",
        "kawpowminer",
    }
)
ARGUMENTS = (
    "stratum+tcp://",
    "stratum+ssl://",
    "stratum+tls://",
    "stratum2+tcp://",
    "--donate-level",
    "--cpu-max-threads-hint",
    "--randomx-",
)
ALGORITHMS = frozenset({"rx/0", "randomx", "cn/r", "kawpow", "ethash", "cryptonight"})


def _signature(event: RuntimeEvent) -> str | None:
    found = {name.lower() for name in names(event)} & MINERS
    if found:
        return sorted(found)[0]
    for word in event.argv[1:]:
        lowered = word.lower()
        for marker in ARGUMENTS:
            if marker in lowered:
                return marker
    argv = [word.lower() for word in event.argv]
    for flag, value in pairwise(argv):
        if flag in ("-a", "--algo") and value in ALGORITHMS:
            return f"{flag} {value}"
    for word in argv:
        if word.startswith("--algo=") and word.split("=", 1)[1] in ALGORITHMS:
            return word
    return None


class Rt006Miner:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="RT006",
        kind="runtime",
        title="Cryptocurrency miner",
        severity=Severity.CRITICAL,
        rationale="A miner in an image is the most common payload of a compromised image or base "
        "image: it burns the cluster's CPU for someone else and proves that someone else controls "
        "what the image runs.",
        remediation="Treat the image and everything that built it as compromised: rebuild from a trusted "
        "base, check the build's dependencies and credentials, and do not deploy this image.",
        references=("https://attack.mitre.org/techniques/T1496/",),
    )

    def check(self, context: RuntimeContext) -> Iterator[RuntimeHit]:
        found = [(s, e) for e in execs(context.run.events, attempts=True) if (s := _signature(e)) is not None]
        for subject, events in grouped([e for _, e in found], lambda e: _signature(e) or ""):
            yield hit(subject, f"miner signature {subject!r}: {command_text(events[0])}", events)
