"""DF032: a RUN pipeline whose failures are hidden because `pipefail` is off.

A shell pipeline's status is its last command's, so `curl -fsSL $URL | tar -xz` or `wget -O- $URL |
gpg --dearmor > key` succeed with a failed download. Flagged: a pipeline at the top level of a RUN's
shell-form command line or shell here-document, unless the stage's SHELL (also inherited from the
stage it is built FROM) passes `-o pipefail` to a shell that supports it, or the script runs
`set -o pipefail` (`set -eo pipefail`, …) before the pipeline. Pipelines fed only by commands that
cannot fail (`echo`, `printf`, `yes`, `true`) are not flagged. Non-POSIX shells are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile, Instruction, Stage
from ci_security.manifests.shell import Command, Script, basename, parse_options
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import Run, carried, stage_label, stage_runs

_PIPEFAIL_SHELLS = frozenset({"bash", "zsh", "ash", "ksh", "mksh"})
_SAFE_FEEDERS = frozenset({"echo", "printf", "yes", "true"})


def _shell_pipefail(inst: Instruction) -> bool | None:
    """For a SHELL instruction: whether it turns pipefail on; None for other instructions."""
    if inst.keyword != "SHELL" or not inst.json_args:
        return None
    argv = inst.json_args
    if basename(argv[0]) not in _PIPEFAIL_SHELLS:
        return False
    options = parse_options(argv[1:], frozenset("o"))
    return "pipefail" in options.values("o")


def _sets_pipefail(command: Command) -> bool:
    return command.name == "set" and "pipefail" in parse_options(command.args, frozenset("o")).values("o")


def _unguarded_pipeline(script: Script) -> tuple[Command, ...] | None:
    for pipeline in script.pipelines:
        if any(_sets_pipefail(c) for c in pipeline):
            return None
        if len(pipeline) > 1 and not all(c.name in _SAFE_FEEDERS for c in pipeline[:-1]):
            return pipeline
    return None


def _shell_scripts(run: Run) -> tuple[Script, ...]:
    """The scripts the stage's shell runs: not those of an exec-form RUN, which has no shell."""
    if run.instruction.json_args is not None:
        return ()
    return run.scripts


def _pipefail_through(stage: Stage, pipefail: bool) -> bool:
    for inst in stage.instructions:
        pipefail = p if (p := _shell_pipefail(inst)) is not None else pipefail
    return pipefail


class Df032Pipefail:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF032",
        kind="dockerfile",
        title="RUN pipeline without pipefail",
        severity=Severity.LOW,
        rationale="Without pipefail a pipeline reports only its last command's status: a failed or "
        "truncated download piped into tar, gpg or a shell does not stop the build, and a broken or "
        "partial result ends up in the image.",
        remediation='Set `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` (`/bin/ash` on Alpine) before the '
        "RUN, or start the RUN with `set -o pipefail &&`.",
        references=(
            "https://docs.docker.com/build/building/best-practices/#using-pipes",
            "https://github.com/hadolint/hadolint/wiki/DL4006",
        ),
        peers=(("hadolint", "DL4006"), ("trivy", "DS-0032")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage in dockerfile.stages:
            yield from self._stage(dockerfile, stage)

    @staticmethod
    def _stage(dockerfile: Dockerfile, stage: Stage) -> Iterator[Hit]:
        pipefail = carried(dockerfile, "DF032 pipefail", False, _pipefail_through)[stage.index]
        # The SHELL in force at a RUN is the last one above it: walk both in line order.
        shells = [
            (inst.start_line, p) for inst in stage.instructions if (p := _shell_pipefail(inst)) is not None
        ]
        next_shell = 0
        for run in stage_runs(dockerfile, stage):
            line = run.instruction.start_line
            while next_shell < len(shells) and shells[next_shell][0] < line:
                pipefail = shells[next_shell][1]
                next_shell += 1
            if pipefail:
                continue
            for script in _shell_scripts(run):
                pipeline = _unguarded_pipeline(script)
                if pipeline is not None:
                    shown = " | ".join(c.name for c in pipeline)
                    yield Hit(line, f"RUN pipeline `{shown}` runs without pipefail", stage_label(stage))
                    break
