"""COMPOSE013: `security_opt` turns off a kernel confinement: `seccomp:unconfined`,
`apparmor:unconfined`, `label:disable` (SELinux), `label:type:spc_t` or `systempaths=unconfined`.
Docker accepts `:` and `=` as the separator; both are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import resolve, service_items

_OPTION = re.compile(r"\s*([A-Za-z-]+)\s*[:=]\s*(.*?)\s*\Z", re.S)
# (option, value) pairs that remove a confinement, with what is lost.
UNCONFINED = {
    ("seccomp", "unconfined"): "the seccomp syscall filter",
    ("apparmor", "unconfined"): "the AppArmor profile",
    ("label", "disable"): "SELinux separation",
    ("label", "type:spc_t"): "SELinux separation (spc_t is the unconfined super-privileged type)",
    ("label", "type:unconfined_t"): "SELinux separation",
    ("systempaths", "unconfined"): "the masking of /proc and /sys paths",
}


class Compose013SecurityOptUnconfined:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE013",
        kind="compose",
        title="Seccomp, AppArmor or SELinux confinement disabled",
        severity=Severity.HIGH,
        rationale="The default seccomp and AppArmor/SELinux profiles block the syscalls and paths most "
        "container escapes use (unshare, mount, keyctl, /proc/sys writes); turning them off makes a "
        "kernel bug or a stray capability directly exploitable.",
        remediation="Remove the option. If one syscall is missing, use a custom profile derived from "
        "Docker's default (`seccomp:./seccomp.json`) that allows just that call.",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#security_opt",
            "https://docs.docker.com/engine/security/seccomp/",
            "https://docs.docker.com/engine/security/apparmor/",
            "https://docs.kics.io/latest/queries/dockercompose-queries/404fde2c-bc4b-4371-9747-7054132ac953/",
        ),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for service in compose.services():
            for index, item in service_items(service, "security_opt"):
                match = _OPTION.match(resolve(item) or "")
                if match is None:
                    continue
                lost = UNCONFINED.get((match.group(1).lower(), match.group(2).lower()))
                if lost is not None:
                    message = f"service {service.name} sets security_opt {item} and loses {lost}"
                    yield Hit(service.line("security_opt", index), message, service.resource)
