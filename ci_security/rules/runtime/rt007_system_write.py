"""RT007: the image changed (or tried to change) files under the system folders: `/etc`, `/usr`,
`/bin`, `/sbin`, `/lib*`, `/boot`, `/root`. Opening for writing, creating, renaming or linking into,
deleting, truncating and making folders all count, whether or not they succeeded (the image's
filesystem is read-only in the sandbox, so they fail there; in production they would not).

Severity is scaled: HIGH for the files attackers write to gain access or persist (accounts and
passwords, sudoers, the dynamic loader's preload list, cron, shell start-up files, init and systemd
units, SSH configuration and keys); MEDIUM for any other system file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ci_security.models import Severity
from ci_security.rules.base import RuleMeta
from ci_security.rules.runtime.base import RuntimeContext, RuntimeHit
from ci_security.rules.runtime.common import grouped, hit, who

SYSTEM = re.compile(r"^/(etc|usr|bin|sbin|lib|lib32|lib64|libx32|boot|root)(/|$)")
SENSITIVE = re.compile(
    r"^/etc/(passwd|shadow|group|gshadow|sudoers(\.d/.*)?|ld\.so\.preload|ld\.so\.conf(\.d/.*)?|"
    r"crontab|cron\.[a-z]+/.*|profile|profile\.d/.*|bash\.bashrc|environment|rc\.local|init\.d/.*|"
    r"systemd/.*|ssh/.*|pam\.d/.*|security/.*)$|^/root/\.(ssh/.*|bashrc|profile)$|^/var/spool/cron/.*"
)


_VERBS = {
    "open": "opened for writing",
    "openat": "opened for writing",
    "openat2": "opened for writing",
    "creat": "created",
    "mkdir": "made the folder",
    "mkdirat": "made the folder",
    "rmdir": "removed the folder",
    "unlink": "deleted",
    "unlinkat": "deleted",
    "truncate": "truncated",
    "rename": "moved a file to",
    "renameat": "moved a file to",
    "renameat2": "moved a file to",
    "link": "linked a file to",
    "linkat": "linked a file to",
    "symlink": "made a symbolic link",
    "symlinkat": "made a symbolic link",
}


class Rt007SystemWrite:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="RT007",
        kind="runtime",
        title="Write to a system folder",
        severity=Severity.MEDIUM,
        rationale="An image that changes its own system files at run time is adding users, planting "
        "libraries or persistence, or at best mutating what was scanned. The files attackers use for "
        "access and persistence are rated HIGH.",
        remediation="Make the change at build time in the Dockerfile, or write the data to a volume or "
        "/tmp; run with a read-only root filesystem (Kubernetes `readOnlyRootFilesystem: true`). "
        "Accept an expected write with a policy ignore entry scoped by `paths`.",
        references=(
            "https://attack.mitre.org/techniques/T1543/",
            "https://attack.mitre.org/techniques/T1136/",
        ),
        scaled="HIGH for account, sudoers, preload, cron, shell start-up, init, systemd, PAM and SSH files",
    )

    def check(self, context: RuntimeContext) -> Iterator[RuntimeHit]:
        found = [e for e in context.run.events if e.kind == "file_write" and e.path and SYSTEM.match(e.path)]
        for subject, events in grouped(found, lambda e: e.path or ""):
            first = events[0]
            outcome = "" if first.result == "ok" else f" (failed: {first.result})"
            severity = Severity.HIGH if SENSITIVE.match(subject) else Severity.MEDIUM
            verb = _VERBS.get(first.syscall, first.syscall)
            yield hit(subject, f"{who(first)} {verb} {subject}{outcome}", events, severity=severity)
