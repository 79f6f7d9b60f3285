"""DF013: `apk add` keeps the package index cache in the layer.

Fine when the command uses `--no-cache` or `--no-network` (nothing is downloaded, so nothing is
cached), when the same RUN removes `/var/cache/apk` (`rm -rf /var/cache/apk/*`), or when a BuildKit
cache mount covers `/var/cache/apk` or `/etc/apk/cache`. A simulation (`apk add -s`) is not an install.
Only the final stage and the stages it is built FROM are checked, as their layers are the image.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import (
    Run,
    apk_options,
    final_lineage,
    no_network,
    stage_label,
    stage_runs,
)

_CACHE = "/var/cache/apk"


def _cleans(run: Run) -> bool:
    if run.caches(_CACHE) or run.caches("/etc/apk/cache"):
        return True
    return any(
        c.name == "rm" and any(a.rstrip("/*").startswith(_CACHE) for a in c.args) for c in run.commands()
    )


class Df013ApkCache:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF013",
        kind="dockerfile",
        title="apk add without --no-cache",
        severity=Severity.LOW,
        rationale="Without `--no-cache` apk keeps the downloaded package index in the layer: a bigger "
        "image and stale metadata shipped to production.",
        remediation="Use `apk add --no-cache <packages>` (it also makes a separate `apk update` "
        "unnecessary).",
        references=(
            "https://github.com/hadolint/hadolint/wiki/DL3019",
            "https://avd.aquasec.com/misconfig/ds-0025",
        ),
        peers=(("hadolint", "DL3019"), ("trivy", "DS-0025")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage in final_lineage(dockerfile):
            for run in stage_runs(dockerfile, stage):
                missing = False
                for command in run.commands():
                    options = apk_options(command)
                    if options is not None and options.positionals[:1] == ("add",):
                        missing = missing or not (options.has("no-cache") or no_network(options))
                if missing and not _cleans(run):
                    yield Hit(
                        run.instruction.start_line, "RUN apk add without --no-cache", stage_label(stage)
                    )
