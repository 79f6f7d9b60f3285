"""DF029: WORKDIR inside a kernel or boot directory (`/proc`, `/sys`, `/dev`, `/boot`, …).

At run time these paths are mounted over by the kernel's pseudo-filesystems or are host-specific, so
files placed there are hidden or land where they can affect the host.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile, scope_at
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import resource_of, unquote

_SYSTEM = ("/proc", "/sys", "/dev", "/boot", "/initrd", "/lost+found")


class Df029SystemWorkdir:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF029",
        kind="dockerfile",
        title="WORKDIR in a system directory",
        severity=Severity.LOW,
        rationale="`/proc`, `/sys` and `/dev` are replaced by kernel filesystems when the container "
        "starts, so what the build put there vanishes, and writing there at run time touches kernel "
        "interfaces rather than files.",
        remediation="Use an application directory: `WORKDIR /app`.",
        references=(
            "https://docs.docker.com/reference/dockerfile/#workdir",
            "https://avd.aquasec.com/misconfig/ds-0030",
        ),
        peers=(("trivy", "DS-0030"),),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for inst in dockerfile.instructions:
            if inst.keyword != "WORKDIR":
                continue
            path = unquote(inst.args, dockerfile, scope_at(dockerfile, inst)).strip().rstrip("/") or "/"
            if any(path == d or path.startswith(d + "/") for d in _SYSTEM):
                yield Hit(
                    inst.start_line, f"WORKDIR {path} is a system directory", resource_of(dockerfile, inst)
                )
