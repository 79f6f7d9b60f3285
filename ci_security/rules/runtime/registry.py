"""Every runtime rule, listed once, in id order."""

from __future__ import annotations

from ci_security.rules.runtime.base import RuntimeRule
from ci_security.rules.runtime.rt001_outbound_connection import Rt001OutboundConnection
from ci_security.rules.runtime.rt002_dns_lookup import Rt002DnsLookup
from ci_security.rules.runtime.rt003_shell_spawned import Rt003ShellSpawned
from ci_security.rules.runtime.rt004_download_tool import Rt004DownloadTool
from ci_security.rules.runtime.rt005_download_and_execute import Rt005DownloadAndExecute
from ci_security.rules.runtime.rt006_miner import Rt006Miner
from ci_security.rules.runtime.rt007_system_write import Rt007SystemWrite
from ci_security.rules.runtime.rt008_setuid_bit import Rt008SetuidBit
from ci_security.rules.runtime.rt009_privileged_call import Rt009PrivilegedCall
from ci_security.rules.runtime.rt010_fork_storm import Rt010ForkStorm
from ci_security.rules.runtime.rt011_still_running import Rt011StillRunning
from ci_security.rules.runtime.rt012_unexpected_exit import Rt012UnexpectedExit

RULES: tuple[RuntimeRule, ...] = (
    Rt001OutboundConnection(),
    Rt002DnsLookup(),
    Rt003ShellSpawned(),
    Rt004DownloadTool(),
    Rt005DownloadAndExecute(),
    Rt006Miner(),
    Rt007SystemWrite(),
    Rt008SetuidBit(),
    Rt009PrivilegedCall(),
    Rt010ForkStorm(),
    Rt011StillRunning(),
    Rt012UnexpectedExit(),
)
RULE_IDS = frozenset(rule.meta.id for rule in RULES)
