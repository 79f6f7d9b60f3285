"""The manifest-check contract: a rule is one small class with data metadata and a `check` method
that yields hits for one parsed manifest.

There is one Protocol per manifest kind, because each kind is parsed into its own model. A rule
never reads files, never knows about suppressions and never builds findings itself. It says where
(`Hit.line`, 1-based, the exact line of the offending key or instruction, or of its nearest parent
when the key is missing) and what (`Hit.message`). The runner (`rules/runner.py`) turns hits into
`Misconfiguration`s, applies inline suppressions and computes fingerprints.

Metadata is data, so `docs/rules.md` is generated from it (`python -m ci_security.rules.docs`) and
imported results from Hadolint, Trivy and Checkov are mapped to our ids through `peers`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from ci_security.models import Severity

if TYPE_CHECKING:
    from ci_security.manifests.compose import ComposeFile
    from ci_security.manifests.dockerfile import Dockerfile
    from ci_security.manifests.kubernetes import K8sObject

KINDS = ("dockerfile", "kubernetes", "compose")
PEER_TOOLS = ("hadolint", "trivy", "checkov", "kube-linter")


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleMeta:
    """What a rule checks and why.

    `id` is stable forever (DF001, K8S001, COMPOSE001); `severity` comes from our calibrated table,
    which rates the risk an attacker gets from the mistake, not style (`docs/rules.md`, "How
    severities are set"). A rule whose risk depends on the value it finds rates each hit itself
    (`Hit.severity`) and says how in `scaled`; `severity` is then the rating of the common case.
    `peers` names the equivalent checks of other tools as (tool, id) pairs, tool one of `PEER_TOOLS`;
    an imported result with one of these ids becomes a finding of this rule. `default_enabled` is
    False for checks that are noisy in most repositories (the policy's `checks.enable` turns them on).

    `implies` names the rules whose findings on the same resource (container, service, stage) this
    rule's finding makes redundant: the setting it reports already grants what they report (a
    privileged container has every capability), or its fix fixes theirs (a digest pins a `latest`
    image). The runner folds those findings into this one (`rules.fold`), which then lists their ids
    in `Misconfiguration.folded`; a suggested fix the API server would reject alongside this
    setting (`allowPrivilegeEscalation: false` with `privileged: true`) is never shown on its own.
    """

    id: str
    kind: str
    title: str
    severity: Severity
    rationale: str
    remediation: str
    references: tuple[str, ...] = ()
    peers: tuple[tuple[str, str], ...] = ()
    default_enabled: bool = True
    implies: tuple[str, ...] = ()
    scaled: str = ""


@dataclass(frozen=True, slots=True)
class Hit:
    """One place a rule fires. `resource` names what is wrong inside the file when the file holds
    several things ("Deployment/prod/api container web", "service db", "stage build"); it is part of
    the fingerprint, so two identical mistakes in two containers stay two findings, and it is the
    scope in which implied findings are folded. `severity` is set only by rules whose `meta.scaled`
    says how they rate a hit; None means the rule's severity.
    """

    line: int
    message: str
    resource: str = ""
    severity: Severity | None = None


class DockerfileRule(Protocol):
    meta: ClassVar[RuleMeta]

    def check(self, dockerfile: Dockerfile) -> Iterable[Hit]:
        """Every hit in one parsed Dockerfile."""
        ...


class KubernetesRule(Protocol):
    meta: ClassVar[RuleMeta]

    def check(self, obj: K8sObject) -> Iterable[Hit]:
        """Every hit in one Kubernetes object (one document, or one item of a `List`)."""
        ...


class ComposeRule(Protocol):
    meta: ClassVar[RuleMeta]

    def check(self, compose: ComposeFile) -> Iterable[Hit]:
        """Every hit in one compose file."""
        ...
