"""Third-party data shared between projects, read at test time and never copied into this one.

The data lives in `../shared` next to the checkout (`/work/shared` beside `/work/main`), or wherever
`$CI_SECURITY_SHARED_DIR` points. A test that needs it calls `shared_path(...)`: when the folder is
absent the test is skipped with the reason "needs ../shared (third-party data)", unless
`CI_SECURITY_REQUIRE_SHARED=1`, which turns the skip into a failure (CI sets it, so a missing data
folder cannot pass as a green run).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REASON = "needs ../shared (third-party data)"


def shared_root() -> Path | None:
    """The shared data folder, or None when there is none."""
    configured = os.environ.get("CI_SECURITY_SHARED_DIR")
    candidates = [Path(configured)] if configured else []
    checkout = Path(__file__).resolve().parents[2]
    candidates += [checkout.parent / "shared", checkout.parents[1] / "shared"]
    return next((c for c in candidates if c.is_dir()), None)


def shared_path(*parts: str) -> Path:
    """`../shared/<parts...>`; skips the calling test (or fails it under CI_SECURITY_REQUIRE_SHARED=1)
    when the folder or the named path is missing.
    """
    root = shared_root()
    path = root.joinpath(*parts) if root is not None else None
    if path is None or not path.exists():
        what = "/".join(parts)
        if os.environ.get("CI_SECURITY_REQUIRE_SHARED") == "1":
            pytest.fail(f"{REASON}: {what} is missing and CI_SECURITY_REQUIRE_SHARED=1", pytrace=False)
        pytest.skip(f"{REASON}: {what}")
    return path
