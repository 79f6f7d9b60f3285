"""One finding per problem: fold the findings a rule's finding makes redundant into it.

Rules say which rules they imply (`RuleMeta.implies`): a privileged container (K8S001) already has
every capability and escalation that K8S009-K8S013 and K8S020 would report, and their fixes are moot
or, for `allowPrivilegeEscalation: false`, rejected by the API server next to `privileged: true`;
"may run as root" (K8S021) covers the low-UID finding (K8S037); a `latest` image (K8S029, DF002,
COMPOSE019) covers "not pinned by digest". Within one file, for each resource (a container, a service,
a stage), every finding of an implied rule is dropped and its rule id recorded in `folded` on each
finding of the rule that implies it; implication is followed transitively (K8S029 → K8S030 → K8S031),
and the message ends with the ids it covers, so every report shows them.

A finding of a rule the policy disables (`checks.disable`, passed as `keep_apart`) folds nothing: the
team turned it off, so the findings it would absorb must stay visible on their own.

The policy decides on the remaining finding by its own id: suppressing it suppresses what it covers
(accepting a privileged node agent accepts its capabilities), but an ignore entry or
`checks.disable` that names only a folded id never suppresses it, because the remaining finding is
the more severe problem: `checks.disable: [K8S020]` must not hide privileged containers.
`checks.severity` set for a folded id does apply, so a team that rates K8S030 HIGH still fails on a
`latest` image (`policy.evaluate`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace

from ci_security.models import Misconfiguration


def implications(metas: Iterable[tuple[str, tuple[str, ...]]]) -> dict[str, tuple[str, ...]]:
    """`{rule id: the ids it implies}` from (id, implies) pairs, upper-cased, empty entries left out."""
    return {rule.upper(): tuple(i.upper() for i in implied) for rule, implied in metas if implied}


def _top(rule: str, parents: Mapping[str, str]) -> str:
    seen = {rule}
    while rule in parents and parents[rule] not in seen:
        rule = parents[rule]
        seen.add(rule)
    return rule


def _parents(
    present: set[str], implies: Mapping[str, tuple[str, ...]], keep_apart: frozenset[str]
) -> dict[str, str]:
    """For each present rule implied by another present rule, the one that absorbs it (the first in
    id order, so the result does not depend on the order findings were made).
    """
    parents: dict[str, str] = {}
    for rule in sorted(present):
        if rule in keep_apart:
            continue
        for implied in implies.get(rule, ()):
            # An edge that would close a cycle is ignored, so a finding never disappears entirely.
            if implied in present and implied not in parents and _top(rule, parents) != implied:
                parents[implied] = rule
    return parents


def fold(
    findings: list[Misconfiguration],
    implies: Mapping[str, tuple[str, ...]],
    keep_apart: frozenset[str] = frozenset(),
) -> list[Misconfiguration]:
    """`findings` of one file with implied findings folded into the findings that imply them."""
    by_resource: dict[str, list[Misconfiguration]] = defaultdict(list)
    for finding in findings:
        by_resource[finding.resource].append(finding)
    out: list[Misconfiguration] = []
    for resource, group in by_resource.items():
        present = {f.rule_id.upper() for f in group}
        parents = _parents(present, implies, keep_apart) if resource else {}
        if not parents:
            out.extend(group)
            continue
        absorbed: dict[str, set[str]] = defaultdict(set)
        for child in parents:
            absorbed[_top(child, parents)].add(child)
        for finding in group:
            rule = finding.rule_id.upper()
            if rule in parents:
                continue
            covered = absorbed.get(rule)
            if covered:
                ids = tuple(sorted(covered | set(finding.folded)))
                finding = replace(
                    finding, folded=ids, message=f"{finding.message} (also covers {', '.join(ids)})"
                )
            out.append(finding)
    return out
