"""Slow, reusable test inputs (a debootstrap root filesystem, the benchmark image), built once per
machine under `.cache/` (or $CI_SECURITY_TEST_CACHE) and reused by later runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from testkit.shared import shared_path

REPO = Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    path = Path(os.environ.get("CI_SECURITY_TEST_CACHE", REPO / ".cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def require_tool(name: str) -> str:
    """Path of a tool the test needs; under CI (CI_SECURITY_REQUIRE_PEERS=1) its absence fails."""
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed (run scripts/setup.sh)"
    if os.environ.get("CI_SECURITY_REQUIRE_PEERS"):
        pytest.fail(message)
    pytest.skip(message)


def trivy() -> str:
    path = Path(os.environ.get("CI_SECURITY_TRIVY", REPO / ".peers" / "trivy" / "bin" / "trivy"))
    if path.is_file():
        return str(path)
    return require_tool("trivy")


def debootstrap_rootfs() -> Path:
    """A Debian 12 minbase root filesystem (plus a few packages with Source: fields and epochs)."""
    root = cache_dir() / "debootstrap-bookworm"
    stamp = root / ".complete"
    if stamp.exists():
        return root
    require_tool("debootstrap")
    if root.exists():
        shutil.rmtree(root)
    mirror = os.environ.get("CI_SECURITY_DEBIAN_MIRROR", "http://deb.debian.org/debian")
    proc = subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=ca-certificates,libssl3,libcurl4,util-linux",
            "bookworm",
            str(root),
            mirror,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if proc.returncode != 0:
        pytest.fail(f"debootstrap failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    stamp.write_text("ok\n")
    return root


def bench_image() -> Path:
    """The benchmark image built by `../shared/tools/make-bench-image.sh`: OUT/debian-app.tar and OUT/oci.

    The build script is shared with the other projects that benchmark on this image, so it is read from
    `../shared` like their data; without it the test skips (fails under CI_SECURITY_REQUIRE_SHARED=1),
    even when an image built earlier is cached, so a run skips the same tests on every machine."""
    script = shared_path("tools", "make-bench-image.sh")
    out = cache_dir() / "bench-image"
    if (out / "debian-app.tar").is_file() and (out / "oci" / "index.json").is_file():
        return out
    for tool in ("debootstrap", "umoci", "skopeo", "npm"):
        require_tool(tool)
    proc = subprocess.run(
        ["bash", str(script), str(out)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if proc.returncode != 0:
        pytest.fail(f"make-bench-image.sh failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return out
