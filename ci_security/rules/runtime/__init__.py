"""Runtime rules (RT001…): what the dynamic scan's events mean, one rule per module like the
manifest rules, listed in `registry.py` and documented in docs/rules.md from their metadata.
"""
