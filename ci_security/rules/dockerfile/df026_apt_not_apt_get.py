"""DF026: `apt` used in a RUN instead of `apt-get`.

`apt` is the interactive front end: its output and command-line interface are not stable for
scripts, and it warns so on every call.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import all_runs, stage_label


class Df026AptNotAptGet:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF026",
        kind="dockerfile",
        title="apt used instead of apt-get",
        severity=Severity.LOW,
        rationale="`apt` is meant for people at a terminal; its behaviour and output may change between "
        'releases ("apt does not have a stable CLI interface"), which makes builds fragile.',
        remediation="Use `apt-get` (and `apt-cache` for queries) in Dockerfiles.",
        references=(
            "https://manpages.debian.org/stable/apt/apt.8.en.html",
            "https://github.com/hadolint/hadolint/wiki/DL3027",
        ),
        peers=(("hadolint", "DL3027"), ("checkov", "CKV_DOCKER_9")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage, run in all_runs(dockerfile):
            if any(c.name == "apt" for c in run.commands()):
                yield Hit(run.instruction.start_line, "RUN uses apt instead of apt-get", stage_label(stage))
