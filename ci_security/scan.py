"""Orchestration: open the image, catalogue it, match it against the vulnerability database, merge
findings imported from other engines, and return a `ScanResult`. Never prints or exits.

The database is opened before the image is read, so a missing or incompatible database fails the
scan in a second rather than after the image was pulled. All temporary files (registry downloads,
`docker save` output, spooled package databases) live in one private directory (mode 0700, under
`$TMPDIR`) that is removed when the scan ends, whatever happens.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ci_security.catalog.registry import CATALOGERS
from ci_security.catalog.runner import catalog_image
from ci_security.errors import UsageError
from ci_security.image.base import SourceOptions
from ci_security.image.manifest import parse_platform
from ci_security.image.reference import parse_image_ref
from ci_security.image.registry import source_for
from ci_security.models import ImageTarget, Package, ScanResult, ScanWarning, Vulnerability
from ci_security.progress import ProgressSink

if TYPE_CHECKING:
    from ci_security.catalog.runner import Inventory
    from ci_security.vulndb.store import VulnDB


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
    db_path: Path | None = None
    db_max_age_hours: float = 120.0
    from_trivy: tuple[Path, ...] = ()
    from_grype: tuple[Path, ...] = ()


def run(options: ScanOptions) -> ScanResult:
    """Scan the image named in `options` and/or import other engines' findings."""
    imports = options.from_trivy + options.from_grype
    if not options.image and not imports:
        raise UsageError(
            "nothing to scan: pass --image (or set CI_SECURITY_IMAGE), or --from-trivy/--from-grype"
        )
    db = None
    if options.vulns and options.image:
        from ci_security.vulndb.store import VulnDB, default_db_path

        db = VulnDB(options.db_path or default_db_path())
    try:
        target, inventory = _scan_image(options) if options.image else (None, None)
        packages = inventory.packages if inventory else ()
        warnings = list(inventory.warnings) if inventory else []
        vulnerabilities: tuple[Vulnerability, ...] = ()
        if db is not None and inventory is not None:
            from ci_security.match.registry import BY_TYPE
            from ci_security.match.runner import match_inventory

            vulnerabilities, match_warnings = match_inventory(packages, inventory.os, db, BY_TYPE)
            warnings.extend(match_warnings)
            stale = _staleness(db, options.db_max_age_hours)
            if stale is not None:
                warnings.append(stale)
        if imports:
            imported_packages, imported = _load_imports(options)
            vulnerabilities = _merge(vulnerabilities, imported)
            if target is None:
                packages = imported_packages
        return ScanResult(
            target=target,
            packages=packages,
            warnings=tuple(warnings),
            vulnerabilities_scanned=db is not None or bool(imports),
            vulnerabilities=vulnerabilities,
            db=db.info() if db is not None else None,
        )
    finally:
        if db is not None:
            db.close()


def _staleness(db: VulnDB, max_age_hours: float) -> ScanWarning | None:
    stamp = db.meta("updated_at") or db.meta("built_at")
    if not stamp:
        return None
    try:
        built = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    age = (datetime.now(UTC) - built).total_seconds() / 3600
    if age <= max_age_hours:
        return None
    return ScanWarning(
        source="vulndb",
        message=f"the vulnerability database is {age / 24:.1f} days old (updated {stamp}); "
        "run `ci-security db update`",
        partial=False,
    )


def _load_imports(options: ScanOptions) -> tuple[tuple[Package, ...], tuple[Vulnerability, ...]]:
    from ci_security.ingest.registry import IMPORTERS

    packages: dict[tuple[str, str, str, str], Package] = {}
    found: list[Vulnerability] = []
    for tool, paths in (("trivy", options.from_trivy), ("grype", options.from_grype)):
        for path in paths:
            imported = IMPORTERS[tool].load(path)
            for pkg in imported.packages:
                packages.setdefault((pkg.type, pkg.name, pkg.version, pkg.path), pkg)
            found.extend(imported.vulnerabilities)
    return tuple(packages[k] for k in sorted(packages)), tuple(found)


def _merge(own: tuple[Vulnerability, ...], imported: tuple[Vulnerability, ...]) -> tuple[Vulnerability, ...]:
    """Our findings plus imported ones we did not make ourselves (same package and a shared id)."""
    seen: dict[tuple[str, str, str], set[str]] = {}
    for vuln in own:
        key = (vuln.package.type, vuln.package.name, vuln.package.version)
        seen.setdefault(key, set()).update((vuln.id, *vuln.aliases))
    merged = list(own)
    for vuln in imported:
        key = (vuln.package.type, vuln.package.name, vuln.package.version)
        ids = {vuln.id, *vuln.aliases}
        if seen.get(key, set()) & ids:
            continue
        seen.setdefault(key, set()).update(ids)
        merged.append(vuln)
    merged.sort(key=lambda v: v.sort_key())
    return tuple(merged)


def _scan_image(options: ScanOptions) -> tuple[ImageTarget, Inventory]:
    assert options.image is not None
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
    return target, inventory
