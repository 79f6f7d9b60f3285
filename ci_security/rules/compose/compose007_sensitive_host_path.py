"""COMPOSE007: a sensitive host path is bind-mounted into a container.

The same definition as Kubernetes' K8S006 (`rules.hostpaths`): a whole system directory (`/etc`,
`/proc`, `/sys`, `/dev`, `/usr`, `/var`, `/home`, `~`, …) or a tree holding credentials or kernel control
(`/root`, `/boot`, `/etc/kubernetes`, `/etc/ssl/private`, `/var/lib/docker`, `/proc/…`, `~/.ssh`,
`~/.aws`, …) at any mode; anything else below a system directory (`/etc/passwd`, `/etc/ssl/certs`,
`/lib/modules`, `/sys/fs/cgroup`) only when it is writable (`:ro` and `read_only: true` make it
safe). The syslog socket `/dev/log`, `/dev/null`, GPU nodes (`/dev/dri`) and the time zone files
(`/etc/localtime`) are never reported: flagging them would teach teams to ignore the rule. Runtime
sockets, `/`, `/run` and `/var/run` are COMPOSE006 (CRITICAL), so they are skipped here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules import hostpaths
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import all_mounts, runtime_socket


def sensitive(path: str, *, read_only: bool = False) -> str | None:
    """Why bind-mounting host `path` is sensitive, or None (`rules.hostpaths.sensitive`)."""
    return hostpaths.sensitive(path, read_only=read_only)


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
            if not mount.source or runtime_socket(mount) is not None:
                continue
            why = sensitive(mount.source, read_only=mount.read_only)
            if why is not None:
                yield Hit(mount.line, f"{mount.resource} {mount.describe()} ({why})", mount.resource)
