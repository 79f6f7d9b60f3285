"""Closed sets are types: a status, kind, action or level outside its set is a type error under the
project's strict mypy configuration (where the code writes one), and an error at the boundary (where
a document brings one: see the importer and VEX tests for unknown statuses).

The CI platform's name is not one of them: the set is the platform registry's, open to one more CI
system in one module (docs/architecture.md), and a name only ever comes from a registered surface's
`detect` (tests/platforms/test_registry.py).
"""

import re
import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[2]

VALID = """
    from ci_security.platforms.base import Annotation, Notice
    from ci_security.match.base import Query
    from ci_security.models import MatchDetail, RangeEvent, Suppression, Violation, Severity
    from ci_security.models.decision import Decision
    from ci_security.platforms.base import InlineOutcome, Outcome
    from ci_security.platforms.context import CiContext

    Outcome(action="created")
    InlineOutcome(action="skipped")
    Suppression(fingerprint="f", kind="vex", reason="r", source="s")
    Violation(rule="fail_on", message="m", severity=Severity.HIGH, kind="image")
    MatchDetail(matcher="m", kind="indirect", ecosystem="e", name="n", version="1")
    Query("Debian:12", "openssl", "3.0", "indirect")
    CiContext(platform="gitlab")
    Annotation(level="warning", path="p", line=1, title="t", message="m")
    Notice(level="notice", subject="s", detail="d")
    RangeEvent("last_affected", "1.2")
    verdict: str = Decision(passed=True).result
"""
# One typo per closed set, each on its own line of the snippet.
TYPOS = {
    'Outcome(action="crated")': "OutcomeAction",
    'InlineOutcome(action="skiped")': "InlineAction",
    'Suppression(fingerprint="f", kind="ignroe", reason="r", source="s")': "SuppressionKind",
    'Violation(rule="fail_on", message="m", severity=Severity.HIGH, kind="img")': "ViolationKind",
    'MatchDetail(matcher="m", kind="indrect", ecosystem="e", name="n", version="1")': "MatchKind",
    'Query("Debian:12", "openssl", "3.0", "source")': "MatchKind",
    'Annotation(level="notice", path="p", line=1, title="t", message="m")': "AnnotationLevel",
    'Notice(level="error", subject="s", detail="d")': "Notice level",
    'RangeEvent("last-affected", "1.2")': "EventKind",
    'x: Literal["pass", "fail"] = "passed"': "DecisionResult",
}


def _mypy(tmp_path: Path, source: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    monkeypatch.setenv("MYPYPATH", str(ROOT))  # this checkout's package, not an installed one
    snippet = tmp_path / "snippet.py"
    snippet.write_text(textwrap.dedent(source))
    out, err, status = mypy_api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--follow-imports=silent",
            str(snippet),
        ]
    )
    return out + err, status


def test_the_valid_words_type_check(tmp_path, monkeypatch):
    out, status = _mypy(tmp_path, VALID, monkeypatch)
    assert status == 0, out


def test_a_word_outside_its_set_is_a_type_error(tmp_path, monkeypatch):
    lines = list(TYPOS)
    source = VALID + "    from typing import Literal\n" + "".join(f"    {line}\n" for line in lines)
    out, status = _mypy(tmp_path, source, monkeypatch)
    assert status == 1
    first = len(textwrap.dedent(VALID).splitlines()) + 2  # the typos start after the import line
    reported = {int(n) for n in re.findall(r"snippet\.py:(\d+): error", out)}
    missed = [TYPOS[line] for i, line in enumerate(lines) if first + i not in reported]
    assert not missed, out
