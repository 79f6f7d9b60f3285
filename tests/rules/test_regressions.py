"""False-positive classes found on real public manifests (issue 13), each pinned by a minimal file in
the real shape, written here (`tests/fixtures/manifests/regressions/`): the complete list of findings
each file gives, so a class that comes back, or a new false positive, fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_security.rules.runner import check_text

REGRESSIONS = Path(__file__).parents[1] / "fixtures" / "manifests" / "regressions"

# file -> every (rule, line) it must give; comments say which class each file pins
EXPECTED: dict[str, list[tuple[str, int]]] = {
    # `deb [ trusted=yes ] file://…` is a local repository, `apt-get install -s/--simulate/--dry-run`
    # installs nothing; a remote trusted=yes source still is DF017.
    "local-apt-repository.Dockerfile": [("DF010", 3), ("DF019", 6), ("DF027", 6), ("DF017", 24)],
    # `apk add --no-network` downloads nothing (no cache to clean), `apk add --simulate` installs
    # nothing, `apk index --allow-untrusted` builds an index; installing with --allow-untrusted is DF017.
    "apk-no-network.Dockerfile": [("DF010", 4), ("DF027", 6), ("DF017", 17)],
    # One definition of a sensitive host path for Kubernetes and compose: a read-only CA bundle, the
    # syslog socket and read-only kernel modules are plain hostPath volumes (K8S007) in Kubernetes and
    # nothing in compose; writable below /etc or /lib they are sensitive in both.
    "k8s-host-paths.yaml": [("K8S007", 37), ("K8S007", 40), ("K8S007", 79), ("K8S006", 82)],
    "host-paths.compose.yaml": [("COMPOSE007", 18), ("COMPOSE007", 19)],
    # Placeholders are not secrets (GOOGLE_API_KEY_VAL, INSERT_…, yourpassword, ${VAR}, changeme,
    # <your-key>, AWS's documentation key); the real value next to them still is.
    "env-placeholders.yaml": [("K8S033", 40)],
    "env-placeholders.compose.yaml": [("COMPOSE018", 15)],
    # One finding per problem: 29 findings without folding, 19 with; nothing is lost (test below).
    "one-finding-per-problem.yaml": [
        ("K8S003", 15),
        ("K8S027", 18),
        ("K8S028", 18),
        ("K8S029", 19),
        ("K8S021", 20),
        ("K8S022", 20),
        ("K8S024", 20),
        ("K8S001", 21),
        ("K8S032", 38),
        ("K8S013", 40),
        ("K8S020", 40),
        ("K8S021", 40),
        ("K8S022", 40),
        ("K8S024", 40),
        ("K8S025", 40),
        ("K8S026", 40),
        ("K8S027", 40),
        ("K8S028", 40),
        ("K8S030", 41),
    ],
    # RBAC wildcards rated by what they reach: `*` in the read-only metrics APIs is LOW, not
    # cluster-admin; an operator's own CRDs MEDIUM; built-in writes HIGH; `*/*/*` CRITICAL. One
    # finding per rule item, not one per wildcard.
    "rbac-wildcards.yaml": [
        ("K8S039", 11),
        ("K8S039", 15),
        ("K8S039", 25),
        ("K8S039", 28),
        ("K8S039", 31),
        ("K8S039", 33),
        ("K8S039", 42),
        ("K8S039", 45),
        ("K8S039", 53),
        ("K8S039", 63),
        ("K8S039", 66),
    ],
}
SEVERITIES: dict[str, list[str]] = {
    "rbac-wildcards.yaml": [
        "LOW",
        "LOW",
        "MEDIUM",
        "HIGH",
        "HIGH",
        "LOW",
        "CRITICAL",
        "LOW",
        "HIGH",
        "HIGH",
        "LOW",
    ],
}


def _findings(name: str) -> list[tuple[str, int]]:
    path = REGRESSIONS / name
    found = check_text(path.read_text(encoding="utf-8"), name)
    return sorted(((f.rule_id, f.line or 0) for f in found), key=lambda item: (item[1], item[0]))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_shapes_give_exactly_these_findings(name):
    assert _findings(name) == sorted(EXPECTED[name], key=lambda item: (item[1], item[0]))


@pytest.mark.parametrize("name", sorted(SEVERITIES))
def test_severities_follow_what_the_setting_reaches(name):
    found = check_text((REGRESSIONS / name).read_text(encoding="utf-8"), name)
    assert [f.severity.value for f in sorted(found, key=lambda f: f.line or 0)] == SEVERITIES[name]


def test_folding_loses_no_problem():
    name = "one-finding-per-problem.yaml"
    text = (REGRESSIONS / name).read_text(encoding="utf-8")
    folded = check_text(text, name)
    separate = check_text(text, name, fold=False)
    named = {(f.rule_id, f.resource) for f in folded} | {(r, f.resource) for f in folded for r in f.folded}
    assert named == {(f.rule_id, f.resource) for f in separate}
    (privileged,) = [f for f in folded if f.rule_id == "K8S001"]
    assert privileged.folded == ("K8S010", "K8S012", "K8S013", "K8S020")


def test_every_regression_file_is_listed():
    on_disk = {p.name for p in REGRESSIONS.iterdir() if p.name != "LICENSE-NOTE.md"}
    assert on_disk == set(EXPECTED)
