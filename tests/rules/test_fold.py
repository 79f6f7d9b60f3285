"""One finding per problem (`rules.fold`): implied findings on the same resource are folded into the
finding that implies them, transitively, never across resources, never into a disabled rule, and the
implication table itself is sound (known ids, no cycles, never towards a more severe rule)."""

from __future__ import annotations

import pytest

from ci_security.models import Misconfiguration, Severity
from ci_security.rules.fold import fold
from ci_security.rules.registry import all_metadata
from ci_security.rules.runner import META_RULES, check_manifest_text, check_text


def _m(rule: str, resource: str = "Pod/p container c", line: int = 1) -> Misconfiguration:
    return Misconfiguration(
        rule_id=rule, title=rule, severity=Severity.LOW, path="p.yaml", line=line, message=f"{rule} here",
        resource=resource,
    )  # fmt: skip


IMPLIES = {"A": ("B", "C"), "B": ("D",), "X": ("Y",), "Y": ("X",)}


def test_implied_findings_fold_transitively_into_the_top_one():
    out = fold([_m("A"), _m("B"), _m("D"), _m("E")], IMPLIES)
    assert [(f.rule_id, f.folded) for f in out] == [("A", ("B", "D")), ("E", ())]
    assert out[0].message == "A here (also covers B, D)"


def test_folding_stays_within_one_resource():
    out = fold([_m("A", "Pod/p container one"), _m("B", "Pod/p container two")], IMPLIES)
    assert [f.rule_id for f in out] == ["A", "B"]


def test_a_disabled_rule_folds_nothing():
    out = fold([_m("A"), _m("B"), _m("D")], IMPLIES, keep_apart=frozenset({"A"}))
    assert [(f.rule_id, f.folded) for f in out] == [("A", ()), ("B", ("D",))]


def test_a_cycle_never_makes_every_finding_disappear():
    out = fold([_m("X"), _m("Y")], IMPLIES)
    assert len(out) == 1


def test_findings_without_a_resource_are_never_folded():
    out = fold([_m("A", ""), _m("B", "")], IMPLIES)
    assert [f.rule_id for f in out] == ["A", "B"]


def test_the_implication_table_is_sound():
    metas = {m.id: m for m in (*all_metadata(), *META_RULES)}
    graph = {m.id: m.implies for m in metas.values() if m.implies}
    for rule, implied in graph.items():
        for other in implied:
            assert other in metas, f"{rule} implies unknown rule {other}"
            assert metas[other].kind == metas[rule].kind
            # Folding is safe for the policy only towards findings that are not more severe.
            assert metas[other].severity.rank <= metas[rule].severity.rank, (rule, other)

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(
            n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph.get(start, ())
        )

    assert not any(reaches(rule, rule) for rule in graph), "the implication graph has a cycle"


# --- real shapes ---------------------------------------------------------------------------------

PRIVILEGED = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
  namespace: monitoring
spec:
  template:
    spec:
      containers:
        - name: agent
          image: registry.example.com/agent:2.1.0@sha256:{digest}
          securityContext:
            privileged: true
            allowPrivilegeEscalation: true
            capabilities:
              add: [SYS_ADMIN, SYS_PTRACE, NET_RAW, CHOWN]
""".replace("{digest}", "a" * 64)


def test_a_privileged_container_is_one_finding_that_names_what_it_covers():
    found = check_text(PRIVILEGED, "agent.yaml")
    container = [f for f in found if f.resource.endswith("container agent")]
    (privileged,) = [f for f in container if f.rule_id == "K8S001"]
    assert {"K8S009", "K8S010", "K8S011", "K8S013", "K8S020"} <= set(privileged.folded)
    assert not {f.rule_id for f in container} & set(privileged.folded)
    # The API server rejects allowPrivilegeEscalation: false next to privileged: true; the remaining
    # finding's fix is to drop privileged, and no finding suggests the rejected one.
    assert "Remove `privileged: true`" in privileged.remediation
    assert not any("allowPrivilegeEscalation: false" in f.remediation for f in container)


def test_without_k8s001_the_escalation_finding_says_to_remove_privileged_first():
    (escalation,) = [
        f for f in check_manifest_text(PRIVILEGED, "agent.yaml", disabled=("K8S001",)).findings
        if f.rule_id == "K8S020"
    ]  # fmt: skip
    assert "remove privileged: true first" in escalation.message


BARE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
"""


def test_a_bare_deployment_no_longer_repeats_one_problem():
    folded = check_text(BARE, "web.yaml")
    separate = check_text(BARE, "web.yaml", fold=False)
    rules = [f.rule_id for f in folded]
    assert len(rules) == len(set(rules))  # one finding per rule and container
    assert len(folded) == len(separate) - 3
    by_rule = {f.rule_id: f for f in folded}
    assert by_rule["K8S021"].folded == ("K8S037",)  # runs as root covers the UID/GID finding
    assert by_rule["K8S029"].folded == ("K8S030",)  # latest covers "not pinned by digest"
    assert by_rule["K8S013"].folded == ("K8S012",)  # not dropping ALL covers NET_RAW


def test_uid_and_gid_are_one_finding():
    text = BARE.replace("          image: nginx\n", "          image: nginx:1.27\n")
    text += "          securityContext:\n            runAsUser: 1000\n            runAsGroup: 1000\n"
    (finding,) = [f for f in check_text(text, "web.yaml") if f.rule_id == "K8S037"]
    assert "UID 1000 and runs with GID 1000" in finding.message


@pytest.mark.parametrize(
    ("text", "path", "top", "folded"),
    [
        ("FROM python\nUSER 10001\n", "Dockerfile", "DF002", ("DF003",)),
        ("services:\n  web:\n    image: nginx:latest\n", "compose.yaml", "COMPOSE019", ("COMPOSE020",)),
        (
            "services:\n  agent:\n    image: agent:1.0\n    privileged: true\n    cap_add: [SYS_ADMIN]\n",
            "compose.yaml",
            "COMPOSE001",
            ("COMPOSE009",),
        ),
    ],
)
def test_dockerfile_and_compose_fold_too(text, path, top, folded):
    found = check_text(text, path)
    (remaining,) = [f for f in found if f.rule_id == top]
    assert set(folded) <= set(remaining.folded)
    assert not {f.rule_id for f in found} & set(folded)


def test_a_privileged_build_folds_nothing_of_the_running_service():
    text = (
        "services:\n  app:\n    build:\n      context: .\n      privileged: true\n    cap_add: [SYS_ADMIN]\n"
    )
    rules = {f.rule_id for f in check_text(text, "compose.yaml")}
    assert {"COMPOSE001", "COMPOSE009"} <= rules
