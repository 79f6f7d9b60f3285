"""DF004: ADD used where COPY does the same.

ADD copies like COPY but also fetches URLs and unpacks local tar archives; for plain local files
and here-documents that hidden behaviour is only a surprise waiting to happen. ADD of a URL (DF005)
or of a local tar archive (which COPY cannot unpack) is not flagged, nor is a source still holding
an unset variable.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import is_remote, resource_of, source_words

_ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar.zst", ".tzst")


class Df004AddLocal:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF004",
        kind="dockerfile",
        title="ADD used instead of COPY",
        severity=Severity.LOW,
        rationale="ADD silently unpacks anything that looks like a tar archive and fetches URLs; for "
        "local files COPY does exactly what it says, so a renamed or replaced file cannot change what "
        "ends up in the image.",
        remediation="Replace `ADD` with `COPY` for local files and directories.",
        references=(
            "https://docs.docker.com/build/building/best-practices/#add-or-copy",
            "https://github.com/hadolint/hadolint/wiki/DL3020",
            "https://avd.aquasec.com/misconfig/ds-0005",
        ),
        peers=(("hadolint", "DL3020"), ("trivy", "DS-0005"), ("checkov", "CKV_DOCKER_4")),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for inst in dockerfile.instructions:
            if inst.keyword != "ADD":
                continue
            sources = source_words(dockerfile, inst)
            if not sources or any(
                is_remote(s) or s.lower().endswith(_ARCHIVES) or s.startswith("$") for s in sources
            ):
                continue
            shown = " ".join(sources)
            yield Hit(
                inst.start_line,
                f"ADD {shown} copies local files: COPY does that",
                resource_of(dockerfile, inst),
            )
