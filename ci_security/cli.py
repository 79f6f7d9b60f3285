"""Command line: the only module that prints or chooses an exit code.

Exit codes (`errors.py`): 0 passed · 1 policy failed · 2 usage, configuration or input error ·
3 internal error, or a partial scan (warnings) with `--strict`. Every option can also be set with a
`CI_SECURITY_*` environment variable; a flag on the command line wins (the options are in
`options.py`).

`scan` and `ci` are runs of the CI layer (`ci.run_scan`, `ci.run_step`): they yield the lines to
print and return the exit code; this module prints each line as it comes and exits. Every line
printed goes through `sanitize` (`_say` and messages: `log_line`; reports on standard output:
`log_output`), because it can hold a path, a package name or a message from the image, and CI logs
interpret some text (GitHub's `::command::` lines, escape sequences). Lines a CI system reads
(workflow commands, masks, log sections) are made safe where they are built and printed as they are.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ci_security import __version__, options, sanitize
from ci_security.errors import EXIT_ERROR, EXIT_INTERNAL, EXIT_PASS, CiSecurityError, UsageError

if TYPE_CHECKING:
    from ci_security.ci import Line


def _say(line: str, *, err: bool = False) -> None:
    """Print one line, made safe for a terminal and a CI log (`sanitize.log_line`)."""
    click.echo(sanitize.log_line(line), err=err)


def _echo(line: Line) -> None:
    if line.kind == "message":
        _say(line.text, err=True)
    elif line.kind == "report":
        click.echo(sanitize.log_output(line.text), nl=False)
    else:
        click.echo(line.text, color=True)  # GitLab's section markers are escape sequences


def _drain(steps: Generator[Line, None, int]) -> int:
    """Print a run's lines as they come; its exit code."""
    while True:
        try:
            line = next(steps)
        except StopIteration as done:
            return int(done.value)
        _echo(line)


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


def _terminal_width() -> int | None:
    """Standard output's width when it is a terminal (at least 80), else None."""
    if not sys.stdout.isatty():
        return None
    try:
        return max(80, os.get_terminal_size().columns)
    except OSError:
        return 120


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, "--version", "-V", prog_name="ci-security")
def main() -> None:
    """Scan the container image your pipeline just built."""


@main.command()
@options.scan_options
def scan(**params: Any) -> None:
    """Scan an image, decide against the policy, and write reports.

    Exit 0 when the policy passes, 1 when it fails, 2 on a usage, configuration or input error.
    """

    def body() -> int:
        from ci_security import ci

        run = options.to_run_options(params, terminal_width=_terminal_width())
        return _drain(ci.run_scan(options.to_scan_options(params), run))

    _guard(body, params["limit_items"])


@main.command("ci")
@options.scan_options
@options.ci_options
def ci_step(**params: Any) -> None:
    """The CI step: scan, write the reports, annotate, comment on the pull/merge request, gate.

    Reads GitHub Actions' or GitLab CI's environment (see docs/github.md and docs/gitlab.md). Exit 0
    when the policy passes (or --no-fail-build), 1 when it fails, 2 on an error; a comment or upload
    that fails never changes the exit code.
    """

    def body() -> int:
        from ci_security import ci

        scan_options = options.to_scan_options(params)
        run = options.to_run_options(params, terminal_width=_terminal_width())
        return _drain(ci.run_step(scan_options, run, options.to_step_options(params)))

    _guard(body, params["limit_items"])


@main.group()
def db() -> None:
    """Manage the vulnerability database (OSV data in one SQLite file)."""


@db.command("update")
@options.db_option()
@click.option(
    "--ecosystem",
    "ecosystems",
    multiple=True,
    metavar="NAME",
    **options.env("ECOSYSTEM"),
    help="OSV ecosystem or source to download (repeatable): Debian, PyPI, ..., 'Amazon Linux:2023', "
    "'Oracle Linux:9', NVD, CVE, KEV, EPSS. Default: the common distributions and languages, NVD, KEV, EPSS.",
)
@click.option(
    "--mirror",
    metavar="URL",
    **options.env("OSV_MIRROR"),
    help="Base URL of the OSV exports (default https://osv-vulnerabilities.storage.googleapis.com).",
)
@click.option(
    "--full",
    is_flag=True,
    **options.env("DB_FULL"),
    help="Download every ecosystem whole, not incrementally.",
)
@options.feed_options
@click.option(
    "--from",
    "repository",
    metavar="REF",
    **options.env("DB_REPOSITORY"),
    help="Pull the whole database from this registry repository instead, where `db push` put it (as "
    "`db pull REF`), e.g. ghcr.io/ORG/ci-security-db.",
)
@options.db_registry_options
@options.db_signer_options
@options.limit_option()
def db_update(
    db_path: Path | None,
    ecosystems: tuple[str, ...],
    mirror: str | None,
    full: bool,
    nvd_api_key: str | None,
    feed_mirrors: tuple[str, ...],
    repository: str | None,
    limit_items: tuple[str, ...],
    **registry: Any,
) -> None:
    """Download OSV exports and the other sources into the database (all or nothing); or, with
    --from, pull a database built once elsewhere (see docs/database.md).
    """

    def body() -> int:
        from ci_security.vulndb.feeds.sources import parse_feed_mirrors
        from ci_security.vulndb.store import default_db_path
        from ci_security.vulndb.sync import DEFAULT_ECOSYSTEMS, DEFAULT_MIRROR, update

        path = db_path or default_db_path()
        if repository:
            given = [
                flag
                for flag, value in (("--ecosystem", ecosystems), ("--mirror", mirror), ("--full", full))
                if value
            ]
            if given:
                raise UsageError(f"--from pulls a whole database: {', '.join(given)} cannot apply to it")
            return _pull(repository, path, registry)
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


def _pull(reference: str, path: Path, params: dict[str, Any]) -> int:
    from ci_security.vulndb.artifact import pull

    pulled = pull(reference, path, options.registry_access(params), signer=options.signer(params))
    for warning in pulled.warnings:
        _say(f"ci-security: warning: {warning}", err=True)
    source = f"{pulled.reference}@{pulled.digest}"
    if pulled.status == "current":
        built = pulled.built or "at an unknown time"
        _say(f"{source}: the database is current (built {built}); nothing downloaded")
    else:
        _say(f"{source}: pulled (built {pulled.built or 'at an unknown time'})")
    _say(f"database: {path}")
    return EXIT_PASS


@db.command("pull")
@options.db_option()
@click.argument("reference", metavar="REF", envvar="CI_SECURITY_DB_REPOSITORY", required=True)
@options.db_registry_options
@options.db_signer_options
@options.limit_option()
def db_pull(db_path: Path | None, reference: str, limit_items: tuple[str, ...], **registry: Any) -> None:
    """Pull the database from a registry (REF, or $CI_SECURITY_DB_REPOSITORY), where `db push` put it.

    Only when the tag names another database than the one in place: one HEAD request otherwise. The
    download is checked (digest, schema, SQLite's quick_check) before it replaces the database; on
    any failure the database in place stays as it was (exit 2).
    """

    def body() -> int:
        from ci_security.vulndb.store import default_db_path

        return _pull(reference, db_path or default_db_path(), registry)

    _guard(body, limit_items)


@db.command("push")
@options.db_option()
@click.argument("references", metavar="REF...", nargs=-1, required=True)
@click.option(
    "--chunk-size",
    metavar="SIZE",
    **options.env("DB_CHUNK_SIZE"),
    help="Upload in requests of at most SIZE (e.g. 64MiB), for proxies that cap a request's body; "
    "default: one request per blob.",
)
@click.option(
    "--source",
    metavar="URL",
    **options.env("DB_SOURCE"),
    help="Where the builder runs, for the artifact's org.opencontainers.image.source annotation "
    "(default: the CI project's URL, when the CI says it).",
)
@options.db_registry_options
@options.limit_option()
def db_push(
    db_path: Path | None,
    references: tuple[str, ...],
    chunk_size: str | None,
    source: str | None,
    limit_items: tuple[str, ...],
    **registry: Any,
) -> None:
    """Publish the database as an OCI artifact to each REF (e.g. ghcr.io/ORG/ci-security-db).

    One zstd layer (the SQLite file after VACUUM), a config with the schema, build time, sources and
    counts. A blob a repository has already is not sent again; one pushed to an earlier REF on the
    same registry is mounted from there. Without a tag, REF gets the database's schema version.
    """

    def body() -> int:
        from ci_security.vulndb.artifact import push
        from ci_security.vulndb.store import default_db_path

        size = _size(chunk_size, "--chunk-size") if chunk_size else None
        path = db_path or default_db_path()
        done = push(
            path,
            references,
            options.registry_access(registry),
            chunk_size=size,
            source=source or _ci_source(),
        )
        for pushed in done:
            blobs = ", ".join(f"{digest[:19]} {how}" for digest, how in pushed.blobs)
            _say(f"{pushed.reference}@{pushed.digest}: pushed ({blobs})")
        return EXIT_PASS

    _guard(body, limit_items)


def _size(text: str, flag: str) -> int:
    import re

    from ci_security import limits

    match = re.fullmatch(r"(?i)\s*(\d+)\s*(k|kib|m|mib|g|gib)?\s*", text)
    if match is None or int(match.group(1)) <= 0:
        raise UsageError(f"{flag} {text!r}: expected a size such as 64MiB")
    factor = {"": 1, "k": limits.KiB, "m": limits.MiB, "g": limits.GiB}[(match.group(2) or "")[:1].lower()]
    return int(match.group(1)) * factor


def _ci_source() -> str | None:
    """The CI project's URL, when the CI system says it (GitHub Actions, GitLab CI)."""
    server, repository = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    if server and repository:
        return f"{server.rstrip('/')}/{repository}"
    return os.environ.get("CI_PROJECT_URL") or None


@db.command("import")
@options.db_option()
@options.limit_option()
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
@options.db_option()
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
@options.limit_option()
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
