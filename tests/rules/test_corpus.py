"""The rule corpus: for every rule, a file where it fires, one where it does not, and one where an
inline suppression accepts it, with the exact lines in `expect.json`.

Layout: `tests/fixtures/manifests/rules/<RULE_ID>/` holds `fire.<ext>`, `pass.<ext>` and
`suppressed.<ext>`; the MAN rules (file not analysed, suppression without reason) cannot be
suppressed inline, so they have no `suppressed` file (MAN003, an unknown Kubernetes kind, can and
has one). `<ext>` is `Dockerfile`, `yaml`
(Kubernetes) or `compose.yaml`; `expect.json` is `{"fire": [lines], "suppressed": [lines]}`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci_security.rules.registry import all_metadata
from ci_security.rules.runner import META_RULES, check_text

CORPUS = Path(__file__).parents[1] / "fixtures" / "manifests" / "rules"
EXTENSIONS = {"dockerfile": "Dockerfile", "kubernetes": "yaml", "compose": "compose.yaml"}
RULES = [*all_metadata(), *META_RULES]


def _file(rule_dir: Path, stem: str) -> Path:
    found = sorted(rule_dir.glob(f"{stem}.*"))
    assert len(found) == 1, f"{rule_dir.name}: expected one {stem}.* file, found {[f.name for f in found]}"
    return found[0]


def _findings(path: Path, rule_id: str, enable: tuple[str, ...]):
    # Each rule on its own: folding (tested below and in test_fold.py) would hide implied findings.
    findings = check_text(path.read_text(encoding="utf-8"), path.name, enable, fold=False)
    if rule_id != "MAN001":
        broken = [f for f in findings if f.rule_id == "MAN001"]
        assert broken == [], f"{path}: corpus files must parse: {[f.message for f in broken]}"
    return [f for f in findings if f.rule_id == rule_id]


@pytest.mark.parametrize("meta", RULES, ids=lambda m: m.id)
def test_every_rule_fires_passes_and_is_suppressed_at_the_exact_line(meta):
    rule_dir = CORPUS / meta.id
    assert rule_dir.is_dir(), f"no corpus for {meta.id} in {rule_dir}"
    expect = json.loads((rule_dir / "expect.json").read_text())
    enable = (meta.id,)
    if meta.kind in EXTENSIONS:
        for stem in ("fire", "pass", "suppressed"):
            assert _file(rule_dir, stem).name == f"{stem}.{EXTENSIONS[meta.kind]}"

    fired = _findings(_file(rule_dir, "fire"), meta.id, enable)
    assert sorted(f.line for f in fired) == expect["fire"] and expect["fire"], [f.message for f in fired]
    assert all(f.inline_reason is None for f in fired)
    assert all(f.title == meta.title for f in fired)
    # A rule that rates each hit (`meta.scaled`) is tested on its scale in its own test module.
    assert meta.scaled or all(f.severity == meta.severity for f in fired)

    assert _findings(_file(rule_dir, "pass"), meta.id, enable) == []

    if meta.kind != "any" or any(rule_dir.glob("suppressed.*")):
        suppressed = _findings(_file(rule_dir, "suppressed"), meta.id, enable)
        assert sorted(f.line for f in suppressed) == expect["suppressed"] and expect["suppressed"]
        assert all(f.inline_reason for f in suppressed), [f.message for f in suppressed]


def test_rule_ids_are_unique_and_well_formed():
    ids = [m.id for m in RULES]
    assert len(ids) == len(set(ids))
    prefixes = {"dockerfile": "DF", "kubernetes": "K8S", "compose": "COMPOSE", "any": "MAN"}
    for meta in RULES:
        assert meta.id.startswith(prefixes[meta.kind]) and meta.id[len(prefixes[meta.kind]) :].isdigit()
        assert meta.title and meta.rationale and meta.remediation


@pytest.mark.parametrize("meta", RULES, ids=lambda m: m.id)
def test_with_folding_every_fired_finding_is_kept_or_named_by_the_one_that_covers_it(meta):
    path = _file(CORPUS / meta.id, "fire")
    expect = json.loads((CORPUS / meta.id / "expect.json").read_text())
    findings = check_text(path.read_text(encoding="utf-8"), path.name, (meta.id,))
    kept = sorted(f.line for f in findings if f.rule_id == meta.id)
    covering = [f for f in findings if meta.id in f.folded]
    assert kept == expect["fire"] or covering, (kept, [f.message for f in findings])
    assert all(f.rule_id != meta.id for f in covering)
