"""What `ci-security fix` and the CI step's fix pull/merge requests share: the plan made from the scan's
options and the policy, the change requests made from it, and the plan's files.

The plan needs the vulnerability database (candidates are scanned with it, dependency fixes checked
against it): a missing database is an error naming `ci-security db update`, never an empty plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ci_security.errors import UsageError
from ci_security.fix.evidence import Evidence, EvidenceOptions
from ci_security.fix.options import PlanOptions
from ci_security.fix.plan import make_plan
from ci_security.fix.report import (
    commit_message,
    fixes_markdown,
    plan_json,
    proposal_id,
    pull_request_body,
    pull_request_title,
)
from ci_security.image.manifest import parse_platform
from ci_security.image.reference import parse_image_ref
from ci_security.models import Vulnerability
from ci_security.models.fix import FixPlan, FixUpdate
from ci_security.platforms.base import ChangeRequest, FileChange, Outcome
from ci_security.policy.model import Policy

OUTPUT_FORMATS = ("json", "markdown")


@dataclass(frozen=True, slots=True, kw_only=True)
class FixOptions:
    """What `ci-security fix` adds to the scan's options (`ci-security fix --help`)."""

    repo: Path | None = None
    dry_run: bool = False
    max_prs: int | None = None
    outputs: tuple[tuple[str, Path], ...] = ()
    token: str | None = field(default=None, repr=False)


def parse_fix_output(value: str) -> tuple[str, Path]:
    """`json=FILE` or `markdown=FILE`."""
    name, sep, path = value.partition("=")
    name = name.strip().lower()
    if name not in OUTPUT_FORMATS or not sep or not path:
        raise UsageError(f"--output {value!r}: expected json=FILE or markdown=FILE")
    return name, Path(path)


def evidence_options(options: object, severity_source: str) -> EvidenceOptions:
    """The scan's registry, cache and database options for the evidence scans. The explicit registry
    credentials are for the registry of `--image` only (see `evidence`).
    """
    from ci_security.scan import ScanOptions

    assert isinstance(options, ScanOptions)
    own = None
    if options.image:
        ref = parse_image_ref(options.image)
        own = ref.docker.registry if ref.docker is not None else None
    return EvidenceOptions(
        db_path=options.db_path,
        cache_dir=options.cache_dir,
        use_cache=options.use_cache,
        workers=options.workers,
        insecure_registries=options.insecure_registries,
        docker_config=options.docker_config,
        platform=parse_platform(options.platform) if options.platform else None,
        credentials_for=own,
        username=options.registry_username,
        password=options.registry_password,
        severity_source=severity_source,
    )


def build_plan(
    options: object, policy: Policy, root: Path, findings: tuple[Vulnerability, ...] = ()
) -> FixPlan:
    """The plan for the repository at `root` under `policy` (see the module docstring)."""
    from ci_security.vulndb.store import default_db_path

    evidence = evidence_options(options, policy.severity_source)
    db = evidence.db_path or default_db_path()
    if not db.is_file():
        raise UsageError(f"vulnerability database {db} not found: run `ci-security db update` first")
    if not root.is_dir():
        raise UsageError(f"--repo {root}: no such directory")
    plan_options = PlanOptions(
        root=root,
        rules=policy.fix,
        allowed_registries=policy.images.allowed_registries,
        platform=evidence.platform,
        findings=findings,
        db_path=db,
        severity_source=policy.severity_source,
    )
    with Evidence(evidence) as scans:
        return make_plan(plan_options, scans)


def change_request(update: FixUpdate, labels: tuple[str, ...], *, no_ci: bool) -> ChangeRequest:
    """The pull/merge request that proposes `update`."""
    return ChangeRequest(
        branch=update.branch,
        title=pull_request_title(update),
        body=pull_request_body(update, no_ci=no_ci),
        commit_message=commit_message(update),
        proposal=proposal_id(update),
        files=(
            FileChange(
                path=update.file,
                content=update.content,
                original=update.original,
                executable=update.executable,
            ),
        ),
        labels=labels,
    )


def write_outputs(
    outputs: tuple[tuple[str, Path], ...], plan: FixPlan, requests: Mapping[str, Outcome] | None = None
) -> None:
    from ci_security.report.write import write_atomically

    for kind, path in outputs:
        write_atomically(
            path, plan_json(plan, requests) if kind == "json" else fixes_markdown(plan, requests)
        )
