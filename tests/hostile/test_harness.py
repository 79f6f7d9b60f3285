"""The harness itself: it sees a clean refusal, a hang, a memory blow-up and a leftover file."""

from __future__ import annotations

import sys

import pytest
from testkit.hostile import assert_clean_error, assert_survived, run_hostile


def test_a_clean_refusal_passes(case):
    missing = case.input / "missing.tar"
    outcome = run_hostile(["scan", "--no-vulns", "--image", f"docker-archive:{missing}"], case)
    assert_clean_error(outcome, code=2, contains=["missing.tar"])


def test_a_bad_limit_is_a_usage_error(case):
    outcome = run_hostile(["scan", "--limit", "no-such-limit=1", "--manifests", str(case.input)], case)
    assert_clean_error(outcome, code=2, contains=["unknown limit 'no-such-limit'"])


def test_a_hang_is_killed_and_reported(case):
    outcome = run_hostile(["-c", "import time; time.sleep(600)"], case, timeout=2, program=[sys.executable])
    assert outcome.code is None
    assert outcome.seconds < 30
    with pytest.raises(AssertionError, match="killed after"):
        assert_survived(outcome)


def test_the_memory_limit_holds(case):
    grow = "b = bytearray(512 << 20); print('allocated')"
    outcome = run_hostile(["-c", grow], case, memory=256 << 20, program=[sys.executable])
    assert outcome.code == 1
    assert "MemoryError" in outcome.stderr
    assert "allocated" not in outcome.stdout


def test_leftovers_are_seen(case):
    (case.input / "Dockerfile").write_text("FROM scratch\n")
    outcome = run_hostile(["scan", "--manifests", str(case.input), "-o", f"json={case.cwd / 'r.json'}"], case)
    assert outcome.leftovers == ("cwd/r.json",)
    with pytest.raises(AssertionError, match="files left outside"):
        assert_survived(outcome)
