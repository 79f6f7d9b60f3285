"""DF020: WORKDIR with a relative path.

A relative WORKDIR is resolved against the previous one, so it is only a problem when no earlier
WORKDIR in the stage (or the stages it is built FROM) fixes the starting point: then it depends on
the base image's working directory. Variables are expanded; a value still holding an unset variable,
and Windows paths (`C:/app`), are not flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile, scope_at
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import carried, stage_label, unquote

_WINDOWS = re.compile(r"[A-Za-z]:[\\/]|\\")


class Df020RelativeWorkdir:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF020",
        kind="dockerfile",
        title="WORKDIR with a relative path",
        severity=Severity.LOW,
        rationale="A relative WORKDIR depends on the base image's working directory: a new base image "
        "version silently moves files and commands to another place.",
        remediation="Use an absolute path: `WORKDIR /app`.",
        references=(
            "https://docs.docker.com/reference/dockerfile/#workdir",
            "https://github.com/hadolint/hadolint/wiki/DL3000",
            "https://avd.aquasec.com/misconfig/ds-0009",
        ),
        peers=(("hadolint", "DL3000"), ("trivy", "DS-0009"), ("checkov", "CKV_DOCKER_10")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        inherited = carried(
            dockerfile,
            "DF020 anchored",
            False,
            lambda stage, done: done or any(inst.keyword == "WORKDIR" for inst in stage.instructions),
        )
        for stage in dockerfile.stages:
            anchored = inherited[stage.index]
            for inst in stage.instructions:
                if inst.keyword != "WORKDIR":
                    continue
                path = unquote(inst.args, dockerfile, scope_at(dockerfile, inst)).strip()
                if not anchored and not path.startswith(("/", "$")) and not _WINDOWS.match(path):
                    yield Hit(inst.start_line, f"WORKDIR {path} is relative", stage_label(stage))
                anchored = True
