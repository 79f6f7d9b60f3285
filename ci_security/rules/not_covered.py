"""Checks other tools report that we deliberately do not implement, with the reason, keyed by
(tool, id). `docs/rules.md` lists them, and `bench/manifests.py` fails when a peer reports a check on
the benchmark corpus that is neither one of our rules' `peers` nor listed here.
"""

from __future__ import annotations

NOT_COVERED: dict[tuple[str, str], str] = {}
