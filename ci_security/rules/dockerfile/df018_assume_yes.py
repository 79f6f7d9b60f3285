"""DF018: a package manager that can stop and ask for confirmation.

`apt-get`/`apt` actions that change packages need `-y` (`--yes`, `--assume-yes`, `-qq`, or
`-o APT::Get::Assume-Yes=true`, or that setting written to an apt configuration file by an earlier
RUN of the stage or its parents, or the command fed by `yes |`); yum/dnf/tdnf need `-y`
(`--assumeyes`); zypper needs `-n` (`--non-interactive`) or `-y` (`--no-confirm`). microdnf and apk
never ask.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile, number
from ci_security.manifests.shell import Command
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import (
    Run,
    apt_options,
    carried,
    rpm_manager,
    rpm_options,
    stage_label,
    stage_runs,
)

_SHORT_QUIET = re.compile(r"-q=\d+")  # apt-get's own `-q=2` form, which GNU option parsing does not know
# `\s*=\s*|\s+` reads what `\s*[=\s]\s*` did without three ways to split one run of blanks (quadratic).
_SETTING = re.compile(r"APT::Get::Assume-Yes(?:\s*=\s*|\s+)[\"']?(?:true|1|yes)\b", re.I)
_APT_ACTIONS = frozenset(
    {"install", "upgrade", "dist-upgrade", "full-upgrade", "remove", "purge", "autoremove", "reinstall"}
    | {"build-dep", "autopurge"}
)
_RPM_ACTIONS = frozenset(
    {"install", "update", "upgrade", "remove", "erase", "reinstall", "downgrade", "autoremove"}
    | {"groupinstall", "localinstall", "groupupdate", "groupremove", "distro-sync", "group", "module"}
)
_ZYPPER_ACTIONS = frozenset(
    {"install", "in", "update", "up", "remove", "rm", "dist-upgrade", "dup", "patch", "source-install"}
    | {"si", "install-new-recommends", "inr"}
)


def _configured(run: Run) -> bool:
    inst = run.instruction
    return bool(_SETTING.search(inst.original)) or any(_SETTING.search(h.body) for h in inst.heredocs)


def _asks(command: Command) -> bool:
    apt = apt_options(command)
    if apt is not None:
        if apt.positionals[:1] == () or apt.positionals[0] not in _APT_ACTIONS:
            return False
        quiet = sum(1 for name, _ in apt.flags if name == "q") + sum(
            number(v) or 0 for v in apt.values("quiet")
        )
        quiet += sum(number(a[3:]) or 0 for a in command.args if _SHORT_QUIET.fullmatch(a))
        assumed = any(_SETTING.search(v.replace("=", " ")) for v in apt.values("o", "option"))
        return not (apt.has("y", "yes", "assume-yes") or quiet >= 2 or assumed)
    manager = rpm_manager(command)
    options = rpm_options(command)
    if manager is None or options is None or not options.positionals or manager == "microdnf":
        return False
    if manager == "zypper":
        return options.positionals[0] in _ZYPPER_ACTIONS and not options.has(
            "n", "non-interactive", "y", "no-confirm"
        )
    return options.positionals[0] in _RPM_ACTIONS and not options.has("y", "assumeyes")


class Df018AssumeYes:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF018",
        kind="dockerfile",
        title="Package manager without non-interactive flag",
        severity=Severity.LOW,
        rationale="Without `-y` the package manager asks for confirmation; a build has no one to answer, "
        "so it aborts, or, on an older tool, waits until the CI job times out.",
        remediation="Pass `-y` (`apt-get install -y`, `dnf install -y`) or `zypper --non-interactive`.",
        references=(
            "https://docs.docker.com/build/building/best-practices/#apt-get",
            "https://github.com/hadolint/hadolint/wiki/DL3014",
            "https://avd.aquasec.com/misconfig/ds-0021",
        ),
        peers=(
            ("hadolint", "DL3014"),
            ("hadolint", "DL3030"),
            ("hadolint", "DL3034"),
            ("hadolint", "DL3038"),
            ("trivy", "DS-0021"),
        ),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        inherited = carried(
            dockerfile,
            "DF018 configured",
            False,
            lambda stage, done: done or any(_configured(run) for run in stage_runs(dockerfile, stage)),
        )
        for stage in dockerfile.stages:
            configured = inherited[stage.index]
            for run in stage_runs(dockerfile, stage):
                configured = configured or _configured(run)
                if configured:
                    continue
                asking = [
                    command.name
                    for pipeline in run.pipelines()
                    for position, command in enumerate(pipeline)
                    if _asks(command) and not any(c.name == "yes" for c in pipeline[:position])
                ]
                if asking:
                    message = f"RUN {asking[0]} may ask for confirmation: add -y"
                    if asking[0] == "zypper":
                        message = "RUN zypper may ask for confirmation: add --non-interactive"
                    yield Hit(run.instruction.start_line, message, stage_label(stage))
