"""COMPOSE019: a service's image is `:latest` or has no tag (which means `:latest`).

Services with `build:` (their own or through `extends`) are skipped: there `image:` names the image
compose builds, not one it pulls. An image that depends on an unset variable (`app:${TAG}`) is
skipped too; `${TAG:-latest}` is read as its default and reported. It implies COMPOSE020 (not pinned
by digest), which is folded into it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.compose import ComposeFile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import image_reference


class Compose019ImageLatest:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE019",
        kind="compose",
        title="Image tag latest or missing",
        severity=Severity.MEDIUM,
        rationale="`latest` moves: each `docker compose pull` may bring a different image, so what runs "
        "is neither reviewed nor reproducible, and a compromised or broken upstream release is picked up "
        "silently.",
        remediation="Pin a version tag (`postgres:16.4`), better a digest as well "
        "(`postgres:16.4@sha256:…`), and update it through a reviewed change (e.g. Renovate).",
        references=(
            "https://docs.docker.com/reference/compose-file/services/#image",
            "https://docs.docker.com/build/building/best-practices/#pin-base-image-versions",
        ),
        implies=("COMPOSE020",),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for name in compose.names():
            found = compose.setting(name, "image")
            if found is None or compose.setting(name, "build", inherit=True) is not None:
                continue
            service, value = found
            image = image_reference(value)
            if image is None or image.digest is not None:
                continue
            if image.tag is None:
                message = f"service {name} uses image {image.name} without a tag, so :latest is pulled"
            elif image.tag == "latest":
                message = f"service {name} uses image {image.name}:latest"
            else:
                continue
            yield Hit(service.line("image"), message, service.resource)
