"""DF030: EXPOSE of a port number outside 0-65535.

Variables are expanded from the ARG/ENV values in scope; words that are still not numbers (an unset
variable) are not judged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile, number, scope_at, split_words
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import resource_of


def _out_of_range(spec: str) -> bool:
    ports = spec.partition("/")[0].split("-")
    numbers = [number(p) for p in ports]
    return all(n is not None for n in numbers) and any(n is not None and n > 65535 for n in numbers)


class Df030PortRange:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF030",
        kind="dockerfile",
        title="EXPOSE port out of range",
        severity=Severity.LOW,
        rationale="TCP and UDP ports are 16-bit numbers; a larger one is a typo that documents a port the "
        "application cannot listen on and makes `docker run -P` fail.",
        remediation="Fix the port number (0-65535).",
        references=(
            "https://docs.docker.com/reference/dockerfile/#expose",
            "https://github.com/hadolint/hadolint/wiki/DL3011",
            "https://avd.aquasec.com/misconfig/ds-0008",
        ),
        peers=(("hadolint", "DL3011"), ("trivy", "DS-0008")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for inst in dockerfile.instructions:
            if inst.keyword != "EXPOSE":
                continue
            words = split_words(inst.args, scope_at(dockerfile, inst), escape=dockerfile.escape)
            bad = [w for w in words if _out_of_range(w)]
            if bad:
                yield Hit(
                    inst.start_line,
                    f"EXPOSE {' '.join(bad)}: ports go up to 65535",
                    resource_of(dockerfile, inst),
                )
