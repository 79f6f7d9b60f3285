"""The remediation plan of a repository: every image reference and vulnerable dependency entry it
holds, each either an update (with its evidence, branch, title and diff) or a skip with the reason.

Base images (`refs`, `evidence`): references of one file that resolve to the same image for the same
platform are one update line, edited together (`FROM python:${PY}` twice through one `ARG` is one
change). The image's policy (`fix:` in the policy file) decides which update types may be proposed
and which images are left alone; `images.allowed_registries`, when the policy has it, also bounds
which registries are contacted at all: a Dockerfile in a pull request can name any host.

Dependencies (`deps`): see that module.

Branches are deterministic, one per update line (`ci-security/base-image/<file>-<image>`,
`ci-security/deps/<manifest>-<package>`), so the next run with a newer proposal updates the same
pull request; titles name the proposal, so a pull request a person closed is recognised when the
same proposal comes back.
"""

from __future__ import annotations

from collections.abc import Sequence

from ci_security.errors import CiSecurityError
from ci_security.fix import refs
from ci_security.fix.diff import slug, unified_diff
from ci_security.fix.evidence import Evidence, EvidenceError, candidates, choose, compare
from ci_security.fix.options import BRANCH_PREFIX, PlanOptions
from ci_security.image.base import DEFAULT_PLATFORM
from ci_security.image.manifest import parse_platform
from ci_security.image.reference import DockerReference, parse_docker_reference
from ci_security.models.fix import Candidate, FixKind, FixPlan, FixSkip, FixUpdate
from ci_security.policy.evaluate import registry_allowed


def make_plan(options: PlanOptions, evidence: Evidence) -> FixPlan:
    """The plan for `options.root` (see the module docstring)."""
    found = refs.find_uses(options.root)
    updates, skipped = base_image_updates(found, options, evidence)
    skipped = [*found.skipped, *skipped]
    if options.rules.dependencies:
        from ci_security.fix.deps import dependency_updates

        more, left = dependency_updates(options)
        updates.extend(more)
        skipped.extend(left)
    _unique_branches(updates)
    return FixPlan(
        updates=tuple(sorted(updates, key=lambda u: (u.file, u.line, u.branch))),
        skipped=tuple(sorted(skipped, key=lambda s: (s.file, s.line, s.reason))),
    )


def _unique_branches(updates: list[FixUpdate]) -> None:
    """Two update lines that would share a branch (one image at two tags in one file) get `-2`, …
    in the order of their lines.
    """
    from dataclasses import replace

    seen: dict[str, int] = {}
    for index, update in sorted(enumerate(updates), key=lambda item: (item[1].file, item[1].line)):
        count = seen.get(update.branch, 0) + 1
        seen[update.branch] = count
        if count > 1:
            updates[index] = replace(update, branch=f"{update.branch}-{count}")


def image_names(use: refs.ImageUse) -> tuple[str, ...]:
    """The names the policy's patterns are matched against: as written and in full."""
    written = refs.split_reference(use.reference)[0]
    ref = use.docker
    full = f"{ref.registry}/{ref.repository}"
    short = ref.repository.removeprefix("library/") if ref.registry == "docker.io" else full
    return tuple(dict.fromkeys((written, full, short)))


def _repository(ref: DockerReference) -> str:
    """The repository path for a branch name: `python` for Docker Hub's library, else the path
    without the registry (a mirror or a moved registry keeps the branch).
    """
    return ref.repository.removeprefix("library/") if ref.registry == "docker.io" else ref.repository


def base_image_updates(
    found: refs.Found, options: PlanOptions, evidence: Evidence
) -> tuple[list[FixUpdate], list[FixSkip]]:
    groups: dict[tuple[str, str, str | None], list[refs.ImageUse]] = {}
    for use in found.uses:
        groups.setdefault((use.path, use.reference, use.platform), []).append(use)
    updates: list[FixUpdate] = []
    skipped: list[FixSkip] = []
    for (path, _, _), uses in groups.items():

        def skip(reason: str, group: Sequence[refs.ImageUse] = uses) -> None:
            skipped.extend(
                FixSkip(file=u.path, line=u.line, reason=reason, reference=u.written) for u in group
            )

        try:
            update = _plan_group(found.files[path], uses, options, evidence)
        except (CiSecurityError, refs.EditError) as exc:
            skip(str(exc))
            continue
        if isinstance(update, str):
            skip(update)
        else:
            updates.append(update)
    return updates, skipped


def _plan_group(
    repo_file: refs.RepoFile, uses: list[refs.ImageUse], options: PlanOptions, evidence: Evidence
) -> FixUpdate | str:
    """The update for one group of references, or the reason there is none."""
    first = uses[0]
    ref = parse_docker_reference(first.reference)
    names = image_names(first)
    rules = options.rules
    pattern = rules.ignored(names)
    if pattern is not None:
        return f"left alone by the policy (fix.ignore_images: {pattern})"
    if options.allowed_registries is not None and not registry_allowed(
        options.allowed_registries, ref.registry, ref.repository
    ):
        return f"{ref.registry} is not in the policy's images.allowed_registries: not contacted"
    allowed = rules.allowed(names)
    if not allowed:
        return "the policy proposes no update types for this image (fix.images)"
    platform = parse_platform(first.platform) if first.platform else (options.platform or DEFAULT_PLATFORM)
    current, proposals, note = candidates(evidence, first.reference, platform, allowed, pin=rules.pin_digests)
    if not proposals:
        return note or "no newer tag of the same flavour and precision"
    now = evidence.scan(ref, current.manifest, platform)
    if now.counts.total == 0:
        return f"{first.reference} has no known vulnerabilities"
    baseline = Candidate(
        reference=first.reference, digest=current.manifest, update_type="current", counts=now.counts
    )
    compared = []
    for proposal in proposals:
        try:
            scanned = evidence.scan(ref, proposal.scan_digest, platform)
        except EvidenceError as exc:
            compared.append(
                Candidate(
                    reference=proposal.reference,
                    digest=proposal.scan_digest,
                    update_type=proposal.update_type,
                    counts=now.counts,
                    verdict=str(exc),
                )
            )
            continue
        compared.append(compare(now, proposal.reference, proposal.scan_digest, proposal.update_type, scanned))
    chosen, judged = choose(baseline, compared)
    if chosen is None:
        verdicts = "; ".join(f"{c.reference}: {c.verdict}" for c in judged)
        return f"no candidate removes vulnerabilities ({verdicts})"
    content = refs.edit(repo_file.text, uses, chosen.reference)
    kind: FixKind = "digest-refresh" if chosen.update_type == "digest" else "base-image"
    written_name, tag, _ = refs.split_reference(first.reference)
    new_tag = refs.split_reference(chosen.reference)[1]
    if kind == "digest-refresh":
        new_digest = refs.split_reference(chosen.reference)[2] or ""
        title = f"ci-security: refresh {written_name}:{tag} to {new_digest[:19]} in {repo_file.path}"
    else:
        title = f"ci-security: update {written_name} from {tag} to {new_tag} in {repo_file.path}"
    return FixUpdate(
        kind=kind,
        file=repo_file.path,
        line=first.line,
        lines=tuple(u.line for u in uses),
        current=first.reference,
        proposed=chosen.reference,
        update_type=chosen.update_type,
        branch=f"{BRANCH_PREFIX}base-image/{slug(repo_file.path)}-{slug(_repository(ref))}",
        title=title,
        diff=unified_diff(repo_file.path, repo_file.text, content),
        content=content,
        original=repo_file.text,
        before=now.counts,
        after=chosen.counts,
        fixes=chosen.fixes,
        introduces=chosen.introduces,
        candidates=(baseline, *judged),
        final_stage=any(u.final for u in uses),
        platform=str(platform),
        executable=repo_file.executable,
    )
