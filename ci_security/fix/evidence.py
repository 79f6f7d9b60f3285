"""Evidence for a base-image update: list the tags, resolve the candidates, scan them, choose one.

For one image reference (or several references in one file that resolve to the same image):

1. The registry's tag list (`distribution.list_tags`, paginated and bounded) gives the newer tags of
   the same flavour and precision (`tags.newer`); the policy says which update types are allowed
   (patch and minor by default, major when it says so). A reference pinned by digest whose tag
   still exists gets a **digest refresh** candidate when the tag now points elsewhere: the rebuild
   an immutable reference never sees.
2. Every candidate is resolved to a digest for the platform the reference is built for (a literal
   `--platform`, else `--platform` of the command, else linux/amd64). What is pinned follows what
   was pinned: an index digest stays an index digest (multi-platform), a single-platform manifest
   digest stays one. With `fix.pin_digests` a reference without a digest gets the index digest.
3. The current image and at most `fix-candidates` candidates (the newest patch, minor and major
   first, see `tags.shortlist`) are scanned with the scan's own code (`scan.run`), by digest: the
   vulnerability database and the layer cache are shared, so layers the images have in common are
   read once, and one image used by several references is scanned once per run (at most `fix-scans`
   scans in all).
4. The recommendation is the candidate that removes the most vulnerabilities weighted by severity
   (`models.fix.SEVERITY_WEIGHTS`), among the allowed update types, never one that introduces a
   CRITICAL or HIGH vulnerability the current image does not have; ties go to the smaller change
   (digest refresh, then patch, minor, major) and then to the newer release. A candidate that
   removes nothing is not proposed, nor is anything for an image with no known vulnerabilities.

Registry credentials: `--registry-username`/`--registry-password` are sent only to the registry of
`--image` (the image the step scans); every other registry gets what the Docker client config holds
for it (`docker login`, credential helpers), exactly as `docker build` authenticates its `FROM`
pulls. A Dockerfile in a pull request can name any registry, and the step's explicit credentials
must not follow it there.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ci_security import limits
from ci_security.errors import CiSecurityError
from ci_security.fix.tags import TagVersion, UpdateType, newer, parse_tag, shortlist, update_type
from ci_security.image.base import DEFAULT_PLATFORM
from ci_security.image.reference import DockerReference
from ci_security.models import Platform, Severity, Vulnerability
from ci_security.models.fix import Candidate, SeverityCounts

UPDATE_ORDER = {"digest": 0, "patch": 1, "minor": 2, "major": 3}
BLOCKING = (Severity.CRITICAL, Severity.HIGH)


class EvidenceError(CiSecurityError):
    """No evidence could be had for a reference (registry, scan or budget); the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceOptions:
    """How to reach registries and scan: the scan's own options, and who the explicit credentials
    are for (the registry of `--image`, or nobody).
    """

    db_path: Path | None = None
    cache_dir: Path | None = None
    use_cache: bool = True
    workers: int | None = None
    insecure_registries: tuple[str, ...] = ()
    docker_config: Path | None = None
    platform: Platform | None = None
    credentials_for: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    severity_source: str = "vendor"


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a tag or digest points at: `top` (an index or a manifest), the manifest for the platform,
    and whether `top` is an index.
    """

    top: str
    manifest: str
    is_index: bool

    def pin(self, like_index: bool) -> str:
        return self.top if like_index or not self.is_index else self.manifest


@dataclass(frozen=True, slots=True)
class Scanned:
    """One image's vulnerabilities: the counts, and the most severe rating of each advisory id."""

    counts: SeverityCounts
    ids: dict[str, Severity]


def counts_of(vulnerabilities: Sequence[Vulnerability]) -> SeverityCounts:
    found = Counter(v.severity for v in vulnerabilities)
    return SeverityCounts(
        critical=found[Severity.CRITICAL],
        high=found[Severity.HIGH],
        medium=found[Severity.MEDIUM],
        low=found[Severity.LOW],
        unknown=found[Severity.UNKNOWN],
    )


def severities(vulnerabilities: Sequence[Vulnerability]) -> dict[str, Severity]:
    ids: dict[str, Severity] = {}
    for vuln in vulnerabilities:
        known = ids.get(vuln.id)
        if known is None or vuln.severity.rank > known.rank:
            ids[vuln.id] = vuln.severity
    return ids


class Evidence:
    """Registry clients and scans for one plan: tag lists, resolutions and scans are made once."""

    def __init__(
        self,
        options: EvidenceOptions,
        *,
        scan: Callable[[str, Platform], Sequence[Vulnerability]] | None = None,
    ) -> None:
        self.options = options
        self._clients: dict[tuple[str, str], object] = {}
        self._tags: dict[tuple[str, str], list[str]] = {}
        self._resolved: dict[tuple[str, str, str], Resolved] = {}
        self._scans: dict[tuple[str, str], Scanned] = {}
        self._failed: dict[tuple[str, str], str] = {}
        self._scan = scan or self._scan_with_scanner
        self._empty = tempfile.TemporaryDirectory(prefix="ci-security-fix-")

    def close(self) -> None:
        from ci_security.image.distribution import RegistryClient

        for client in self._clients.values():
            assert isinstance(client, RegistryClient)
            client.close()
        self._clients.clear()
        self._empty.cleanup()

    def __enter__(self) -> Evidence:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def scans(self) -> int:
        return len(self._scans)

    # -- registry ---------------------------------------------------------------------------------

    def _client(self, ref: DockerReference) -> object:
        from ci_security.image.auth import find_credentials
        from ci_security.image.distribution import RegistryClient

        key = (ref.registry, ref.repository)
        client = self._clients.get(key)
        if client is None:
            own = self.options.credentials_for in (ref.registry, ref.api_host)
            creds = find_credentials(
                ref.registry,
                username=self.options.username if own else None,
                password=self.options.password if own else None,
                config=self.options.docker_config,
            )
            insecure = ref.registry in self.options.insecure_registries or (
                ref.api_host in self.options.insecure_registries
            )
            client = RegistryClient(
                ref, label=f"{ref.registry}/{ref.repository}", credentials=creds, insecure=insecure
            )
            self._clients[key] = client
        return client

    def tags(self, ref: DockerReference) -> list[str]:
        from ci_security.image.distribution import RegistryClient, list_tags

        key = (ref.registry, ref.repository)
        if key not in self._tags:
            client = self._client(ref)
            assert isinstance(client, RegistryClient)
            self._tags[key] = list_tags(client)
        return self._tags[key]

    def resolve(self, ref: DockerReference, reference: str, platform: Platform) -> Resolved:
        """What tag or digest `reference` of `ref`'s repository points at, for `platform`."""
        from ci_security.image.distribution import RegistryClient
        from ci_security.image.manifest import (
            ACCEPT_MANIFESTS,
            INDEX_TYPES,
            check_manifest_type,
            parse_json,
            select_from_index,
            verify_digest,
        )

        key = (f"{ref.registry}/{ref.repository}", reference, str(platform))
        found = self._resolved.get(key)
        if found is not None:
            return found
        client = self._client(ref)
        assert isinstance(client, RegistryClient)
        label = f"{ref.registry}/{ref.repository}"
        body, media_type, digest = client.manifest(reference, ACCEPT_MANIFESTS)
        if reference.startswith("sha256:"):
            verify_digest(body, reference, f"{label}@{reference}")
        doc = parse_json(body, f"{label}: manifest {reference}")
        if check_manifest_type(doc, media_type, f"{label}: manifest {reference}") in INDEX_TYPES:
            desc = select_from_index(doc, platform, DEFAULT_PLATFORM, f"{label}:{reference}")
            found = Resolved(top=digest, manifest=str(desc["digest"]), is_index=True)
        else:
            found = Resolved(top=digest, manifest=digest, is_index=False)
        self._resolved[key] = found
        return found

    # -- scanning ---------------------------------------------------------------------------------

    def scan(self, ref: DockerReference, digest: str, platform: Platform) -> Scanned:
        """The vulnerabilities of `ref`'s repository at `digest` (a platform's manifest)."""
        name = f"{ref.registry}/{ref.repository}"
        key = (name, digest)
        if key in self._scans:
            return self._scans[key]
        if key in self._failed:
            raise EvidenceError(self._failed[key])
        budget = limits.active().fix_scans
        if len(self._scans) + len(self._failed) >= budget:
            raise EvidenceError(f"not scanned: the fix-scans limit ({budget}) was reached")
        try:
            found = self._scan(f"{name}@{digest}", platform)
        except CiSecurityError as exc:
            self._failed[key] = f"scanning {name}@{digest[:19]}… failed: {exc}"
            raise EvidenceError(self._failed[key]) from None
        self._scans[key] = Scanned(counts_of(found), severities(found))
        return self._scans[key]

    def _scan_with_scanner(self, image: str, platform: Platform) -> Sequence[Vulnerability]:
        from ci_security.scan import ScanOptions, run

        registry = image.split("/", 1)[0]
        own = self.options.credentials_for == registry
        options = ScanOptions(
            image=f"docker://{image}",
            vulns=True,
            platform=str(platform),
            insecure_registries=self.options.insecure_registries,
            registry_username=self.options.username if own else None,
            registry_password=self.options.password if own else None,
            docker_config=self.options.docker_config,
            cache_dir=self.options.cache_dir,
            use_cache=self.options.use_cache,
            workers=self.options.workers,
            db_path=self.options.db_path,
            # findings are not anchored to the repository's Dockerfile: this is not its image
            repo_root=Path(self._empty.name),
        )
        return run(options, severity_source=self.options.severity_source).vulnerabilities


@dataclass(frozen=True, slots=True)
class Proposal:
    """A candidate to compare: the tag (None for a digest refresh), its update type, the reference
    to write and the digest to scan.
    """

    reference: str
    update_type: UpdateType
    scan_digest: str
    version: TagVersion | None = None


def candidates(
    evidence: Evidence,
    reference: str,
    platform: Platform,
    allowed: frozenset[str],
    *,
    pin: bool,
) -> tuple[Resolved, list[Proposal], str]:
    """The current image and the proposals worth scanning for `reference` (resolved, as written:
    `127.0.0.1:5000/team/base:1.1-slim@sha256:…`), and a note saying why no newer tag was considered,
    when none was.
    """
    from ci_security.fix.refs import split_reference
    from ci_security.image.reference import parse_docker_reference

    ref = parse_docker_reference(reference)
    name, tag, digest = split_reference(reference)
    current = evidence.resolve(ref, digest or tag or "latest", platform)
    like_index = current.is_index if digest else True
    keep_digest = bool(digest) or pin
    proposals: list[Proposal] = []
    note = ""
    version = parse_tag(tag) if tag else None
    if digest and tag and "digest" in allowed:
        try:
            now = evidence.resolve(ref, tag, platform)
        except CiSecurityError as exc:
            note = f"the tag {tag} could not be resolved ({exc})"
        else:
            pinned = now.pin(like_index)
            if pinned != digest:
                proposals.append(Proposal(f"{name}:{tag}@{pinned}", "digest", now.manifest))
    if tag and version is None:
        note = note or f"the tag {tag} is not a version (a name, a date or a hash): no newer tag can be told"
    elif version is not None and version.prerelease:
        note = note or f"the tag {tag} is a pre-release: only stable releases are proposed"
    elif version is not None:
        newer_tags = newer(version, evidence.tags(ref))
        chosen = shortlist(version, newer_tags, allowed, limits.active().fix_candidates)
        if newer_tags and not chosen:
            kinds = sorted({update_type(version, v) for v in newer_tags}, key=UPDATE_ORDER.__getitem__)
            allows = ", ".join(sorted(allowed))
            note = f"newer tags exist ({', '.join(kinds)}) but the policy allows only {allows}"
        dropped = []
        for candidate in chosen:
            try:
                resolved = evidence.resolve(ref, candidate.tag, platform)
            except CiSecurityError as exc:  # a tag without this platform, a manifest that is gone
                dropped.append(f"{candidate.tag}: {exc}")
                continue
            written = f"{name}:{candidate.tag}" + (f"@{resolved.pin(like_index)}" if keep_digest else "")
            proposals.append(Proposal(written, update_type(version, candidate), resolved.manifest, candidate))
        if dropped and not proposals:
            note = f"no candidate could be resolved for {platform} ({'; '.join(dropped)})"
    return current, proposals, note


def choose(current: Candidate, compared: Sequence[Candidate]) -> tuple[Candidate | None, list[Candidate]]:
    """The recommended candidate (or None), and every candidate with its verdict (see the module
    docstring for the rule). Candidates that already carry a verdict (one that adds a CRITICAL or
    HIGH vulnerability, see `compare`) are out.
    """
    before = current.counts.weight
    judged: list[Candidate] = []
    best: tuple[tuple[int, int, int], int] | None = None
    for position, candidate in enumerate(compared):
        verdict = candidate.verdict
        if not verdict:
            gain = before - candidate.counts.weight
            if gain == 0:
                verdict = "removes nothing"
            elif gain < 0:
                verdict = "has more or worse vulnerabilities"
            else:
                rank = (gain, -UPDATE_ORDER.get(candidate.update_type, 9), -position)
                if best is None or rank > best[0]:
                    best = (rank, len(judged))
        judged.append(replace(candidate, verdict=verdict))
    if best is None:
        return None, judged
    for index, candidate in enumerate(judged):
        if index == best[1]:
            judged[index] = replace(candidate, verdict="recommended")
        elif not candidate.verdict:
            judged[index] = replace(candidate, verdict="removes less, or is a larger change")
    return judged[best[1]], judged


def compare(current: Scanned, reference: str, digest: str, kind: str, scanned: Scanned) -> Candidate:
    """A candidate's evidence against the current image."""
    fixes = tuple(sorted(set(current.ids) - set(scanned.ids)))
    introduces = tuple(sorted(set(scanned.ids) - set(current.ids)))
    candidate = Candidate(
        reference=reference,
        digest=digest,
        update_type=kind,
        counts=scanned.counts,
        fixes=fixes,
        introduces=introduces,
    )
    blocking = tuple(i for i in introduces if scanned.ids[i] in BLOCKING)
    if blocking:
        candidate = replace(
            candidate, verdict=f"adds {', '.join(f'{i} ({scanned.ids[i].value})' for i in blocking)}"
        )
    return candidate
