"""Orchestration: open the image, catalogue it, match it against the vulnerability database, check
the manifests, merge findings imported from other engines, and return a `ScanResult` (`run`); with
the policy read and in force first and its `Decision` made last (`check`, what the CLI runs).
Never prints or exits.

With `ScanOptions.sandbox` (the dynamic scan) the sandbox is checked first of all (`sandbox.dynamic
.prepare`, so a machine that cannot isolate the image fails in a second, before anything is
fetched); the opened image is then catalogued, run in the sandbox (which marks the packages in use
before they are matched, so every vulnerability carries its package's `in_use`), and the run is
judged by the runtime rules under the policy's `runtime:` section, findings pointing at the
Dockerfile's ENTRYPOINT or CMD line.

`check(options)` behaves exactly as `ci-security scan` does with the same options: the policy file
and its overrides, limits, baseline and VEX come from `policy.inputs`. `run` alone applies no
policy (no rule the policy's `checks.enable` turns on, no `limits:`).

The database is opened before the image is read, so a missing or incompatible database fails the
scan in a second rather than after the image was pulled. All temporary files (registry downloads,
`docker save` output, spooled package databases) live in one private directory (mode 0700, under
`$TMPDIR`) that is removed when the scan ends, whatever happens.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ci_security.catalog.registry import CATALOGERS
from ci_security.catalog.runner import catalog_image
from ci_security.errors import UsageError
from ci_security.image.base import SourceOptions
from ci_security.image.manifest import parse_platform
from ci_security.image.reference import parse_image_ref
from ci_security.image.registry import source_for
from ci_security.models import (
    Decision,
    ImageTarget,
    ManifestSummary,
    Misconfiguration,
    Package,
    ScanResult,
    ScanWarning,
    Vulnerability,
)
from ci_security.policy.inputs import FailOnOverride, PolicyInputs
from ci_security.policy.model import RuntimePolicy
from ci_security.progress import ProgressSink
from ci_security.sandbox.dynamic import SandboxOptions

if TYPE_CHECKING:
    from ci_security.catalog.runner import Inventory
    from ci_security.manifests.dockerfile import Dockerfile
    from ci_security.models import RuntimeFinding
    from ci_security.sandbox.dynamic import Observed, Prepared
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
    # Other engines' reports to import, in order: (importer name, as in `ingest.registry`, path).
    imports: tuple[tuple[str, Path], ...] = ()
    dockerfile: Path | None = None
    repo_root: Path | None = None
    policy_path: Path | None = None
    baseline_path: Path | None = None
    vex_paths: tuple[Path, ...] = ()
    manifests: tuple[Path, ...] = ()
    # `--fail-on`: replaces the policy's fail_on.severity.
    fail_on: FailOnOverride | None = None
    # `--limit` values (name, value as written): in force over the policy's `limits:`.
    limits: tuple[tuple[str, str], ...] = ()
    # The dynamic scan (`ci-security sandbox`, `ci --dynamic`): run the image's entrypoint too.
    sandbox: SandboxOptions | None = None


@dataclass(frozen=True, slots=True)
class Checked:
    """A scan result and the policy's decision on it."""

    result: ScanResult
    decision: Decision


@contextmanager
def policy_in_force(options: ScanOptions) -> Iterator[PolicyInputs]:
    """Read the policy (under the command line's limits only: its own `limits:` are not known yet),
    then, with its limits in force beneath the command line's for everything that follows (the
    baseline, VEX, a database update, the image and manifests), read the baseline and VEX documents
    and yield them with the policy.
    """
    from ci_security import limits
    from ci_security.policy.inputs import limits_under, load_inputs, read_policy

    command_line = dict(options.limits)
    with limits.use(limits.with_overrides(limits.DEFAULTS, command_line)):
        policy = read_policy(options.policy_path, repo_root(options), options.fail_on)
    with limits.use(limits_under(policy, command_line)):
        yield load_inputs(policy, options.baseline_path, options.vex_paths)


def check_under(options: ScanOptions, inputs: PolicyInputs) -> Checked:
    """Scan and decide under a policy already in force (`policy_in_force`)."""
    from ci_security.policy.inputs import decide

    checks = inputs.policy.checks
    result = run(
        options,
        rules_enable=checks.enable,
        rules_disable=checks.disable,
        severity_source=inputs.policy.severity_source,
        runtime=inputs.policy.runtime,
    )
    return Checked(result, decide(result, inputs))


def check(options: ScanOptions) -> Checked:
    """Everything `ci-security scan` does but the printing: policy, scan, decision."""
    with policy_in_force(options) as inputs:
        return check_under(options, inputs)


def run(
    options: ScanOptions,
    *,
    rules_enable: Sequence[str] = (),
    rules_disable: Sequence[str] = (),
    severity_source: str = "vendor",
    runtime: RuntimePolicy | None = None,
) -> ScanResult:
    """Scan the image named in `options`, check manifests and/or import other engines' findings;
    `rules_enable` turns on manifest rules that are off by default (the policy's `checks.enable`);
    `rules_disable` names the rules the policy disables (they still run, reported suppressed, and fold
    nothing); `severity_source` says which rating decides a vulnerability's severity (the policy's
    `severity_source`: vendor, nvd or max); `runtime` is the policy's `runtime:` section, for the
    dynamic scan.
    """
    runtime = runtime or RuntimePolicy()
    prepared = None
    if options.sandbox is not None:
        if not options.image:
            raise UsageError("the dynamic scan (sandbox, --dynamic) runs an image: give one with --image")
        from ci_security.sandbox.dynamic import prepare

        prepared = prepare()
    manifests = options.manifests
    if not options.image and not options.imports and not manifests:
        # `ci-security scan` with nothing named checks the repository's manifests, as `trivy config .`.
        manifests = (repo_root(options),)
    db = None
    if options.vulns and options.image:
        from ci_security.vulndb.store import VulnDB, default_db_path

        db = VulnDB(options.db_path or default_db_path())
    try:
        target, inventory, observed = (
            _scan_image(options, prepared, runtime) if options.image else (None, None, None)
        )
        packages = inventory.packages if inventory else ()
        warnings = list(inventory.warnings) if inventory else []
        vulnerabilities: tuple[Vulnerability, ...] = ()
        if db is not None and inventory is not None:
            from ci_security.match.registry import BY_TYPE
            from ci_security.match.runner import match_inventory

            vulnerabilities, match_warnings = match_inventory(
                packages, inventory.os, db, BY_TYPE, severity_source=severity_source
            )
            warnings.extend(match_warnings)
            stale = _staleness(db, options.db_max_age_hours)
            if stale is not None:
                warnings.append(stale)
        imported = _load_imports(options) if options.imports else _Imports()
        vulnerabilities = _merge(vulnerabilities, imported.vulnerabilities)
        if target is None:
            packages = imported.packages
        dockerfile = None
        parsed = (
            _dockerfile(options, warnings) if target is not None and (vulnerabilities or observed) else None
        )
        if parsed is not None:
            dockerfile = parsed.path
        if target is not None and vulnerabilities and parsed is not None:
            vulnerabilities = _anchor(vulnerabilities, target, parsed, warnings)
        runtime_findings: tuple[RuntimeFinding, ...] = ()
        if observed is not None:
            runtime_findings = _judge(observed, runtime, parsed, warnings)
        summary = (
            _check_manifests(manifests, options, tuple(rules_enable), tuple(rules_disable))
            if manifests
            else None
        )
        misconfigurations = summary.findings if summary is not None else ()
        checked = summary.checked if summary is not None else frozenset()
        if summary is not None:
            warnings.extend(manifest_notes(summary.summary))
        if imported.misconfigurations:
            misconfigurations = _merge_misconfigurations(
                misconfigurations, imported.misconfigurations, checked, options
            )
        return ScanResult(
            target=target,
            packages=packages,
            warnings=tuple(warnings),
            vulnerabilities_scanned=db is not None or imported.vulnerabilities_scanned,
            vulnerabilities=vulnerabilities,
            db=db.info() if db is not None else None,
            dockerfile=dockerfile,
            misconfigurations=misconfigurations,
            manifests=summary.summary if summary is not None else None,
            sandbox=observed.run if observed is not None else None,
            runtime=runtime_findings,
        )
    finally:
        if db is not None:
            db.close()


def repo_root(options: ScanOptions) -> Path:
    """The repository the findings are reported against: --repo-root, else the CI checkout, else the
    working directory.
    """
    if options.repo_root is not None:
        return options.repo_root
    for variable in ("GITHUB_WORKSPACE", "CI_PROJECT_DIR"):
        value = os.environ.get(variable)
        if value:
            return Path(value)
    return Path.cwd()


def _dockerfile(options: ScanOptions, warnings: list[ScanWarning]) -> Dockerfile | None:
    """The Dockerfile image findings are anchored to (`--dockerfile`, else the repository root's),
    parsed, with its path as reports show it (repository-relative when it is inside); None when
    there is none.

    The Dockerfile comes with the pull request: one over a limit (its size, a line, an expansion)
    is not used, and a warning names the file and the limit (findings are then reported without
    Dockerfile lines).
    """
    from ci_security import limits
    from ci_security.manifests.dockerfile import expansion_budget, find_dockerfile, parse_dockerfile

    root = repo_root(options)
    path = options.dockerfile or find_dockerfile(root)
    if path is None:
        return None
    resolved = path.resolve()
    try:
        shown = resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        shown = path.as_posix()  # outside the repository: keep it as the user wrote it
    bound = limits.active().manifest_bytes
    try:
        with open(path, "rb") as stream:
            data = stream.read(bound + 1)
    except OSError as exc:
        raise UsageError(f"--dockerfile {path}: cannot read ({exc.strerror or exc})") from None
    try:
        if len(data) > bound:
            raise limits.LimitExceededError(shown, "manifest_bytes")
        with expansion_budget():
            return parse_dockerfile(data.decode("utf-8", errors="replace"), shown)
    except limits.LimitExceededError as exc:
        _unanchored(shown, exc, warnings)
        return None


def _anchor(
    vulnerabilities: tuple[Vulnerability, ...],
    target: ImageTarget,
    dockerfile: Dockerfile,
    warnings: list[ScanWarning],
) -> tuple[Vulnerability, ...]:
    """Point image findings at the Dockerfile line that introduced them (see `ci_security.anchor`);
    past a limit while matching, the findings stay unanchored and a warning says why.
    """
    from ci_security import limits
    from ci_security.anchor import anchor_vulnerabilities
    from ci_security.manifests.dockerfile import expansion_budget

    try:
        with expansion_budget():
            return anchor_vulnerabilities(vulnerabilities, target, dockerfile)
    except limits.LimitExceededError as exc:
        _unanchored(dockerfile.path, exc, warnings)
        return vulnerabilities


def _unanchored(shown: str, exc: Exception, warnings: list[ScanWarning]) -> None:
    message = f"findings not anchored to Dockerfile lines: {exc}"
    # Every finding is still reported, only without a line: advice, not a partial scan.
    warnings.append(ScanWarning(source="anchor", path=shown, message=message, partial=False))


def _judge(
    observed: Observed, runtime: RuntimePolicy, dockerfile: Dockerfile | None, warnings: list[ScanWarning]
) -> tuple[RuntimeFinding, ...]:
    """The runtime rules' findings on the dynamic run, pointing at the Dockerfile's ENTRYPOINT/CMD."""
    from ci_security.anchor import entrypoint_location
    from ci_security.destinations import parse_destination
    from ci_security.rules.runtime.base import RuntimeContext
    from ci_security.rules.runtime.runner import check_run

    context = RuntimeContext(
        run=observed.run,
        expect=runtime.expect,
        exit_codes=runtime.exit_codes,
        allowed=tuple(parse_destination(item) for item in runtime.allowed_destinations),
    )
    location = entrypoint_location(dockerfile) if dockerfile is not None else None
    findings, failures = check_run(context, location=location, enable=runtime.enable)
    warnings.extend(observed.warnings)
    warnings.extend(failures)
    return findings


@dataclass(frozen=True, slots=True)
class _ManifestCheck:
    findings: tuple[Misconfiguration, ...]
    checked: frozenset[str]  # the files checked, as reports show them
    summary: ManifestSummary


def _check_manifests(
    paths: tuple[Path, ...],
    options: ScanOptions,
    rules_enable: tuple[str, ...],
    rules_disable: tuple[str, ...],
) -> _ManifestCheck:
    """Manifest-check findings for every manifest under `paths` (see `ci_security.rules`), the files
    checked, and the summary of what was checked (files of each kind, objects, custom resources).

    A path given with `--manifests` under which nothing is a Dockerfile, a Kubernetes manifest or a
    compose file is an error naming it: a typo in the path, or a step pointed at the wrong directory,
    must not pass as "no findings". The repository root itself (checked when nothing is named, and
    the GitHub Action's default `.`) may hold none, when the step only scans an image; the summary and
    a note (`manifest_notes`) then say that nothing was checked.
    """
    from ci_security.rules.discover import discover
    from ci_security.rules.runner import check_manifest

    found: list[Misconfiguration] = []
    kinds: Counter[str] = Counter()
    custom: Counter[tuple[str, str]] = Counter()
    objects = 0
    checked: set[str] = set()
    root = repo_root(options)
    explicit = bool(options.manifests)
    for given in paths:
        matched = 0
        for manifest in discover([given], root):
            if manifest.shown in checked:
                matched += 1
                continue
            result = check_manifest(manifest.path, manifest.shown, rules_enable, rules_disable)
            if result.kind is None:
                continue
            matched += 1
            checked.add(manifest.shown)
            kinds[result.kind] += 1
            objects += result.objects
            custom.update(result.custom)
            found.extend(result.findings)
        if explicit and not matched and not _is_root(given, root):
            raise UsageError(
                f"--manifests {given}: no Dockerfile, Kubernetes manifest or compose file found there"
            )
    summary = ManifestSummary(
        files=tuple(sorted(kinds.items())),
        objects=objects,
        custom_resources=tuple(sorted((api, kind, n) for (api, kind), n in custom.items())),
    )
    return _ManifestCheck(tuple(sorted(found, key=Misconfiguration.sort_key)), frozenset(checked), summary)


def _is_root(path: Path, root: Path) -> bool:
    try:
        return path.resolve() == root.resolve()
    except OSError:
        return False


def manifest_notes(summary: ManifestSummary) -> list[ScanWarning]:
    """Notes (not partial-scan warnings) about what the manifest checks did not cover: nothing found
    at all, or custom resources, which no rule checks. Said once per scan, not once per object.
    """
    notes: list[ScanWarning] = []
    if summary.total == 0:
        notes.append(
            ScanWarning(
                source="manifests",
                message="no Dockerfile, Kubernetes manifest or compose file found; nothing was checked",
                partial=False,
            )
        )
    if summary.custom_resources:
        count = sum(n for _, _, n in summary.custom_resources)
        kinds = sorted(summary.custom_resources, key=lambda item: (-item[2], item[0], item[1]))
        shown = ", ".join(f"{kind} ({api}) x{n}" for api, kind, n in kinds[:5])
        more = f" and {len(kinds) - 5} more kinds" if len(kinds) > 5 else ""
        notes.append(
            ScanWarning(
                source="manifests",
                message=f"{count} custom resources not checked (no rules for custom kinds): {shown}{more}",
                partial=False,
            )
        )
    return notes


def _config_user(config: Mapping[str, Any]) -> str | None:
    inner = config.get("config")
    user = inner.get("User") if isinstance(inner, dict) else None
    return user if isinstance(user, str) else None


def _staleness(db: VulnDB, max_age_hours: float) -> ScanWarning | None:
    age = db.age_hours()
    if age is None or age <= max_age_hours:
        return None
    return ScanWarning(
        source="vulndb",
        message=f"the vulnerability database is {age / 24:.1f} days old (updated {db.updated()}); "
        "run `ci-security db update`",
        partial=False,
    )


@dataclass(frozen=True, slots=True)
class _Imports:
    packages: tuple[Package, ...] = ()
    vulnerabilities: tuple[Vulnerability, ...] = ()
    misconfigurations: tuple[Misconfiguration, ...] = ()
    # True when a report came from a vulnerability scan (a Trivy config report is not one).
    vulnerabilities_scanned: bool = False


def _load_imports(options: ScanOptions) -> _Imports:
    from ci_security.ingest.registry import IMPORTERS

    root = repo_root(options)
    packages: dict[tuple[str, str, str, str], Package] = {}
    found: list[Vulnerability] = []
    misconfigurations: list[Misconfiguration] = []
    scanned = False
    for tool, path in options.imports:
        importer = IMPORTERS.get(tool)
        if importer is None:
            raise UsageError(f"no importer named {tool!r} (choose from {', '.join(IMPORTERS)})")
        imported = importer.load(path, root)
        scanned = scanned or imported.vulnerability_scan
        for pkg in imported.packages:
            packages.setdefault((pkg.type, pkg.name, pkg.version, pkg.path), pkg)
        found.extend(imported.vulnerabilities)
        misconfigurations.extend(imported.misconfigurations)
    return _Imports(
        packages=tuple(packages[k] for k in sorted(packages)),
        vulnerabilities=tuple(found),
        misconfigurations=tuple(misconfigurations),
        vulnerabilities_scanned=scanned,
    )


def _merge_misconfigurations(
    own: tuple[Misconfiguration, ...],
    imported: tuple[Misconfiguration, ...],
    checked: frozenset[str],
    options: ScanOptions,
) -> tuple[Misconfiguration, ...]:
    """Our findings plus imported ones. An imported finding whose check is one of a rule's `peers`
    becomes a finding of that rule, with our title, severity and remediation (Checkov has no
    severities and Trivy's Dockerfile ones are not calibrated). It is dropped when we checked that
    file ourselves: our rule ran there with exact lines and our own split of concepts (Trivy's one
    hostPath check is three of ours), so the tool's version would only repeat or blur it. Imported
    findings of checks we do not have are always kept, and the same rule at the same line from two
    reports is kept once.
    """
    from ci_security.rules.registry import all_metadata
    from ci_security.rules.runner import fingerprint

    by_peer = {(tool, pid.upper()): meta for meta in all_metadata() for tool, pid in meta.peers}
    seen = {(m.rule_id, m.path, m.line) for m in own}
    root = repo_root(options)
    lines: dict[str, list[str]] = {}
    occurrences: Counter[tuple[str, str, str, str]] = Counter()
    merged = list(own)
    for item in imported:
        meta = by_peer.get((item.found_by, item.peer_id.upper()))
        if meta is not None:
            item = replace(
                item,
                rule_id=meta.id,
                title=meta.title,
                severity=meta.severity,
                remediation=meta.remediation or item.remediation,
                references=meta.references or item.references,
            )
        if meta is not None and item.path in checked:
            continue
        key = (item.rule_id, item.path, item.line)
        if key in seen:
            continue
        seen.add(key)
        text = _line_text(root, item.path, item.line, lines)
        count_key = (item.rule_id, item.path, item.resource, text)
        occurrences[count_key] += 1
        merged.append(
            replace(
                item,
                fingerprint=fingerprint(item.rule_id, item.path, item.resource, text, occurrences[count_key]),
            )
        )
    return tuple(sorted(merged, key=Misconfiguration.sort_key))


def _line_text(root: Path, path: str, line: int | None, cache: dict[str, list[str]]) -> str:
    """The text of `line` in the repository file `path` ("" when it cannot be read), for fingerprints."""
    if line is None:
        return ""
    if path not in cache:
        try:
            cache[path] = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            cache[path] = []
    text = cache[path]
    return text[line - 1] if 0 < line <= len(text) else ""


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


def _scan_image(
    options: ScanOptions, prepared: Prepared | None, runtime: RuntimePolicy
) -> tuple[ImageTarget, Inventory, Observed | None]:
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
        observed = None
        try:
            inventory = catalog_image(
                image,
                CATALOGERS,
                tmpdir=workdir / "catalog",
                progress=options.progress,
                workers=options.workers,
                cache=cache,
            )
            if prepared is not None and options.sandbox is not None:
                from ci_security.sandbox.dynamic import observe

                observed = observe(
                    image,
                    prepared,
                    options.sandbox,
                    duration=options.sandbox.duration or runtime.duration,
                    packages=inventory.packages,
                    owners=inventory.owners,
                )
                inventory = replace(inventory, packages=observed.packages)
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
        user=_config_user(image.config),
    )
    return target, inventory, observed
