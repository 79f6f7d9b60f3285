"""The options of `ci-security scan`, `ci-security sandbox` and `ci-security ci`, stated once: the
table of click options (each with its `CI_SECURITY_*` variable), the `--from-NAME` options made from
the importer registry and `--output`'s formats from the report registry, and the functions that turn
what click parsed into the scan's, the run's and the CI step's options.

Imported by `cli.py` when it starts, so it imports only click and the registries at the top; the
scan and the CI layer are imported when a command runs (`--help` and `--version` stay fast).
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ci_security import limits
from ci_security.errors import UsageError
from ci_security.ingest.registry import IMPORTERS
from ci_security.policy.inputs import FAIL_ON_CHOICES
from ci_security.report.registry import REPORTERS

if TYPE_CHECKING:
    from ci_security.ci import RunOptions, StepOptions
    from ci_security.dbartifact.artifact import RegistryAccess
    from ci_security.dbartifact.signature import Signer
    from ci_security.fix.run import FixOptions
    from ci_security.ingest.base import Importer
    from ci_security.sandbox.dynamic import SandboxOptions
    from ci_security.scan import ScanOptions

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def env(name: str) -> dict[str, Any]:
    """The option's environment variable, `CI_SECURITY_<NAME>`, shown in `--help`."""
    return {"envvar": f"CI_SECURITY_{name}", "show_envvar": True}


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


def limit_option() -> Decorator:
    return click.option(
        "--limit",
        "limit_items",
        multiple=True,
        metavar="NAME=VALUE",
        **env("LIMIT"),
        help="Change a bound on untrusted input, e.g. layer-bytes=32GiB (repeatable; the environment "
        "variable takes several separated by spaces). See docs/security.md for the names and defaults.",
    )


def db_option() -> Decorator:
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        **env("DB"),
        help="Database file (default $XDG_CACHE_HOME/ci-security/db/osv.sqlite).",
    )


def import_parameter(name: str) -> str:
    """The Python name of `--from-NAME` (a tool's name may have dashes: `osv-scanner`)."""
    return f"from_{name.replace('-', '_')}"


def import_option(importer: Importer) -> Decorator:
    """`--from-NAME` for one registered importer, with `CI_SECURITY_FROM_NAME`."""
    kinds = " and ".join(importer.produces)
    return click.option(
        f"--from-{importer.name}",
        import_parameter(importer.name),
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        **env(import_parameter(importer.name).upper()),
        help=f"Import the {kinds} of {importer.report}; repeatable.",
    )


_SCAN: dict[str, list[Decorator]] = {
    "image": [
        click.option(
            "--image",
            "-i",
            metavar="REF",
            **env("IMAGE"),
            help="Image to scan: docker-archive:PATH, oci:DIR[:TAG], oci-archive:PATH, docker://REF, "
            "docker-daemon:NAME:TAG, or a bare registry reference.",
        )
    ],
    "manifests": [
        click.option(
            "--manifests",
            "-m",
            multiple=True,
            type=click.Path(path_type=Path),
            metavar="PATH",
            **env("MANIFESTS"),
            help="Check the Dockerfiles, Kubernetes and compose files under PATH (repeatable). Without "
            "--image or --from-*, the repository root is checked. A PATH other than the repository root "
            "under which no manifest is found is an error (exit 2).",
        )
    ],
    "output": [
        click.option(
            "--output",
            "-o",
            "outputs",
            multiple=True,
            metavar="FORMAT[=FILE]",
            **env("OUTPUT"),
            help=f"Report to write; repeat for several. FORMAT is one of {', '.join(REPORTERS)}; "
            "without =FILE it goes to standard output. Default: table.",
        )
    ],
    "no-vulns": [
        click.option(
            "--no-vulns",
            is_flag=True,
            **env("NO_VULNS"),
            help="Inventory only: list packages, do not look for vulnerabilities.",
        )
    ],
    "db": [
        click.option(
            "--db",
            "db_path",
            type=click.Path(dir_okay=False, path_type=Path),
            **env("DB"),
            help="Vulnerability database (default $XDG_CACHE_HOME/ci-security/db/osv.sqlite; "
            "see `ci-security db`).",
        )
    ],
    "db-max-age": [
        click.option(
            "--db-max-age",
            default="5d",
            show_default=True,
            metavar="AGE",
            **env("DB_MAX_AGE"),
            help="Warn when the vulnerability database is older than this (e.g. 12h, 5d).",
        )
    ],
    "imports": [import_option(importer) for importer in IMPORTERS.values()],
    "platform": [
        click.option(
            "--platform",
            metavar="OS/ARCH[/VARIANT]",
            **env("PLATFORM"),
            help="Platform to pick from a multi-platform image (default linux/amd64).",
        )
    ],
    "insecure-registry": [
        click.option(
            "--insecure-registry",
            "insecure_registries",
            multiple=True,
            metavar="HOST[:PORT]",
            **env("INSECURE_REGISTRY"),
            help="Registry to reach over plain HTTP (loopback registries always are).",
        )
    ],
    "registry-username": [
        click.option(
            "--registry-username",
            metavar="USER",
            **env("REGISTRY_USERNAME"),
            help="Registry user name (else ~/.docker/config.json).",
        )
    ],
    "registry-password": [
        click.option(
            "--registry-password",
            metavar="SECRET",
            **env("REGISTRY_PASSWORD"),
            help="Registry password or token; prefer the environment variable to keep it out of `ps`.",
        )
    ],
    "docker-config": [
        click.option(
            "--docker-config",
            type=click.Path(dir_okay=False, path_type=Path),
            **env("DOCKER_CONFIG"),
            help="Docker client config with registry credentials (default $DOCKER_CONFIG/config.json "
            "or ~/.docker/config.json).",
        )
    ],
    "cache-dir": [
        click.option(
            "--cache-dir",
            type=click.Path(file_okay=False, path_type=Path),
            **env("CACHE_DIR"),
            help="Where per-layer results are cached (default $XDG_CACHE_HOME/ci-security or "
            "~/.cache/ci-security).",
        )
    ],
    "no-cache": [
        click.option(
            "--no-cache",
            is_flag=True,
            **env("NO_CACHE"),
            help="Read every layer; neither use nor fill the cache.",
        )
    ],
    "parallel": [
        click.option(
            "--parallel",
            type=click.IntRange(1, 64),
            metavar="N",
            **env("PARALLEL"),
            help="Layers read at once (default: CPU count, at most 4).",
        )
    ],
    "fail-on": [
        click.option(
            "--fail-on",
            type=click.Choice(FAIL_ON_CHOICES, case_sensitive=False),
            **env("FAIL_ON"),
            help="Lowest severity that fails the build, overriding the policy's fail_on.severity.",
        )
    ],
    "strict": [
        click.option(
            "--strict",
            is_flag=True,
            **env("STRICT"),
            help="Exit 3 when the scan is partial (some file could not be read).",
        )
    ],
    "policy": [
        click.option(
            "--policy",
            "policy_path",
            type=click.Path(dir_okay=False, path_type=Path),
            **env("POLICY"),
            help="Policy file (default: .ci-security.yml in the repository root if there is one, else "
            "fail on fixable HIGH and CRITICAL findings). See docs/policy.md.",
        )
    ],
    "baseline": [
        click.option(
            "--baseline",
            "baseline_path",
            type=click.Path(dir_okay=False, path_type=Path),
            metavar="REPORT.json",
            **env("BASELINE"),
            help="A previous JSON report (e.g. from the target branch): findings are marked new or existing, "
            "and fail_on.new_only fails only on new ones.",
        )
    ],
    "vex": [
        click.option(
            "--vex",
            "vex_paths",
            multiple=True,
            type=click.Path(dir_okay=False, path_type=Path),
            **env("VEX"),
            help="OpenVEX document whose not_affected statements suppress findings (repeatable; added to the "
            "policy's vex list).",
        )
    ],
    "dockerfile": [
        click.option(
            "--dockerfile",
            type=click.Path(dir_okay=False, path_type=Path),
            **env("DOCKERFILE"),
            help="Dockerfile the image was built from; findings point at its lines (default: the Dockerfile "
            "found in the repository root).",
        )
    ],
    "repo-root": [
        click.option(
            "--repo-root",
            type=click.Path(file_okay=False, path_type=Path),
            **env("REPO_ROOT"),
            help="Repository the report paths are relative to (default $GITHUB_WORKSPACE, $CI_PROJECT_DIR, "
            "or the working directory).",
        )
    ],
    "docs-url": [
        click.option(
            "--docs-url",
            metavar="URL",
            **env("DOCS_URL"),
            help="Where ci-security's documentation is published (the docs/ folder of its repository); "
            "the Markdown report links rule ids to their section of rules.md there. Default: the package's "
            "Documentation URL, if it has one.",
        )
    ],
    "quiet": [click.option("--quiet", "-q", is_flag=True, **env("QUIET"), help="No progress display.")],
}
SCAN_OPTIONS: list[Decorator] = [option for options in _SCAN.values() for option in options]


SCAN_OPTIONS.append(limit_option())

FIX_TOKEN = click.option(
    "--fix-token",
    metavar="TOKEN",
    **env("FIX_TOKEN"),
    help="Token for fix pull/merge requests (default: the step's GitHub token, or CI_SECURITY_GITLAB_TOKEN). "
    "On GitHub, pull requests opened with GITHUB_TOKEN start no workflow: a GitHub App or personal token "
    "here makes CI run on them. Prefer the environment variable.",
)
MAX_PRS = click.option(
    "--max-prs",
    type=click.IntRange(0, 1000),
    metavar="N",
    **env("MAX_PRS"),
    help="At most N fix pull/merge requests open at once (default: the policy's fix.max_open_prs, 5); "
    "existing ones are still updated.",
)

FIX_OPTIONS: list[Decorator] = [
    click.option(
        "--repo",
        type=click.Path(file_okay=False, path_type=Path),
        **env("REPO"),
        help="Repository to fix (default $GITHUB_WORKSPACE, $CI_PROJECT_DIR, or the working directory).",
    ),
    click.option(
        "--dry-run",
        is_flag=True,
        **env("DRY_RUN"),
        help="Print the plan and the diffs; open nothing. Outside GitHub Actions and GitLab CI every run "
        "is a dry run.",
    ),
    MAX_PRS,
    click.option(
        "--output",
        "-o",
        "outputs",
        multiple=True,
        metavar="FORMAT=FILE",
        **env("FIX_OUTPUT"),
        help="Write the plan: json=FILE (documented in docs/fix.md, checked by ci_security/fix/"
        "plan.schema.json) or markdown=FILE; repeatable.",
    ),
    FIX_TOKEN,
    click.option(
        "--image",
        "-i",
        metavar="REF",
        **env("IMAGE"),
        help="The image built from this repository: its language findings are bumped in the manifests "
        "too, and --registry-username/--registry-password are sent to its registry (only).",
    ),
    *_SCAN["db"],
    *_SCAN["platform"],
    *_SCAN["insecure-registry"],
    *_SCAN["registry-username"],
    *_SCAN["registry-password"],
    *_SCAN["docker-config"],
    *_SCAN["cache-dir"],
    *_SCAN["no-cache"],
    *_SCAN["parallel"],
    *_SCAN["policy"],
    *_SCAN["quiet"],
    limit_option(),
]


DB_REPOSITORY_HELP = (
    "Registry repository (or reference) of a database built once and pushed with `db push`, e.g. "
    "ghcr.io/ORG/ci-security-db: pulled instead of downloading the OSV exports (see docs/database.md). "
    "Without a tag, the tag is the database schema this version reads."
)

# The database's registry: its own credentials, never the scanned image's (they may be for another
# registry). `--docker-config` and `--insecure-registry` are shared with the image pull.
DB_REGISTRY_OPTIONS: list[Decorator] = [
    click.option(
        "--db-registry-username",
        metavar="USER",
        **env("DB_REGISTRY_USERNAME"),
        help="User name for the database's registry (else ~/.docker/config.json and its credential helpers).",
    ),
    click.option(
        "--db-registry-password",
        metavar="SECRET",
        **env("DB_REGISTRY_PASSWORD"),
        help="Password or token for the database's registry; prefer the environment variable.",
    ),
]

DB_SIGNER_OPTIONS: list[Decorator] = [
    click.option(
        "--db-signer-identity",
        metavar="IDENTITY",
        **env("DB_SIGNER_IDENTITY"),
        help="Require the database to carry a Sigstore signature (cosign) by this certificate identity, e.g. "
        "https://github.com/ORG/REPO/.github/workflows/db.yml@refs/heads/main; verified with the `sigstore` "
        "package when installed. Needs --db-signer-issuer.",
    ),
    click.option(
        "--db-signer-issuer",
        metavar="URL",
        **env("DB_SIGNER_ISSUER"),
        help="OIDC issuer of the signer's certificate, e.g. https://token.actions.githubusercontent.com.",
    ),
]

# The same options as the image pull's: one registry configuration for the runner.
SHARED_REGISTRY_OPTIONS: list[Decorator] = [*_SCAN["docker-config"], *_SCAN["insecure-registry"]]


CI_OPTIONS: list[Decorator] = [
    click.option(
        "--report-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(),
        show_default=True,
        **env("REPORT_DIR"),
        help="Where the step writes its reports (JSON, Markdown, and SARIF or the GitLab reports).",
    ),
    click.option(
        "--comment/--no-comment",
        default=True,
        show_default=True,
        **env("COMMENT"),
        help="Keep one summary comment on the pull/merge request up to date.",
    ),
    click.option(
        "--inline/--no-inline",
        default=True,
        show_default=True,
        **env("INLINE"),
        help="Comment manifest findings on the changed lines of the pull/merge request.",
    ),
    click.option(
        "--upload-sarif/--no-upload-sarif",
        default=False,
        show_default=True,
        **env("UPLOAD_SARIF"),
        help="Upload the SARIF to GitHub code scanning through the API (needs security-events: write).",
    ),
    click.option(
        "--fail-build/--no-fail-build",
        default=True,
        show_default=True,
        **env("FAIL_BUILD"),
        help="Exit 1 when the policy fails; with --no-fail-build the step reports and exits 0.",
    ),
    click.option(
        "--comment-key",
        metavar="KEY",
        **env("COMMENT_KEY"),
        help="Name of the sticky comment (default: the image name, or 'manifests'); one comment per key.",
    ),
    click.option(
        "--sarif-file",
        type=click.Path(dir_okay=False, path_type=Path),
        **env("SARIF_FILE"),
        help="Where to write the SARIF report (default REPORT_DIR/ci-security.sarif).",
    ),
    click.option(
        "--db-update/--no-db-update",
        default=True,
        show_default=True,
        **env("DB_UPDATE"),
        help="Before scanning an image, update the vulnerability database when it is missing or older than "
        "--db-max-age (incremental; a failed update with a usable database only warns).",
    ),
    click.option(
        "--mirror",
        metavar="URL",
        **env("OSV_MIRROR"),
        help="Base URL of the OSV exports for the database update (default: the public OSV bucket).",
    ),
    click.option(
        "--fix-prs/--no-fix-prs",
        default=False,
        show_default=True,
        **env("FIX_PRS"),
        help="Open or update pull/merge requests that bump vulnerable base images and dependencies, with "
        "the scan's evidence (docs/fix.md); the comment links them.",
    ),
    FIX_TOKEN,
    MAX_PRS,
    click.option("--db-repository", metavar="REF", **env("DB_REPOSITORY"), help=DB_REPOSITORY_HELP),
    *DB_REGISTRY_OPTIONS,
    *DB_SIGNER_OPTIONS,
]


def feed_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options of the non-OSV sources, shared by `db update` and `ci` (docs/vulnerabilities.md)."""
    return _apply(
        [
            click.option(
                "--nvd-api-key",
                metavar="KEY",
                **env("NVD_API_KEY"),
                help="NVD API key: 50 requests per 30 s instead of 5; sent to NVD's API only. Prefer the "
                "environment variable.",
            ),
            click.option(
                "--feed-mirror",
                "feed_mirrors",
                multiple=True,
                metavar="NAME=URL",
                **env("FEED_MIRROR"),
                help="Where a source is downloaded from instead: nvd (API), nvd-feed (NVD 2.0 JSON feed "
                "files), cve, kev, epss, redhat, amazon, oracle (repeatable; the variable takes several "
                "separated by spaces).",
            ),
        ],
        function,
    )


SANDBOX_OPTIONS: list[Decorator] = [
    click.option(
        "--duration",
        metavar="DURATION",
        **env("SANDBOX_DURATION"),
        help="How long the image's entrypoint may run before it is stopped: seconds or 30s, 2m (default: "
        "the policy's runtime.duration, else 30s).",
    ),
    click.option(
        "--entrypoint",
        metavar="COMMAND",
        **env("SANDBOX_ENTRYPOINT"),
        help="Run this instead of the image's ENTRYPOINT, and drop its CMD (as docker run --entrypoint): "
        'a JSON array (["/bin/app", "--serve"]) or words split as a shell would.',
    ),
    click.option(
        "--cmd",
        metavar="COMMAND",
        **env("SANDBOX_CMD"),
        help="Arguments instead of the image's CMD (a JSON array, or words split as a shell would).",
    ),
    click.option(
        "--env",
        "sandbox_env",
        multiple=True,
        metavar="NAME=VALUE",
        **env("SANDBOX_ENV"),
        help="Set a variable for the image's entrypoint (repeatable); the sandbox never sees this "
        "environment's variables.",
    ),
    click.option(
        "--workdir",
        metavar="PATH",
        **env("SANDBOX_WORKDIR"),
        help="Working directory instead of the image's.",
    ),
    click.option(
        "--user",
        "sandbox_user",
        metavar="USER[:GROUP]",
        **env("SANDBOX_USER"),
        help="User instead of the image's (a name from its /etc/passwd, or a number).",
    ),
]

DYNAMIC_OPTION = click.option(
    "--dynamic/--no-dynamic",
    default=False,
    show_default=True,
    **env("DYNAMIC"),
    help="Also run the image's entrypoint in the sandbox and judge what it does (the dynamic scan, "
    "docs/dynamic.md); needs bubblewrap, strace and user namespaces.",
)


DB_UPDATE_OPTIONS: list[Decorator] = [
    click.option(
        "--ecosystem",
        "ecosystems",
        multiple=True,
        metavar="NAME",
        **env("ECOSYSTEM"),
        help="OSV ecosystem or source to download (repeatable): Debian, PyPI, ..., 'Amazon Linux:2023', "
        "'Oracle Linux:9', NVD, CVE, KEV, EPSS. Default: the common distributions and languages, NVD, KEV, "
        "EPSS.",
    ),
    click.option(
        "--mirror",
        metavar="URL",
        **env("OSV_MIRROR"),
        help="Base URL of the OSV exports (default https://osv-vulnerabilities.storage.googleapis.com).",
    ),
    click.option(
        "--full",
        is_flag=True,
        **env("DB_FULL"),
        help="Download every ecosystem whole, not incrementally.",
    ),
    click.option(
        "--from",
        "repository",
        metavar="REF",
        **env("DB_REPOSITORY"),
        help="Pull the whole database from this registry repository instead, where `db push` put it (as "
        "`db pull REF`), e.g. ghcr.io/ORG/ci-security-db.",
    ),
]

DB_PUSH_OPTIONS: list[Decorator] = [
    click.option(
        "--chunk-size",
        metavar="SIZE",
        **env("DB_CHUNK_SIZE"),
        help="Upload in requests of at most SIZE (e.g. 64MiB), for proxies that cap a request's body; "
        "default: one request per blob.",
    ),
    click.option(
        "--source",
        metavar="URL",
        **env("DB_SOURCE"),
        help="Where the builder runs, for the artifact's org.opencontainers.image.source annotation "
        "(default: the CI project's URL, when the CI says it).",
    ),
]


def db_update_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """`db update`: what to download, or `--from` a registry instead."""
    return _apply(DB_UPDATE_OPTIONS, function)


def db_push_options(function: Callable[..., Any]) -> Callable[..., Any]:
    return _apply(DB_PUSH_OPTIONS, function)


def db_registry_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """How `db push`, `db pull` and `db update --from` reach the database's registry."""
    return _apply(DB_REGISTRY_OPTIONS + SHARED_REGISTRY_OPTIONS, function)


def db_signer_options(function: Callable[..., Any]) -> Callable[..., Any]:
    return _apply(DB_SIGNER_OPTIONS, function)


def registry_access(params: dict[str, Any]) -> RegistryAccess:
    """The database registry's access (`dbartifact.artifact.RegistryAccess`) from what click parsed."""
    from ci_security.dbartifact.artifact import RegistryAccess

    return RegistryAccess(
        username=params.get("db_registry_username") or None,
        password=params.get("db_registry_password") or None,
        docker_config=params.get("docker_config"),
        insecure_registries=tuple(params.get("insecure_registries") or ()),
    )


def signer(params: dict[str, Any]) -> Signer | None:
    """The required signer (`dbartifact.signature.Signer`), or None; both options or neither."""
    identity = params.get("db_signer_identity") or None
    issuer = params.get("db_signer_issuer") or None
    if identity is None and issuer is None:
        return None
    if identity is None or issuer is None:
        raise UsageError("--db-signer-identity and --db-signer-issuer go together (give both, or neither)")
    from ci_security.dbartifact.signature import Signer

    return Signer(identity=identity, issuer=issuer)


def _apply(options: list[Decorator], function: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(options):
        function = option(function)
    return function


def scan_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options `scan` and `ci` share (both scan; `ci` then talks to the platform)."""
    return _apply(SCAN_OPTIONS, function)


def ci_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options only the CI step has (the database update's feed options among them)."""
    return feed_options(_apply([*CI_OPTIONS, DYNAMIC_OPTION], function))


def sandbox_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """What to run in the sandbox and for how long (`sandbox`, and `ci` with `--dynamic`)."""
    return _apply(SANDBOX_OPTIONS, function)


def _command(value: str | None, option: str) -> tuple[str, ...] | None:
    """A command given as a JSON array of strings or as shell words; None when not given."""
    if value is None:
        return None
    text = value.strip()
    if text.startswith("["):
        try:
            words = json.loads(text)
        except ValueError:
            raise UsageError(f"{option} {value!r}: not a JSON array") from None
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise UsageError(f"{option} {value!r}: expected a JSON array of strings")
        return tuple(words)
    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise UsageError(f"{option} {value!r}: {exc}") from None


def to_sandbox_options(params: dict[str, Any]) -> SandboxOptions:
    """What click parsed, as the dynamic scan's options."""
    from ci_security.policy.model import parse_duration
    from ci_security.sandbox.command import Overrides
    from ci_security.sandbox.dynamic import SandboxOptions

    duration = None
    if params.get("duration"):
        try:
            duration = parse_duration(params["duration"])
        except ValueError as exc:
            raise UsageError(f"--duration {params['duration']!r}: {exc}") from None
    variables = []
    for item in params.get("sandbox_env") or ():
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--env {item!r}: expected NAME=VALUE")
        variables.append((name, value))
    return SandboxOptions(
        duration=duration,
        overrides=Overrides(
            entrypoint=_command(params.get("entrypoint"), "--entrypoint"),
            cmd=_command(params.get("cmd"), "--cmd"),
            env=tuple(variables),
            workdir=params.get("workdir"),
            user=params.get("sandbox_user"),
        ),
    )


def fix_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options of `ci-security fix`."""
    return _apply(FIX_OPTIONS, function)


def to_fix_scan_options(params: dict[str, Any]) -> ScanOptions:
    """What `fix` takes of the scan's options."""
    from ci_security.scan import ScanOptions

    return ScanOptions(
        image=params["image"],
        platform=params["platform"],
        insecure_registries=params["insecure_registries"],
        registry_username=params["registry_username"],
        registry_password=params["registry_password"],
        docker_config=params["docker_config"],
        cache_dir=params["cache_dir"],
        use_cache=not params["no_cache"],
        workers=params["parallel"],
        db_path=params["db_path"],
        repo_root=params["repo"],
        policy_path=params["policy_path"],
        limits=tuple(limits.parse_assignments(params["limit_items"]).items()),
    )


def _token(value: str | None) -> str | None:
    """A token option's value, or None when empty or a CI variable reference left unexpanded
    (`$CI_SECURITY_FIX_TOKEN` when the GitLab component's variable is not defined): that is no token.
    """
    if not value or re.fullmatch(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", value.strip()):
        return None
    return value


def to_fix_options(params: dict[str, Any]) -> FixOptions:
    from ci_security.fix.run import FixOptions, parse_fix_output

    return FixOptions(
        repo=params["repo"],
        dry_run=params["dry_run"],
        max_prs=params["max_prs"],
        outputs=tuple(parse_fix_output(value) for value in params["outputs"]),
        token=_token(params["fix_token"]),
    )


def to_scan_options(params: dict[str, Any], *, dynamic: bool = False) -> ScanOptions:
    """What click parsed, as the scan's options (imported here, not at the top: `--help` stays fast);
    with `dynamic`, the image is run in the sandbox too.
    """
    from ci_security.scan import ScanOptions

    return ScanOptions(
        sandbox=to_sandbox_options(params) if dynamic else None,
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
        imports=tuple((name, path) for name in IMPORTERS for path in params[import_parameter(name)]),
        dockerfile=params["dockerfile"],
        repo_root=params["repo_root"],
        policy_path=params["policy_path"],
        baseline_path=params["baseline_path"],
        vex_paths=params["vex_paths"],
        manifests=params["manifests"],
        fail_on=params["fail_on"].lower() if params["fail_on"] else None,
        limits=tuple(limits.parse_assignments(params["limit_items"]).items()),
    )


def to_run_options(params: dict[str, Any], *, terminal_width: int | None) -> RunOptions:
    """What click parsed, as what the command adds to the scan."""
    from ci_security.ci import RunOptions
    from ci_security.progress_display import progress_display
    from ci_security.report.links import documentation_url
    from ci_security.report.write import parse_output

    show_progress = not params["quiet"] and sys.stderr.isatty()
    return RunOptions(
        outputs=tuple(parse_output(value) for value in params["outputs"]),
        docs_url=documentation_url(params["docs_url"]),
        strict=params["strict"],
        terminal_width=terminal_width,
        display=lambda: progress_display(show_progress),
    )


def to_run_display(params: dict[str, Any]) -> Callable[[], Any]:
    """The progress display for a command with `--quiet`."""
    from ci_security.progress_display import progress_display

    show_progress = not params["quiet"] and sys.stderr.isatty()
    return lambda: progress_display(show_progress)


def to_step_options(params: dict[str, Any]) -> StepOptions:
    """What click parsed, as the CI step's own options."""
    from ci_security.ci import StepOptions

    return StepOptions(
        report_dir=params["report_dir"],
        sarif_file=params["sarif_file"],
        comment=params["comment"],
        inline=params["inline"],
        upload_sarif=params["upload_sarif"],
        fail_build=params["fail_build"],
        comment_key=params["comment_key"],
        db_update=params["db_update"],
        mirror=params["mirror"],
        feed_mirrors=params["feed_mirrors"],
        nvd_api_key=params["nvd_api_key"] or None,
        fix_prs=params["fix_prs"],
        fix_token=_token(params["fix_token"]),
        max_prs=params["max_prs"],
        db_repository=params["db_repository"] or None,
        db_access=registry_access(params),
        db_signer=signer(params),
    )
