"""COMPOSE007: a sensitive host path is bind-mounted into a container.

Sensitive means: a system directory as a whole (`/etc`, `/proc`, `/sys`, `/dev`, `/usr`, `/var`,
`/home`, …), anything under a tree that holds host credentials or kernel and runtime control
(`/root`, `/boot`, `/etc/kubernetes`, `/var/lib/docker`, `/proc/sys`, `/etc/shadow`, `~/.ssh`,
`~/.aws`, …). Single well-known harmless files below a system directory (`/etc/localtime`,
`/etc/ssl/certs`, `/dev/dri`) are not reported: flagging them would teach teams to ignore the rule.
Runtime sockets, `/`, `/run` and `/var/run` are COMPOSE006 (CRITICAL), so they are skipped here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import all_mounts, canonical, runtime_socket, under
from ci_security.rules.compose.load import ComposeFile

# Directories that are sensitive as a whole; a specific file or subdirectory below them may be fine.
SYSTEM_DIRECTORIES = frozenset(
    {"/etc", "/proc", "/sys", "/dev", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/var", "/var/lib",
     "/home", "~"}
)  # fmt: skip
# Trees (or files) sensitive at any depth: credentials, boot and kernel control, runtime and cluster state.
SENSITIVE_TREES = frozenset(
    {"/root", "/boot", "/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/sudoers.d",
     "/etc/crontab", "/etc/cron.d", "/var/spool/cron", "/etc/ssh", "/etc/systemd", "/etc/ld.so.preload",
     "/etc/kubernetes", "/etc/docker", "/etc/containerd", "/var/lib/docker", "/var/lib/containerd",
     "/var/lib/kubelet", "/var/lib/rancher", "/proc/sys", "/proc/sysrq-trigger", "/proc/kcore",
     "/sys/kernel", "/sys/firmware", "/dev/mem", "/dev/kmem", "/dev/port", "~/.ssh", "~/.aws", "~/.kube",
     "~/.docker", "~/.gnupg", "~/.azure", "~/.config/gcloud"}
)  # fmt: skip
_HOME = re.compile(r"/home/[^/]+(?:/\.(?:ssh|aws|kube|docker|gnupg|azure)(?:/.*)?)?\Z")


def sensitive(path: str) -> bool:
    path = canonical(path)
    return path in SYSTEM_DIRECTORIES or under(path, SENSITIVE_TREES) or bool(_HOME.match(path))


class Compose007SensitiveHostPath:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE007",
        kind="compose",
        title="Sensitive host path mounted",
        severity=Severity.HIGH,
        rationale="A container that can read `/etc`, `/root`, `~/.ssh` or the kubelet's directory gets "
        "the host's credentials; one that can write system directories, `/proc/sys` or `/boot` can "
        "change how the host runs. Read-only narrows the second risk, not the first.",
        remediation="Mount only the specific file or directory the service needs (e.g. "
        "`/etc/localtime:/etc/localtime:ro`), use a named volume for data, and pass credentials as "
        "compose `secrets:` instead of mounting credential directories.",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#volumes",
            "https://docs.docker.com/engine/storage/bind-mounts/",
            "https://docs.kics.io/latest/queries/dockercompose-queries/1c1325ff-831d-43a1-973e-839ae57dfcc0/",
        ),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for mount in all_mounts(compose):
            if mount.source and runtime_socket(mount) is None and sensitive(mount.source):
                yield Hit(mount.line, f"{mount.resource} {mount.describe()}", mount.resource)
