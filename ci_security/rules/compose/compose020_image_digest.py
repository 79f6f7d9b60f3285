"""COMPOSE020: a service's image is not pinned by digest (`@sha256:…`).

Skipped like COMPOSE019: services that build their image, and images that depend on an unset
variable.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import image_reference


class Compose020ImageDigest:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE020",
        kind="compose",
        title="Image not pinned by digest",
        severity=Severity.LOW,
        rationale="A tag can be re-pushed: without a digest the image that runs may differ from the one "
        "that was scanned and reviewed, and a hijacked registry account can replace it.",
        remediation="Append the digest of the reviewed image (`redis:7.4@sha256:…`, from "
        "`docker buildx imagetools inspect redis:7.4`) and let a bot (Renovate, Dependabot) update it.",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#image",
            "https://docs.docker.com/reference/cli/docker/image/pull/#pull-an-image-by-digest-immutable-identifier",
        ),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for name in compose.names():
            found = compose.setting(name, "image")
            if found is None or compose.setting(name, "build", inherit=True) is not None:
                continue
            service, value = found
            image = image_reference(value)
            if image is not None and image.digest is None:
                shown = f"{image.name}:{image.tag}" if image.tag else image.name
                message = f"service {name} uses image {shown}, which is not pinned by digest"
                yield Hit(service.line("image"), message, service.resource)
