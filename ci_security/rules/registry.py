"""Every manifest rule, by kind: the per-kind registries gathered in one place."""

from __future__ import annotations

from ci_security.rules.base import ComposeRule, DockerfileRule, KubernetesRule, RuleMeta
from ci_security.rules.compose.registry import RULES as COMPOSE
from ci_security.rules.dockerfile.registry import RULES as DOCKERFILE
from ci_security.rules.kubernetes.registry import RULES as KUBERNETES

DOCKERFILE_RULES: tuple[DockerfileRule, ...] = DOCKERFILE
KUBERNETES_RULES: tuple[KubernetesRule, ...] = KUBERNETES
COMPOSE_RULES: tuple[ComposeRule, ...] = COMPOSE


def all_metadata() -> tuple[RuleMeta, ...]:
    """The metadata of every rule, sorted by id."""
    metas = (
        [r.meta for r in DOCKERFILE_RULES]
        + [r.meta for r in KUBERNETES_RULES]
        + [r.meta for r in COMPOSE_RULES]
    )
    return tuple(sorted(metas, key=lambda m: m.id))
