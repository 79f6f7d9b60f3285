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


@main.command("sandbox")
@options.scan_options
@options.sandbox_options
def sandbox(**params: Any) -> None:
    """Scan an image and run its entrypoint in a sandbox: judge what it does, mark the packages it loads.

    The dynamic scan (docs/dynamic.md): the scan of `scan --image`, then the image's ENTRYPOINT and CMD
    run for --duration in new namespaces with no network, traced; runtime findings (RT001…) and the
    packages in use join the same reports and policy decision. Exit 0 when the policy passes, 1 when
    it fails, 2 on an error, including any isolation step that cannot be set up (nothing is run then).
    """

    def body() -> int:
        from ci_security import ci

        if not params["image"]:
            raise UsageError("sandbox needs an image: --image REF (or CI_SECURITY_IMAGE)")
        run = options.to_run_options(params, terminal_width=_terminal_width())
        return _drain(ci.run_scan(options.to_scan_options(params, dynamic=True), run))

    _guard(body, params["limit_items"])


@main.command("ci")
@options.scan_options
@options.ci_options
@options.sandbox_options
def ci_step(**params: Any) -> None:
    """The CI step: scan, write the reports, annotate, comment on the pull/merge request, gate.

    Reads GitHub Actions' or GitLab CI's environment (see docs/github.md and docs/gitlab.md). Exit 0
    when the policy passes (or --no-fail-build), 1 when it fails, 2 on an error; a comment or upload
    that fails never changes the exit code.
    """

    def body() -> int:
        from ci_security import ci

        scan_options = options.to_scan_options(params, dynamic=params["dynamic"])
        run = options.to_run_options(params, terminal_width=_terminal_width())
        return _drain(ci.run_step(scan_options, run, options.to_step_options(params)))

    _guard(body, params["limit_items"])


@main.command("fix")
@options.fix_options
def fix_command(**params: Any) -> None:
    """Propose fixes: base-image bumps with scanned evidence and dependency bumps, one pull/merge
    request per update (docs/fix.md).

    Prints the plan (and with --dry-run, or outside a CI system, the diffs) and exits 0; 2 on a usage,
    configuration or input error. Pull/merge requests that cannot be opened are notices, not errors.
    """

    def body() -> int:
        from ci_security import ci

        run = ci.RunOptions(display=options.to_run_display(params))
        return _drain(ci.run_fix(options.to_fix_scan_options(params), run, options.to_fix_options(params)))

    _guard(body, params["limit_items"])


@main.group()
def db() -> None:
    """Manage the vulnerability database (OSV data in one SQLite file)."""


@db.command("update")
@options.db_option()
@options.db_update_options
@options.feed_options
@options.db_registry_options
@options.db_signer_options
@options.limit_option()
def db_update(**params: Any) -> None:
    """Download OSV exports and the other sources into the database (all or nothing); or, with
    --from, pull a database built once elsewhere (see docs/database.md).
    """

    def body() -> int:
        from ci_security import dbcommands

        path = _db_path(params)
        if params["repository"]:
            dbcommands.check_update_from(params["ecosystems"], params["mirror"], params["full"])
            return _drain(dbcommands.pull(params["repository"], path, *_db_access(params)))
        return _drain(
            dbcommands.update(
                path,
                params["ecosystems"],
                mirror=params["mirror"],
                full=params["full"],
                feed_mirrors=params["feed_mirrors"],
                nvd_api_key=params["nvd_api_key"],
            )
        )

    _guard(body, params["limit_items"])


def _db_path(params: dict[str, Any]) -> Path:
    from ci_security.vulndb.store import default_db_path

    return params["db_path"] or default_db_path()


def _db_access(params: dict[str, Any]) -> tuple[Any, Any]:
    return options.registry_access(params), options.signer(params)


@db.command("pull")
@options.db_option()
@click.argument("reference", metavar="REF", envvar="CI_SECURITY_DB_REPOSITORY", required=True)
@options.db_registry_options
@options.db_signer_options
@options.limit_option()
def db_pull(**params: Any) -> None:
    """Pull the database from a registry (REF, or $CI_SECURITY_DB_REPOSITORY), where `db push` put it.

    Only when the tag names another database than the one in place: one HEAD request otherwise. The
    download is checked (digest, schema, SQLite's quick_check) before it replaces the database; on
    any failure the database in place stays as it was (exit 2).
    """

    def body() -> int:
        from ci_security import dbcommands

        return _drain(dbcommands.pull(params["reference"], _db_path(params), *_db_access(params)))

    _guard(body, params["limit_items"])


@db.command("push")
@options.db_option()
@click.argument("references", metavar="REF...", nargs=-1, required=True)
@options.db_push_options
@options.db_registry_options
@options.limit_option()
def db_push(**params: Any) -> None:
    """Publish the database as an OCI artifact to each REF (e.g. ghcr.io/ORG/ci-security-db).

    One zstd layer (the SQLite file after VACUUM), a config with the schema, build time, sources and
    counts. A blob a repository has already is not sent again; one pushed to an earlier REF on the
    same registry is mounted from there. Without a tag, REF gets the database's schema version.
    """

    def body() -> int:
        from ci_security import dbcommands

        steps = dbcommands.push(
            _db_path(params),
            params["references"],
            options.registry_access(params),
            chunk_size=params["chunk_size"],
            source=params["source"],
        )
        return _drain(steps)

    _guard(body, params["limit_items"])


@db.command("import")
@options.db_option()
@options.limit_option()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def db_import(**params: Any) -> None:
    """Import OSV records from .json/.yaml files, folders or all.zip exports."""

    def body() -> int:
        from ci_security import dbcommands

        return _drain(dbcommands.import_(_db_path(params), params["paths"]))

    _guard(body, params["limit_items"])


@db.command("info")
@options.db_option()
def db_info(**params: Any) -> None:
    """Show what the database holds and how old it is."""

    def body() -> int:
        from ci_security import dbcommands

        return _drain(dbcommands.info(_db_path(params)))

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
        from ci_security.rules.runtime.registry import RULE_IDS

        problems = check_policy(path, datetime.now(UTC).date(), RULE_IDS)
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
