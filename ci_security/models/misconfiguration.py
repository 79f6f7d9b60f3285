"""A misconfiguration in a manifest (Dockerfile, Kubernetes, compose): which rule, where, how bad."""

from __future__ import annotations

from dataclasses import dataclass

from ci_security.models.vulnerability import Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class Misconfiguration:
    """One rule violated at one place. `path` is repository-relative; `line` is the exact line of the
    offending key or instruction (or its nearest parent when the key is missing).
    """

    rule_id: str
    title: str
    severity: Severity
    path: str
    line: int | None
    message: str
    resource: str = ""
    remediation: str = ""
    references: tuple[str, ...] = ()
    found_by: str = "ci-security"  # or an imported engine: hadolint, trivy, checkov
    fingerprint: str = ""
    # An inline suppression in the manifest itself (`# ci-security:ignore=ID reason` or a Kubernetes
    # annotation): its reason and `file:line`. The policy decides what it means (it suppresses).
    inline_reason: str | None = None
    inline_source: str = ""
    # The other tool's id when the finding was imported (`DL3007`, `KSV-0017`, `CKV_K8S_16`).
    peer_id: str = ""
    # Rules whose findings on the same resource this one made redundant and absorbed (`K8S020` into
    # a privileged container's `K8S001`): one finding per problem, the other ids kept for reports.
    folded: tuple[str, ...] = ()

    def sort_key(self) -> tuple[int, str, int, str, str, str]:
        return (-self.severity.rank, self.path, self.line or 0, self.rule_id, self.resource, self.fingerprint)


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestSummary:
    """What the manifest checks covered: how many files of each kind ("dockerfile", "kubernetes",
    "compose", "not_analysed"), how many objects in them (Kubernetes objects, compose services,
    Dockerfile stages), and the custom resources no rule checks, as (apiVersion, kind, count).
    """

    files: tuple[tuple[str, int], ...] = ()
    objects: int = 0
    custom_resources: tuple[tuple[str, str, int], ...] = ()

    @property
    def total(self) -> int:
        return sum(count for _, count in self.files)
