"""Shared set-up of the sandbox tests: the tools they need, real images built from Debian packages,
and the checks every test that runs an image ends with: nothing of the sandbox is left running and
nothing on the host changed.

Safety: every planted network behaviour targets 192.0.2.1 (TEST-NET-1, never routed) or a name under
`.invalid` (never resolves), and runs only inside the sandbox's own network namespace, which
`loopback_only` checks has no interface but `lo` before the image's entrypoint is released.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from testkit.cache import require_tool
from testkit.debs import busybox_root, docker_archive

from ci_security.sandbox.isolation import interfaces

# Host files a sandbox must never change, and the range of uids the sandbox runs as under root.
HOST_FILES = ("/etc/passwd", "/etc/group", "/etc/hosts", "/etc/os-release")
SANDBOX_UIDS = range(2_000_000_000, 2_000_200_000)
APPLETS = (
    "echo",
    "env",
    "sleep",
    "cat",
    "cp",
    "chmod",
    "wget",
    "nc",
    "telnet",
    "nslookup",
    "mount",
    "unshare",
    "true",
)


@pytest.fixture(scope="session")
def sandbox_tools() -> None:
    for tool in ("bwrap", "strace", "prlimit", "setpriv", "dpkg-deb"):
        require_tool(tool)


@pytest.fixture(scope="session")
def busybox(tmp_path_factory: pytest.TempPathFactory, sandbox_tools: None) -> Path:
    """A root filesystem made from Debian's busybox-static package, with a few applets linked."""
    return busybox_root(tmp_path_factory.mktemp("busybox-root") / "root", APPLETS)


@pytest.fixture
def script_image(tmp_path: Path, busybox: Path) -> Callable[..., Path]:
    """`script_image(script, **config)`: a docker-archive of the busybox root with `script` as
    /app/run.sh, run by `/bin/sh /app/run.sh` (config keys override the image config).
    """
    counter = iter(range(1000))

    def build(script: str, **config: Any) -> Path:
        number = next(counter)
        root = tmp_path / f"root-{number}"
        shutil.copytree(busybox, root, symlinks=True)
        app = root / "app"
        app.mkdir()
        (app / "run.sh").write_text(script)
        image_config = {
            "Entrypoint": ["/bin/sh", "/app/run.sh"],
            "Env": ["PATH=/bin", "APP_ENV=sandbox-test"],
            "WorkingDir": "/app",
        }
        image_config.update(config)
        return docker_archive(tmp_path / f"image-{number}.tar", root, image_config)

    return build


@pytest.fixture
def loopback_only() -> list[list[str]]:
    """What the tests' `on_isolated` checks saw: before the image runs, the interfaces of its network
    namespace, which must be `lo` alone (the check raises, and the run is refused, otherwise).
    """
    return []


def check_loopback_only(seen: list[list[str]]) -> Callable[[int], None]:
    """An `on_isolated` callback that records the sandbox's interfaces into `seen` and refuses the
    run unless `lo` is the only one.
    """

    def check(pid: int) -> None:
        found = interfaces(pid)
        seen.append(found)
        assert found == ["lo"], f"the sandbox's network namespace has {found}"

    return check


def _digest(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def sandbox_processes() -> list[tuple[int, str]]:
    """Processes that belong to a sandbox: run by a sandbox uid, or bubblewrap or strace whose
    parent is this test process.
    """
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        state = fields.get("State", "").strip()[:1]
        uid = int(fields.get("Uid", "0").split()[0])
        ppid = int(fields.get("PPid", "0").strip() or 0)
        name = fields.get("Name", "").strip()
        if state == "Z":
            continue
        if uid in SANDBOX_UIDS or (ppid == os.getpid() and name in ("bwrap", "strace", "setpriv", "prlimit")):
            found.append((int(entry.name), name))
    return found


@pytest.fixture
def host_untouched() -> Iterator[None]:
    """After the test: the host files are unchanged, no private sandbox directory is left, and no
    process of a sandbox is running (zombies are being reaped by init; a bounded wait allows for it).
    """
    before = {path: _digest(path) for path in HOST_FILES}
    temp = Path(os.environ.get("TMPDIR", "/tmp"))
    dirs_before = set(temp.glob("ci-security-sandbox-*"))
    yield
    assert {path: _digest(path) for path in HOST_FILES} == before
    assert set(temp.glob("ci-security-sandbox-*")) <= dirs_before
    for _ in range(100):
        left = sandbox_processes()
        if not left:
            break
        time.sleep(0.05)
    assert sandbox_processes() == []
