"""DF023: `COPY --from` naming its own stage, a later stage, or no stage at all.

A stage can copy from stages defined before it. `--from` with the stage's own name or index, or with
a later stage, is an error (a cycle); a bare name (no registry, tag or digest) that matches no stage
is most often a typo, which BuildKit resolves as an image on Docker Hub (`docker.io/library/<name>`).
References with a tag, digest or registry, and values holding an unset variable, are images and not
flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile, Stage, number, scope_at
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import stage_label, unquote

_BARE = re.compile(r"[a-z0-9][a-z0-9_.-]*")


def _problem(dockerfile: Dockerfile, stage: Stage, ref: str) -> str | None:
    index = number(ref)
    if index is not None:
        if index >= stage.index:
            what = "its own stage" if index == stage.index else "a later stage"
            return f"COPY --from={ref} refers to {what}"
        return None
    name = ref.lower()
    if stage.name == name:
        return f"COPY --from={ref} refers to its own stage"
    if dockerfile.stage(name, before=stage.index) is not None:
        return None
    if dockerfile.stage(name) is not None:
        return f"COPY --from={ref} refers to a stage defined later"
    if _BARE.fullmatch(name):
        return f"COPY --from={ref} names no earlier stage, so it pulls the image docker.io/library/{name}"
    return None


class Df023CopyFrom:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF023",
        kind="dockerfile",
        title="COPY --from references an unknown or later stage",
        severity=Severity.LOW,
        rationale="A COPY --from that names its own or a later stage fails the build; one that names no "
        "stage is usually a typo that BuildKit turns into a pull of an arbitrary Docker Hub image.",
        remediation="Name a stage defined earlier in the file (`FROM golang:1.22 AS build` … `COPY "
        "--from=build …`), or a fully qualified, tagged image.",
        references=(
            "https://docs.docker.com/reference/dockerfile/#copy---from",
            "https://github.com/hadolint/hadolint/wiki/DL3022",
            "https://github.com/hadolint/hadolint/wiki/DL3023",
            "https://avd.aquasec.com/misconfig/ds-0006",
        ),
        peers=(("hadolint", "DL3022"), ("hadolint", "DL3023"), ("trivy", "DS-0006")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage in dockerfile.stages:
            for inst in stage.instructions:
                if inst.keyword not in ("COPY", "ADD") or "from" not in inst.flags:
                    continue
                ref = unquote(inst.flags["from"], dockerfile, scope_at(dockerfile, inst)).strip()
                if not ref or "$" in ref:
                    continue
                problem = _problem(dockerfile, stage, ref)
                if problem is not None:
                    yield Hit(inst.start_line, problem, stage_label(stage))
