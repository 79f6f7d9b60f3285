"""DF033: files copied out of an external image that is not pinned by digest.

`COPY --from=<image>` (and `ADD --from`) copies files out of another image, and `RUN
--mount=type=bind,from=<image>` (or `type=cache`) mounts it for one step: a third-party binary such as
a package manager, a CLI or a whole runtime lands in the image, from whatever the tag points at on the
day of the build. A reference pinned by digest (`ghcr.io/astral-sh/uv:0.5.11@sha256:…`) is fine. Not
this rule's: a number or a name that refers to a stage (wrong ones are DF023), a bare name that
matches no stage (DF023 reports it as a likely typo), and a reference still holding a variable nobody
set (only known at build time).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile, Instruction, Stage, scope_at
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import split_image, stage_label, stage_runs, unquote

_BARE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")


def _external(dockerfile: Dockerfile, ref: str) -> bool:
    """Whether `ref` names an image rather than a stage (or DF023's bare typo)."""
    if not ref or "$" in ref or ref.isdigit() or dockerfile.stage(ref) is not None:
        return False
    return not set(ref.lower()) <= _BARE


def _problem(what: str, ref: str) -> str | None:
    _, tag, digest = split_image(ref)
    if digest is not None:
        return None
    moving = " (no tag, so latest)" if tag is None else ""
    return f"{what} {ref}{moving} is not pinned by digest"


def _reference(dockerfile: Dockerfile, inst: Instruction, raw: str) -> str:
    return unquote(raw, dockerfile, scope_at(dockerfile, inst)).strip()


class Df033CopyFromImage:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF033",
        kind="dockerfile",
        title="Files copied from an image not pinned by digest",
        severity=Severity.LOW,
        rationale="COPY --from an external image puts a third-party binary or runtime into yours from "
        "whatever its tag points at when the build runs: whoever can push that tag, or take over the "
        "registry account, chooses what ships in your image. It is the base-image risk (DF003) for "
        "every image a Dockerfile copies from.",
        remediation="Pin the image by digest (`COPY --from=ghcr.io/astral-sh/uv:0.5.11@sha256:… /uv "
        "/bin/`), or name it once in a stage (`FROM …@sha256:… AS uv`) and copy from the stage; let "
        "Renovate or Dependabot keep the digest current.",
        references=(
            "https://docs.docker.com/reference/dockerfile/#copy---from",
            "https://docs.docker.com/reference/dockerfile/#run---mount",
            "https://docs.docker.com/build/building/best-practices/#pin-base-image-versions",
        ),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage in dockerfile.stages:
            yield from self._copies(dockerfile, stage)
            for run in stage_runs(dockerfile, stage):
                for mount in run.mounts:
                    ref = _reference(dockerfile, run.instruction, mount.get("from", ""))
                    if _external(dockerfile, ref) and (problem := _problem("RUN --mount from", ref)):
                        yield Hit(run.instruction.start_line, problem, stage_label(stage))

    @staticmethod
    def _copies(dockerfile: Dockerfile, stage: Stage) -> Iterator[Hit]:
        for inst in stage.instructions:
            if inst.keyword not in ("COPY", "ADD") or "from" not in inst.flags:
                continue
            ref = _reference(dockerfile, inst, inst.flags["from"])
            if _external(dockerfile, ref) and (problem := _problem(f"{inst.keyword} --from", ref)):
                yield Hit(inst.start_line, problem, stage_label(stage))
