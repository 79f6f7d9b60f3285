"""Every Compose rule, listed once, in id order."""

from __future__ import annotations

from ci_security.rules.base import ComposeRule
from ci_security.rules.compose.compose001_privileged import Compose001Privileged
from ci_security.rules.compose.compose002_host_network import Compose002HostNetwork
from ci_security.rules.compose.compose003_host_pid import Compose003HostPid
from ci_security.rules.compose.compose004_host_ipc import Compose004HostIpc
from ci_security.rules.compose.compose005_host_userns import Compose005HostUserns
from ci_security.rules.compose.compose006_runtime_socket import Compose006RuntimeSocket
from ci_security.rules.compose.compose007_sensitive_host_path import Compose007SensitiveHostPath
from ci_security.rules.compose.compose008_devices import Compose008Devices
from ci_security.rules.compose.compose009_cap_sys_admin import Compose009CapSysAdmin
from ci_security.rules.compose.compose010_dangerous_capability import Compose010DangerousCapability
from ci_security.rules.compose.compose011_capability_added import Compose011CapabilityAdded
from ci_security.rules.compose.compose012_cap_drop_all import Compose012CapDropAll
from ci_security.rules.compose.compose013_security_opt_unconfined import Compose013SecurityOptUnconfined
from ci_security.rules.compose.compose014_no_new_privileges import Compose014NoNewPrivileges
from ci_security.rules.compose.compose015_unsafe_sysctl import Compose015UnsafeSysctl
from ci_security.rules.compose.compose016_root_user import Compose016RootUser
from ci_security.rules.compose.compose017_read_only import Compose017ReadOnly
from ci_security.rules.compose.compose018_plaintext_secret import Compose018PlaintextSecret
from ci_security.rules.compose.compose019_image_latest import Compose019ImageLatest
from ci_security.rules.compose.compose020_image_digest import Compose020ImageDigest
from ci_security.rules.compose.compose021_ports_all_interfaces import Compose021PortsAllInterfaces

RULES: tuple[ComposeRule, ...] = (
    Compose001Privileged(),
    Compose002HostNetwork(),
    Compose003HostPid(),
    Compose004HostIpc(),
    Compose005HostUserns(),
    Compose006RuntimeSocket(),
    Compose007SensitiveHostPath(),
    Compose008Devices(),
    Compose009CapSysAdmin(),
    Compose010DangerousCapability(),
    Compose011CapabilityAdded(),
    Compose012CapDropAll(),
    Compose013SecurityOptUnconfined(),
    Compose014NoNewPrivileges(),
    Compose015UnsafeSysctl(),
    Compose016RootUser(),
    Compose017ReadOnly(),
    Compose018PlaintextSecret(),
    Compose019ImageLatest(),
    Compose020ImageDigest(),
    Compose021PortsAllInterfaces(),
)
