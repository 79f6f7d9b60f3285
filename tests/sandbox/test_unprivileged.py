"""The dynamic scan run by an ordinary user: ci-security itself as uid 54321 (setpriv), as on a CI
runner that is not root. The sandbox then runs as that user, its uid map maps only that uid, the
process limit counts that user's processes, and the planted write to /etc/passwd is still found.

The tests run as root here, with Python installed under root's home; the interpreter is made
reachable for the ordinary user by a bind mount in a private mount namespace (util-linux's unshare),
so nothing on the host changes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("sandbox_tools", "host_untouched")]
REPO = Path(__file__).resolve().parents[2]
USER = 54321


@pytest.fixture
def shared_dir():
    """A directory the ordinary user can reach and write (under /tmp, removed afterwards)."""
    path = Path(tempfile.mkdtemp(prefix="ci-security-unprivileged-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_an_ordinary_user_runs_the_sandbox(script_image, shared_dir):
    if os.geteuid() != 0:
        pytest.skip("already an ordinary user: the other sandbox tests run as one")
    unshare = shutil.which("unshare")
    setpriv = shutil.which("setpriv")
    assert unshare and setpriv
    image = shared_dir / "image.tar"
    # No network behaviour: a command-line run has no test hook to check the namespace first.
    shutil.copy(script_image("echo 'intruder:x:0:0::/:/bin/sh' >> /etc/passwd\necho finished\n"), image)
    image.chmod(0o644)
    home = shared_dir / "home"
    home.mkdir()
    os.chown(home, USER, USER)
    python = shared_dir / "python"
    python.mkdir()
    prefix = Path(sys.base_prefix)
    interpreter = (
        python / Path(sys.executable).relative_to(prefix)
        if Path(sys.executable).is_relative_to(prefix)
        else Path(sys.executable)
    )
    inner = (
        f"mount --bind {prefix} {python} && cd {home} && "
        f"exec {setpriv} --reuid {USER} --regid {USER} --clear-groups -- "
        "env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "
        f"LD_LIBRARY_PATH={python / 'lib'} HOME={home} XDG_CACHE_HOME={home / 'cache'} PYTHONPATH={REPO} "
        f"{interpreter} -m ci_security sandbox --image docker-archive:{image} --no-vulns --repo-root {home} "
        f"-q -o json={home / 'report.json'}"
    )
    done = subprocess.run(
        [unshare, "--mount", "--propagation", "private", "sh", "-c", inner],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr  # RT007 on /etc/passwd fails the default policy
    report = json.loads((home / "report.json").read_text())
    sandbox = report["sandbox"]
    assert sandbox["stdout"] == "finished\n"
    steps = {step["step"]: step["detail"] for step in sandbox["isolation"]}
    assert steps["user"] == f"one uid, uid {USER} outside"
    assert [r["rule_id"] for r in report["runtime"]] == ["RT007"]
    assert report["runtime"][0]["subject"] == "/etc/passwd"
