"""The Kubernetes registry lists every rule module once, in id order, and each module's name
matches its rule's id."""

from __future__ import annotations

import importlib
from pathlib import Path

from ci_security.rules.base import PEER_TOOLS
from ci_security.rules.kubernetes import registry

PACKAGE = Path(registry.__file__).parent


def test_every_rule_module_is_registered_once_in_id_order():
    ids = [rule.meta.id for rule in registry.RULES]
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))
    modules = sorted(p.stem for p in PACKAGE.glob("k8s[0-9][0-9][0-9]_*.py"))
    assert [m.split("_", 1)[0].upper() for m in modules] == ids
    for module_name, rule in zip(modules, registry.RULES, strict=True):
        module = importlib.import_module(f"ci_security.rules.kubernetes.{module_name}")
        assert type(rule).__module__ == module.__name__
        assert module.__doc__


def test_metadata_is_complete_and_peers_are_known_tools():
    seen: dict[tuple[str, str], str] = {}
    for rule in registry.RULES:
        meta = rule.meta
        assert meta.kind == "kubernetes"
        assert meta.title and meta.rationale and meta.remediation and meta.references
        assert all(url.startswith("https://") for url in meta.references)
        for peer in meta.peers:
            assert peer[0] in PEER_TOOLS
            # an imported finding must map to one rule only
            assert seen.setdefault(peer, meta.id) == meta.id, peer
