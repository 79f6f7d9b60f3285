"""Command line: the only module that prints or chooses an exit code.

Exit codes (DESIGN.md): 0 passed · 1 policy failed · 2 usage, configuration or input error ·
3 internal error, or a partial scan (warnings) with `--strict`. Every option can also be set with a
`CI_SECURITY_*` environment variable; a flag on the command line wins.

Every line printed goes through `sanitize` (`_say`: `log_line`; reports on standard output:
`log_output`), because it can hold a path, a package name or a message from the image, and CI logs
interpret some text (GitHub's `::command::` lines, escape sequences).
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ci_security import __version__, sanitize
from ci_security.errors import CiSecurityError, ReportError, UsageError

if TYPE_CHECKING:
    from ci_security.models import Decision, ScanResult
    from ci_security.policy.model import Policy
    from ci_security.progress import ProgressSink
    from ci_security.scan import ScanOptions

EXIT_PASS, EXIT_FAIL, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 3
_FORMATS = ("table", "json", "sarif", "gitlab", "codequality", "markdown", "cyclonedx", "openvex")


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """One `--output FORMAT[=FILE]`; no file means standard output."""

    format: str
    path: Path | None


def parse_output(value: str) -> OutputSpec:
    name, sep, path = value.partition("=")
    name = name.strip().lower()
    if name not in _FORMATS:
        raise UsageError(
            f"unknown output format {name!r} in --output {value!r} (choose from {', '.join(_FORMATS)})"
        )
    if sep and not path:
        raise UsageError(f"--output {value!r}: nothing after '='")
    return OutputSpec(name, Path(path) if sep else None)


def parse_age(value: str) -> float:
    """Hours in `12h`, `5d`, `90m` or a bare number of hours."""
    text = value.strip().lower()
    units = {"m": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}
    try:
        if text and text[-1] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)
    except ValueError:
        raise UsageError(f"invalid age {value!r}: use a number with m, h, d or w (e.g. 12h, 5d)") from None


def write_atomically(path: Path, text: str) -> None:
    """Write a report so that readers never see half of it: temp file in the same directory, then
    rename; on any failure the temp file is removed and the old report (if any) stays.
    """
    directory = path.parent if str(path.parent) else Path()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _RichProgress:
    """Layer and byte progress on stderr (only when stderr is a terminal)."""

    def __init__(self) -> None:
        # rich costs ~60 ms to import; only interactive runs draw progress.
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TaskID,
            TextColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> _RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start(self, task: str, total: int | None) -> None:
        with self._lock:
            # The description is rich markup and can hold a digest from the image.
            self._tasks[task] = self._progress.add_task(sanitize.rich_markup(task), total=total)

    def advance(self, task: str, amount: int) -> None:
        task_id = self._tasks.get(task)
        if task_id is not None:
            self._progress.advance(task_id, amount)

    def finish(self, task: str) -> None:
        with self._lock:
            task_id = self._tasks.pop(task, None)
        if task_id is not None:
            self._progress.remove_task(task_id)


@contextmanager
def _progress_display(enabled: bool) -> Iterator[ProgressSink | None]:
    if not enabled:
        yield None
        return
    with _RichProgress() as progress:
        yield progress


def _say(line: str, *, err: bool = False) -> None:
    """Print one line, made safe for a terminal and a CI log (`sanitize.log_line`)."""
    click.echo(sanitize.log_line(line), err=err)


def _fail(message: str, code: int) -> NoReturn:
    _say(f"ci-security: error: {message}", err=True)
    sys.exit(code)


def _guard(action: Callable[[], int], limit_items: tuple[str, ...] = ()) -> NoReturn:
    """Run a command body under the `--limit` values given; map errors to one line on stderr and
    the documented exit code.
    """
    from ci_security import limits

    try:
        overrides = limits.parse_assignments(limit_items)
        with limits.use(limits.with_overrides(limits.DEFAULTS, overrides)):
            code = action()
    except CiSecurityError as exc:
        _fail(str(exc), EXIT_ERROR)
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_INTERNAL)
    except Exception as exc:
        if os.environ.get("CI_SECURITY_DEBUG"):
            traceback.print_exc()
        _fail(
            f"internal error: {exc.__class__.__name__}: {exc} (set CI_SECURITY_DEBUG=1 for a traceback)",
            EXIT_INTERNAL,
        )
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, "--version", "-V", prog_name="ci-security")
def main() -> None:
    """Scan the container image your pipeline just built."""


def _env(name: str) -> dict[str, Any]:
    return {"envvar": f"CI_SECURITY_{name}", "show_envvar": True}


_SCAN_OPTIONS: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
    click.option(
        "--image",
        "-i",
        metavar="REF",
        **_env("IMAGE"),
        help="Image to scan: docker-archive:PATH, oci:DIR[:TAG], oci-archive:PATH, docker://REF, "
        "docker-daemon:NAME:TAG, or a bare registry reference.",
    ),
    click.option(
        "--manifests",
        "-m",
        multiple=True,
        type=click.Path(path_type=Path),
        metavar="PATH",
        **_env("MANIFESTS"),
        help="Check the Dockerfiles, Kubernetes and compose files under PATH (repeatable). Without --image "
        "or --from-*, the repository root is checked.",
    ),
    click.option(
        "--output",
        "-o",
        "outputs",
        multiple=True,
        metavar="FORMAT[=FILE]",
        **_env("OUTPUT"),
        help=f"Report to write; repeat for several. FORMAT is one of {', '.join(_FORMATS)}; "
        "without =FILE it goes to standard output. Default: table.",
    ),
    click.option(
        "--no-vulns",
        is_flag=True,
        **_env("NO_VULNS"),
        help="Inventory only: list packages, do not look for vulnerabilities.",
    ),
    click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        **_env("DB"),
        help="Vulnerability database (default $XDG_CACHE_HOME/ci-security/db/osv.sqlite; "
        "see `ci-security db`).",
    ),
    click.option(
        "--db-max-age",
        default="5d",
        show_default=True,
        metavar="AGE",
        **_env("DB_MAX_AGE"),
        help="Warn when the vulnerability database is older than this (e.g. 12h, 5d).",
    ),
    click.option(
        "--from-trivy",
        "from_trivy",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        **_env("FROM_TRIVY"),
        help="Import the findings of a Trivy JSON report: vulnerabilities and config checks (repeatable).",
    ),
    click.option(
        "--from-grype",
        "from_grype",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        **_env("FROM_GRYPE"),
        help="Import the findings of a Grype JSON report (repeatable).",
    ),
    click.option(
        "--from-hadolint",
        "from_hadolint",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        **_env("FROM_HADOLINT"),
        help="Import the findings of a Hadolint JSON report (`hadolint -f json`; repeatable).",
    ),
    click.option(
        "--from-checkov",
        "from_checkov",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        **_env("FROM_CHECKOV"),
        help="Import the findings of a Checkov JSON report (`checkov -o json`; repeatable).",
    ),
    click.option(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        **_env("PLATFORM"),
        help="Platform to pick from a multi-platform image (default linux/amd64).",
    ),
    click.option(
        "--insecure-registry",
        "insecure_registries",
        multiple=True,
        metavar="HOST[:PORT]",
        **_env("INSECURE_REGISTRY"),
        help="Registry to reach over plain HTTP (loopback registries always are).",
    ),
    click.option(
        "--registry-username",
        metavar="USER",
        **_env("REGISTRY_USERNAME"),
        help="Registry user name (else ~/.docker/config.json).",
    ),
    click.option(
        "--registry-password",
        metavar="SECRET",
        **_env("REGISTRY_PASSWORD"),
        help="Registry password or token; prefer the environment variable to keep it out of `ps`.",
    ),
    click.option(
        "--docker-config",
        type=click.Path(dir_okay=False, path_type=Path),
        **_env("DOCKER_CONFIG"),
        help="Docker client config with registry credentials (default $DOCKER_CONFIG/config.json "
        "or ~/.docker/config.json).",
    ),
    click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        **_env("CACHE_DIR"),
        help="Where per-layer results are cached (default $XDG_CACHE_HOME/ci-security or "
        "~/.cache/ci-security).",
    ),
    click.option(
        "--no-cache",
        is_flag=True,
        **_env("NO_CACHE"),
        help="Read every layer; neither use nor fill the cache.",
    ),
    click.option(
        "--parallel",
        type=click.IntRange(1, 64),
        metavar="N",
        **_env("PARALLEL"),
        help="Layers read at once (default: CPU count, at most 4).",
    ),
    click.option(
        "--fail-on",
        type=click.Choice(["critical", "high", "medium", "low", "unknown", "none"], case_sensitive=False),
        **_env("FAIL_ON"),
        help="Lowest severity that fails the build, overriding the policy's fail_on.severity.",
    ),
    click.option(
        "--strict",
        is_flag=True,
        **_env("STRICT"),
        help="Exit 3 when the scan is partial (some file could not be read).",
    ),
    click.option(
        "--policy",
        "policy_path",
        type=click.Path(dir_okay=False, path_type=Path),
        **_env("POLICY"),
        help="Policy file (default: .ci-security.yml in the repository root if there is one, else "
        "fail on fixable HIGH and CRITICAL findings). See docs/policy.md.",
    ),
    click.option(
        "--baseline",
        "baseline_path",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="REPORT.json",
        **_env("BASELINE"),
        help="A previous JSON report (e.g. from the target branch): findings are marked new or existing, "
        "and fail_on.new_only fails only on new ones.",
    ),
    click.option(
        "--vex",
        "vex_paths",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        **_env("VEX"),
        help="OpenVEX document whose not_affected statements suppress findings (repeatable; added to the "
        "policy's vex list).",
    ),
    click.option(
        "--dockerfile",
        type=click.Path(dir_okay=False, path_type=Path),
        **_env("DOCKERFILE"),
        help="Dockerfile the image was built from; findings point at its lines (default: the Dockerfile "
        "found in the repository root).",
    ),
    click.option(
        "--repo-root",
        type=click.Path(file_okay=False, path_type=Path),
        **_env("REPO_ROOT"),
        help="Repository the report paths are relative to (default $GITHUB_WORKSPACE, $CI_PROJECT_DIR, "
        "or the working directory).",
    ),
    click.option(
        "--docs-url",
        metavar="URL",
        **_env("DOCS_URL"),
        help="Where ci-security's documentation is published (the docs/ folder of its repository); "
        "the Markdown report links rule ids to their section of rules.md there. Default: the package's "
        "Documentation URL, if it has one.",
    ),
    click.option("--quiet", "-q", is_flag=True, **_env("QUIET"), help="No progress display."),
]


def _limit_option() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--limit",
        "limit_items",
        multiple=True,
        metavar="NAME=VALUE",
        **_env("LIMIT"),
        help="Change a bound on untrusted input, e.g. layer-bytes=32GiB (repeatable; the environment "
        "variable takes several separated by spaces). See docs/security.md for the names and defaults.",
    )


_SCAN_OPTIONS.append(_limit_option())


def scan_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options `scan` and `ci` share (both scan; `ci` then talks to the platform)."""
    for option in reversed(_SCAN_OPTIONS):
        function = option(function)
    return function


@main.command()
@scan_options
def scan(**params: Any) -> None:
    """Scan an image, decide against the policy, and write reports.

    Exit 0 when the policy passes, 1 when it fails, 2 on a usage, configuration or input error.
    """

    def body(options: ScanOptions, policy: Policy) -> int:
        specs = [parse_output(value) for value in (params["outputs"] or ("table",))]
        docs_url = _docs_url(params["docs_url"])
        result, decision = _scan_and_decide(params, options, policy)
        _write_reports(specs, result, decision, docs_url=docs_url)
        return _verdict(result, decision, strict=params["strict"])

    _guard(_under_policy(params, body), params["limit_items"])


def _under_policy(params: dict[str, Any], body: Callable[[ScanOptions, Policy], int]) -> Callable[[], int]:
    """`body` run after the policy file is read (under the command line's limits only: its own
    `limits:` are not known yet) with its `limits:` in force beneath the `--limit` values, which
    win, for everything that follows: VEX, baseline, database update, image and manifests.
    """

    def run() -> int:
        from ci_security import limits
        from ci_security.scan import load_policy_file

        options = _scan_options(params)
        policy = load_policy_file(options)
        if not policy.limits:
            return body(options, policy)
        command_line = limits.parse_assignments(params["limit_items"])
        from_policy = limits.with_overrides(limits.DEFAULTS, dict(policy.limits))
        with limits.use(limits.with_overrides(from_policy, command_line)):
            return body(options, policy)

    return run


def _scan_options(params: dict[str, Any]) -> ScanOptions:
    # Imported here, not at the top, so `--help` and `--version` stay fast.
    from ci_security.scan import ScanOptions

    return ScanOptions(
        image=params["image"],
        vulns=not params["no_vulns"],
        platform=params["platform"],
        insecure_registries=params["insecure_registries"],
        registry_username=params["registry_username"],
        registry_password=params["registry_password"],
        docker_config=params["docker_config"],
        cache_dir=params["cache_dir"],
        use_cache=not params["no_cache"],
        workers=params["parallel"],
        db_path=params["db_path"],
        db_max_age_hours=parse_age(params["db_max_age"]),
        from_trivy=params["from_trivy"],
        from_grype=params["from_grype"],
        from_hadolint=params["from_hadolint"],
        from_checkov=params["from_checkov"],
        dockerfile=params["dockerfile"],
        repo_root=params["repo_root"],
        policy_path=params["policy_path"],
        baseline_path=params["baseline_path"],
        vex_paths=params["vex_paths"],
        manifests=params["manifests"],
    )


def _scan_and_decide(
    params: dict[str, Any], options: ScanOptions, policy: Policy
) -> tuple[ScanResult, Decision]:
    """Load the other policy inputs (before the image: a typo fails in a second), scan, and decide."""
    from ci_security.scan import decide, load_policy_inputs, run

    inputs = load_policy_inputs(options, policy)
    if params["fail_on"]:
        from ci_security.models import Severity

        chosen = params["fail_on"].upper()
        severity = None if chosen == "NONE" else Severity(chosen)
        policy = replace(inputs.policy, fail_on=replace(inputs.policy.fail_on, severity=severity))
        inputs = replace(inputs, policy=policy)
    options = replace(
        options, rules_enable=inputs.policy.checks.enable, severity_source=inputs.policy.severity_source
    )
    show_progress = not params["quiet"] and sys.stderr.isatty()
    with _progress_display(show_progress) as progress:
        result = run(replace(options, progress=progress))
    return result, decide(result, inputs)


def _docs_url(value: str | None) -> str:
    """The documentation URL reports link rule ids to: `--docs-url`, else the package's
    `Documentation` project URL, else "" (ids are not linked).
    """
    if value:
        url = sanitize.safe_url(value)
        if url is None:
            raise UsageError(f"--docs-url {value!r}: not an http(s) URL")
        return url
    from importlib import metadata

    try:
        entries = metadata.metadata("ci-security").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return ""
    for entry in entries:
        label, _, url = str(entry).partition(",")
        safe = sanitize.safe_url(url.strip())
        if label.strip().lower() == "documentation" and safe:
            return safe
    return ""


def _write_reports(
    specs: list[OutputSpec],
    result: ScanResult,
    decision: Decision,
    *,
    docs_url: str = "",
    log_rows: int | None = None,
    fence: tuple[str, str] | None = None,
) -> dict[Path, str]:
    """Render every report first (a rendering error writes nothing), then write or print each; the
    texts written, by file. Reports on standard output are guarded line by line
    (`sanitize.log_output`); `log_rows` caps the rows of the table there (the job log) and `fence` is
    a pair of lines printed around them (GitHub's stop-commands and its resume token).
    """
    from ci_security.report.base import RenderContext
    from ci_security.report.registry import REPORTERS

    rendered = []
    for spec in specs:
        to_terminal = spec.path is None and sys.stdout.isatty()
        context = RenderContext(
            color=to_terminal,
            # A CI log does not wrap: wide enough for one line per finding with every column.
            width=_width() if to_terminal else 180,
            max_rows=log_rows if spec.path is None and spec.format == "table" else None,
            docs_url=docs_url,
        )
        rendered.append((spec, REPORTERS[spec.format].render(result, decision, context)))
    printed = [text for spec, text in rendered if spec.path is None and text]
    for spec, text in rendered:
        if not text:
            where = str(spec.path) if spec.path else "standard output"
            _say(f"ci-security: note: {spec.format}: nothing to report, {where} not written", err=True)
        elif spec.path is not None:
            write_atomically(spec.path, text)
    if printed and fence:
        click.echo(fence[0])
    for text in printed:
        click.echo(sanitize.log_output(text), nl=False)
    if printed and fence:
        click.echo(fence[1])
    return {spec.path: text for spec, text in rendered if spec.path is not None and text}


def _verdict(result: ScanResult, decision: Decision, *, strict: bool) -> int:
    """Print the warnings and the policy's summary; the exit code they mean."""
    for warning in result.warnings:
        _say(f"ci-security: warning: {warning}", err=True)
    for gone in decision.expired:
        _say(
            f"ci-security: warning: {gone.source}: ignore entry for {gone.id} expired on {gone.expires}; "
            "it no longer suppresses anything",
            err=True,
        )
    _say(f"ci-security: policy {decision.summary}", err=True)
    # An incomplete scan cannot vouch for a pass or a fail, so --strict makes it an error first.
    if strict and result.partial:
        _say("ci-security: error: partial scan (see warnings) and --strict is set", err=True)
        return EXIT_INTERNAL
    return EXIT_PASS if decision.passed else EXIT_FAIL


def _width() -> int:
    try:
        return max(80, os.get_terminal_size().columns)
    except OSError:
        return 120


def _db_option() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        **_env("DB"),
        help="Database file (default $XDG_CACHE_HOME/ci-security/db/osv.sqlite).",
    )


@main.group()
def db() -> None:
    """Manage the vulnerability database (OSV data in one SQLite file)."""


def _feed_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options of the non-OSV sources, shared by `db update` and `ci` (docs/vulnerabilities.md)."""
    function = click.option(
        "--nvd-api-key",
        metavar="KEY",
        **_env("NVD_API_KEY"),
        help="NVD API key: 50 requests per 30 s instead of 5; sent to NVD's API only. Prefer the "
        "environment variable.",
    )(function)
    return click.option(
        "--feed-mirror",
        "feed_mirrors",
        multiple=True,
        metavar="NAME=URL",
        **_env("FEED_MIRROR"),
        help="Where a source is downloaded from instead: nvd (API), nvd-feed (NVD 2.0 JSON feed "
        "files), cve, kev, epss, redhat, amazon, oracle (repeatable; the variable takes several separated "
        "by spaces).",
    )(function)


@db.command("update")
@_db_option()
@click.option(
    "--ecosystem",
    "ecosystems",
    multiple=True,
    metavar="NAME",
    **_env("ECOSYSTEM"),
    help="OSV ecosystem or source to download (repeatable): Debian, PyPI, ..., 'Amazon Linux:2023', "
    "'Oracle Linux:9', NVD, CVE, KEV, EPSS. Default: the common distributions and languages, NVD, KEV, EPSS.",
)
@click.option(
    "--mirror",
    metavar="URL",
    **_env("OSV_MIRROR"),
    help="Base URL of the OSV exports (default https://osv-vulnerabilities.storage.googleapis.com).",
)
@click.option(
    "--full", is_flag=True, **_env("DB_FULL"), help="Download every ecosystem whole, not incrementally."
)
@_feed_options
@_limit_option()
def db_update(
    db_path: Path | None,
    ecosystems: tuple[str, ...],
    mirror: str | None,
    full: bool,
    nvd_api_key: str | None,
    feed_mirrors: tuple[str, ...],
    limit_items: tuple[str, ...],
) -> None:
    """Download OSV exports and the other sources into the database (all or nothing)."""

    def body() -> int:
        from ci_security.vulndb.feeds.sources import parse_feed_mirrors
        from ci_security.vulndb.store import default_db_path
        from ci_security.vulndb.sync import DEFAULT_ECOSYSTEMS, DEFAULT_MIRROR, update

        path = db_path or default_db_path()
        summary = update(
            path,
            ecosystems or DEFAULT_ECOSYSTEMS,
            mirror=mirror or DEFAULT_MIRROR,
            full=full,
            feeds=parse_feed_mirrors(feed_mirrors),
            nvd_api_key=nvd_api_key or None,
        )
        for ecosystem, (how, count) in summary.updated.items():
            _say(f"{ecosystem}: {how}, {count} record(s)")
        _say(f"database: {path}")
        return EXIT_PASS

    _guard(body, limit_items)


@db.command("import")
@_db_option()
@_limit_option()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def db_import(db_path: Path | None, paths: tuple[Path, ...], limit_items: tuple[str, ...]) -> None:
    """Import OSV records from .json/.yaml files, folders or all.zip exports."""

    def body() -> int:
        from ci_security.vulndb.store import default_db_path, import_paths

        path = db_path or default_db_path()
        summary = import_paths(path, paths)
        for ecosystem, count in sorted(summary.stored.items()):
            _say(f"{ecosystem}: {count} record(s)")
        for skipped in summary.skipped:
            _say(f"skipped (not an OSV record): {skipped}", err=True)
        _say(f"database: {path}")
        return EXIT_PASS

    _guard(body, limit_items)


@db.command("info")
@_db_option()
def db_info(db_path: Path | None) -> None:
    """Show what the database holds and how old it is."""

    def body() -> int:
        from ci_security.vulndb.store import VulnDB, default_db_path

        with VulnDB(db_path or default_db_path()) as vdb:
            total, withdrawn = vdb.count()
            _say(f"database:  {vdb.path}")
            _say(f"schema:    {vdb.meta('schema_version')}")
            _say(f"updated:   {vdb.updated() or 'unknown'}")
            hours = vdb.age_hours()
            if hours is not None:
                _say(f"age:       {int(hours // 24)} d {int(hours % 24)} h")
            _say(f"records:   {total} ({withdrawn} withdrawn, not matched)")
            rated, kev, epss = (vdb.count_rows(t) for t in ("cve_rating", "kev", "epss"))
            _say(f"cves:      {rated} CVSS record(s) (NVD, CVE 5), {kev} in CISA KEV, {epss} EPSS score(s)")
            for name, origin, records, last_modified, imported_at in vdb.source_rows():
                _say(
                    f"source:    {name}: {records} record(s), newest {last_modified or '-'}, "
                    f"imported {imported_at} from {origin}"
                )
        return EXIT_PASS

    _guard(body)


@main.group()
def policy() -> None:
    """Work with the policy file (.ci-security.yml)."""


@policy.command("check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default=".ci-security.yml")
@_limit_option()
def policy_check(path: Path, limit_items: tuple[str, ...]) -> None:
    """Validate a policy file: one `file:line:col: message` line per problem.

    Exit 0 when the file can be used (warnings and notes, such as an expired ignore entry, are
    printed but do not fail), 2 when it has errors.
    """

    def body() -> int:
        from datetime import UTC, datetime

        from ci_security.policy.load import check_policy

        problems = check_policy(path, datetime.now(UTC).date())
        for problem in problems:
            _say(str(problem))
        errors = sum(1 for p in problems if p.is_error)
        if errors:
            _say(f"ci-security: {path}: {errors} error(s)", err=True)
            return EXIT_ERROR
        extra = f" ({len(problems)} warning(s) or note(s))" if problems else ""
        _say(f"{path}: ok{extra}", err=True)
        return EXIT_PASS

    _guard(body, limit_items)


@main.command("ci")
@scan_options
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    **_env("REPORT_DIR"),
    help="Where the step writes its reports (JSON, Markdown, and SARIF or the GitLab reports).",
)
@click.option(
    "--comment/--no-comment",
    default=True,
    show_default=True,
    **_env("COMMENT"),
    help="Keep one summary comment on the pull/merge request up to date.",
)
@click.option(
    "--inline/--no-inline",
    default=True,
    show_default=True,
    **_env("INLINE"),
    help="Comment manifest findings on the changed lines of the pull/merge request.",
)
@click.option(
    "--upload-sarif/--no-upload-sarif",
    default=False,
    show_default=True,
    **_env("UPLOAD_SARIF"),
    help="Upload the SARIF to GitHub code scanning through the API (needs security-events: write).",
)
@click.option(
    "--fail-build/--no-fail-build",
    default=True,
    show_default=True,
    **_env("FAIL_BUILD"),
    help="Exit 1 when the policy fails; with --no-fail-build the step reports and exits 0.",
)
@click.option(
    "--comment-key",
    metavar="KEY",
    **_env("COMMENT_KEY"),
    help="Name of the sticky comment (default: the image name, or 'manifests'); one comment per key.",
)
@click.option(
    "--sarif-file",
    type=click.Path(dir_okay=False, path_type=Path),
    **_env("SARIF_FILE"),
    help="Where to write the SARIF report (default REPORT_DIR/ci-security.sarif).",
)
@click.option(
    "--db-update/--no-db-update",
    default=True,
    show_default=True,
    **_env("DB_UPDATE"),
    help="Before scanning an image, update the vulnerability database when it is missing or older than "
    "--db-max-age (incremental; a failed update with a usable database only warns).",
)
@click.option(
    "--mirror",
    metavar="URL",
    **_env("OSV_MIRROR"),
    help="Base URL of the OSV exports for the database update (default: the public OSV bucket).",
)
@_feed_options
def ci_step(**params: Any) -> None:
    """The CI step: scan, write the reports, annotate, comment on the pull/merge request, gate.

    Reads GitHub Actions' or GitLab CI's environment (see docs/github.md and docs/gitlab.md). Exit 0
    when the policy passes (or --no-fail-build), 1 when it fails, 2 on an error; a comment or upload
    that fails never changes the exit code.
    """

    def body(options: ScanOptions, policy: Policy) -> int:
        from ci_security import ci
        from ci_security.platforms.context import detect

        context = detect()
        github = context.platform == "github"
        if github:
            hidden = [
                params["registry_password"],
                params["nvd_api_key"],
                context.token,
                os.environ.get("CI_SECURITY_GITLAB_TOKEN"),
            ]
            for secret in ci.secrets_to_mask(hidden):
                click.echo(sanitize.workflow_command("add-mask", secret))
        directory: Path = params["report_dir"]
        reports = ci.report_paths(context.platform, directory)
        if params["sarif_file"] is not None and "sarif" in reports:
            reports["sarif"] = params["sarif_file"]
        extra = [parse_output(value) for value in params["outputs"]]
        specs = [OutputSpec(fmt, path) for fmt, path in reports.items()] + extra
        if not any(spec.format == "table" for spec in specs):
            specs.append(OutputSpec("table", None))
        docs_url = _docs_url(params["docs_url"])
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReportError(f"--report-dir {directory}: {exc.strerror or exc}") from None
        if params["db_update"] and params["image"] and not params["no_vulns"]:
            from ci_security.vulndb.feeds.sources import parse_feed_mirrors

            feeds = parse_feed_mirrors(params["feed_mirrors"])
            for line in ci.refresh_database(
                params["db_path"],
                parse_age(params["db_max_age"]),
                params["mirror"],
                feeds=feeds,
                nvd_api_key=params["nvd_api_key"] or None,
            ):
                _say(f"ci-security: {line}", err=True)
        result, decision = _scan_and_decide(params, options, policy)
        # On GitHub the reports printed to the log are fenced with stop-commands and a resume token
        # nobody can guess: the runner ignores any workflow command inside, whatever got through.
        resume = secrets.token_hex(16)
        fence = (f"::stop-commands::{resume}", f"::{resume}::") if github else None
        written = _write_reports(
            specs, result, decision, docs_url=docs_url, log_rows=ci.MAX_LOG_ROWS, fence=fence
        )
        markdown = written[reports["markdown"]]
        if github:
            for note in ci.workflow_annotations(result, decision):
                click.echo(note.command())
            if context.summary_path is not None:
                _append(context.summary_path, ci.step_summary(markdown, context.job_url))
        comment_url = None
        platform = ci.platform_for(context)
        if platform is not None:
            plan = ci.plan_for(
                context,
                comment=params["comment"],
                inline=params["inline"],
                upload_sarif=params["upload_sarif"],
            )
            sarif = written.get(reports["sarif"]) if "sarif" in reports else None
            key = ci.comment_key(result, params["comment_key"])
            body_text = ci.comment_body(markdown, context.job_url)
            inline = ci.inline_comments(result, decision)
            published = ci.publish(platform, key, body_text, inline, sarif, plan)
            comment_url = published.comment_url
            for line in published.lines:
                _say(f"ci-security: {line}", err=True)
            for line in ci.notice_lines(context.platform, published.notices, now=int(time.time())):
                click.echo(line, color=True)  # GitLab's section markers are escape sequences
        if context.output_path is not None:
            _append(context.output_path, ci.github_output(ci.outputs(result, decision, reports, comment_url)))
        code = _verdict(result, decision, strict=params["strict"])
        if code == EXIT_FAIL and not params["fail_build"]:
            _say("ci-security: the policy failed, but --no-fail-build is set: exit 0", err=True)
            return EXIT_PASS
        return code

    # The policy is read first: its limits: bound the database update too.
    _guard(_under_policy(params, body), params["limit_items"])


def _append(path: Path, text: str) -> None:
    """Append to a file the CI system reads after the step ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY)."""
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
