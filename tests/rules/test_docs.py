"""docs/rules.md is generated from the rule metadata and must be current."""

from pathlib import Path

from ci_security.rules.base import PEER_TOOLS
from ci_security.rules.docs import render
from ci_security.rules.not_covered import NOT_COVERED, explains
from ci_security.rules.peer_checks import PEER_CHECKS
from ci_security.rules.registry import all_metadata

DOC = Path(__file__).parents[2] / "docs" / "rules.md"


def test_docs_rules_md_is_current():
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/rules.md is stale: run `python -m ci_security.rules.docs > docs/rules.md`"
    )


def test_every_rule_and_peer_is_documented():
    text = render()
    for meta in all_metadata():
        assert f"### {meta.id}\n" in text
        for tool, peer in meta.peers:
            assert tool in PEER_TOOLS
            assert f"| `{peer}` | [{meta.id}]" in text


def test_a_peer_check_is_either_covered_or_explained_never_both():
    covered = {(tool, peer) for meta in all_metadata() for tool, peer in meta.peers}
    assert covered.isdisjoint(NOT_COVERED)
    assert all(tool in PEER_TOOLS and len(reason) > 15 for (tool, _), reason in NOT_COVERED.items())


def test_every_check_the_peers_ship_is_mapped_or_explained():
    covered = {(tool, peer.upper()) for meta in all_metadata() for tool, peer in meta.peers}
    for tool, checks in PEER_CHECKS.items():
        assert tool in PEER_TOOLS
        unaccounted = sorted(c for c in checks if (tool, c.upper()) not in covered and not explains(tool, c))
        assert unaccounted == [], f"{tool} checks neither mapped nor in rules/not_covered.py: {unaccounted}"


def test_severity_rules_and_coverage_are_documented():
    text = render()
    assert "## How severities are set" in text and "## Coverage of the other tools' checks" in text
    for meta in all_metadata():
        if meta.implies:
            assert "Covers: " + ", ".join(f"[{r}](#{r.lower()})" for r in meta.implies) in text
        if meta.scaled:
            assert meta.scaled in text
