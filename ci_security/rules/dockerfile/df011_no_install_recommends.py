"""DF011: `apt-get install` (or `apt install`) without `--no-install-recommends`.

Not flagged when the command disables recommends itself (`-o APT::Install-Recommends=false`) or an
earlier RUN of the stage (or of a stage it is built FROM) wrote that setting to an apt configuration
file (`echo 'APT::Install-Recommends "false";' > /etc/apt/apt.conf.d/…`), or the same RUN does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.manifests.shell import Command
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import Run, apt_options, carried, stage_label, stage_runs

# `\s*=\s*|\s+` reads what `\s*[=\s]\s*` did without three ways to split one run of blanks (quadratic).
_SETTING = re.compile(r"APT::Install-Recommends(?:\s*=\s*|\s+)[\"']?(?:false|0|no)\b", re.I)


def _configured(run: Run) -> bool:
    inst = run.instruction
    return bool(_SETTING.search(inst.original)) or any(_SETTING.search(h.body) for h in inst.heredocs)


class Df011NoInstallRecommends:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF011",
        kind="dockerfile",
        title="apt-get install without --no-install-recommends",
        severity=Severity.LOW,
        rationale="Recommended packages are installed by default: they make the image bigger and add "
        "software nobody asked for, each with its own vulnerabilities to patch.",
        remediation="Use `apt-get install -y --no-install-recommends <packages>` and list explicitly the "
        "recommended packages you really need.",
        references=(
            "https://docs.docker.com/build/building/best-practices/#apt-get",
            "https://github.com/hadolint/hadolint/wiki/DL3015",
            "https://avd.aquasec.com/misconfig/ds-0029",
        ),
        peers=(("hadolint", "DL3015"), ("trivy", "DS-0029")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        inherited = carried(
            dockerfile,
            "DF011 configured",
            False,
            lambda stage, done: done or any(_configured(run) for run in stage_runs(dockerfile, stage)),
        )
        for stage in dockerfile.stages:
            configured = inherited[stage.index]
            for run in stage_runs(dockerfile, stage):
                configured = configured or _configured(run)
                if configured:
                    continue
                offending = [c.name for c in run.commands() if self._missing(c)]
                if offending:
                    message = f"RUN {offending[0]} install without --no-install-recommends"
                    yield Hit(run.instruction.start_line, message, stage_label(stage))

    @staticmethod
    def _missing(command: Command) -> bool:
        options = apt_options(command)
        if options is None or options.positionals[:1] != ("install",):
            return False
        if options.has("no-install-recommends"):
            return False
        return not any(_SETTING.search(v.replace("=", " ")) for v in options.values("o", "option"))
