"""Orchestration: open the image, catalogue it, return a `ScanResult`. Never prints or exits.

All temporary files (registry downloads, `docker save` output, spooled package databases) live in
one private directory (mode 0700, under `$TMPDIR`) that is removed when the scan ends, whatever
happens.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ci_security.catalog.registry import CATALOGERS
from ci_security.catalog.runner import catalog_image
from ci_security.errors import UsageError
from ci_security.image.base import SourceOptions
from ci_security.image.manifest import parse_platform
from ci_security.image.reference import parse_image_ref
from ci_security.image.registry import source_for
from ci_security.models import ImageTarget, ScanResult
from ci_security.progress import ProgressSink


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanOptions:
    """Everything `scan` needs, already validated by the CLI (or built by a test)."""

    image: str | None
    vulns: bool = True
    platform: str | None = None
    insecure_registries: tuple[str, ...] = ()
    registry_username: str | None = None
    registry_password: str | None = field(default=None, repr=False)
    docker_config: Path | None = None
    cache_dir: Path | None = None
    use_cache: bool = True
    workers: int | None = None
    progress: ProgressSink | None = None


def run(options: ScanOptions) -> ScanResult:
    """Scan the image named in `options`."""
    if not options.image:
        raise UsageError("nothing to scan: pass --image (or set CI_SECURITY_IMAGE)")
    ref = parse_image_ref(options.image)
    platform = parse_platform(options.platform) if options.platform else None
    with tempfile.TemporaryDirectory(prefix="ci-security-") as tmp:
        workdir = Path(tmp)
        (workdir / "image").mkdir()
        (workdir / "catalog").mkdir()
        source_options = SourceOptions(
            workdir=workdir / "image",
            platform=platform,
            insecure_registries=options.insecure_registries,
            username=options.registry_username,
            password=options.registry_password,
            docker_config=options.docker_config,
            progress=options.progress,
        )
        cache = None
        if options.use_cache:
            from ci_security.catalog.cache import LayerCache, default_cache_dir

            cache = LayerCache(options.cache_dir or default_cache_dir(), CATALOGERS)
        image = source_for(ref).open(ref, source_options)
        try:
            inventory = catalog_image(
                image,
                CATALOGERS,
                tmpdir=workdir / "catalog",
                progress=options.progress,
                workers=options.workers,
                cache=cache,
            )
        finally:
            image.close()
    target = ImageTarget(
        reference=image.reference,
        transport=image.transport,
        digest=image.manifest_digest or image.config_digest,
        image_id=image.config_digest,
        platform=image.platform,
        layers=image.layers,
        repo_tags=image.repo_tags,
        repo_digests=image.repo_digests,
        os=inventory.os,
        created=image.config.get("created") if isinstance(image.config.get("created"), str) else None,
    )
    return ScanResult(
        target=target,
        packages=inventory.packages,
        warnings=inventory.warnings,
        vulnerabilities_scanned=False,
    )
