"""Real root filesystems for the sandbox tests, made from Debian packages the way dpkg would.

`scripts/setup.sh` downloads the packages (`apt-get download`) into `.cache/debs/` (or
`$CI_SECURITY_TEST_CACHE/debs`); `deb(name)` finds one there, downloading it when it is missing and
apt can. `install(root, names)` unpacks each with `dpkg-deb -x` and records it in the root's dpkg
database as dpkg does: a `Status: install ok installed` stanza of the package's own control fields
in `var/lib/dpkg/status`, and its `md5sums` control file as `var/lib/dpkg/info/NAME.md5sums` (the
file list the catalogers read). `docker_archive` packs a root into a one-layer `docker save` archive
with an image config (Entrypoint, Cmd, Env, WorkingDir, User) as a build would write it.

Versions are whatever the Debian mirror serves: no test depends on a particular one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from testkit.cache import cache_dir

# What the sandbox tests build images from: busybox for shell-script images, and a minimal Python
# with two pure-Python libraries for the packages-in-use test (its closure of Depends).
SANDBOX_DEBS = (
    "busybox-static",
    "base-files",
    "libc6",
    "libgcc-s1",
    "gcc-12-base",
    "zlib1g",
    "libexpat1",
    "libssl3",
    "libpython3.11-minimal",
    "python3.11-minimal",
    "python3-six",
    "python3-idna",
)


def deb_dir() -> Path:
    path = cache_dir() / "debs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _missing(message: str) -> None:
    if os.environ.get("CI_SECURITY_REQUIRE_PEERS"):
        pytest.fail(message)
    pytest.skip(message)


def deb(name: str) -> Path:
    """The cached .deb of package `name` (downloaded on first use when apt can)."""
    folder = deb_dir()
    found = sorted(folder.glob(f"{name}_*.deb"))
    if not found and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "download", "-q", name], cwd=folder, capture_output=True, text=True, timeout=600
        )
        found = sorted(folder.glob(f"{name}_*.deb"))
    if not found:
        _missing(f"Debian package {name} is not in {folder} (run scripts/setup.sh)")
    return found[-1]


def _control(package: Path, member: str) -> str:
    """One control file of a .deb (`control`, `md5sums`), via dpkg-deb's control tarball."""
    tar_bytes = subprocess.run(
        ["dpkg-deb", "--ctrl-tarfile", str(package)], capture_output=True, check=True, timeout=120
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        for info in tar.getmembers():
            if info.name.lstrip("./") == member and info.isfile():
                data = tar.extractfile(info)
                return data.read().decode() if data else ""
    return ""


def install(root: Path, names: tuple[str, ...] | list[str]) -> None:
    """Unpack packages `names` into `root` and record them in its dpkg database."""
    if shutil.which("dpkg-deb") is None:
        _missing("dpkg-deb is not installed")
    info = root / "var/lib/dpkg/info"
    info.mkdir(parents=True, exist_ok=True)
    stanzas = []
    for name in names:
        package = deb(name)
        subprocess.run(["dpkg-deb", "-x", str(package), str(root)], check=True, timeout=300)
        control = _control(package, "control").strip()
        lines = control.splitlines()
        lines.insert(1, "Status: install ok installed")
        stanzas.append("\n".join(lines) + "\n")
        (info / f"{name}.md5sums").write_text(_control(package, "md5sums"))
    status = root / "var/lib/dpkg/status"
    previous = status.read_text() if status.exists() else ""
    status.write_text(previous + "\n".join(stanzas))


def busybox_root(root: Path, applets: tuple[str, ...] = ()) -> Path:
    """A root with busybox-static installed, `/bin/sh` and the given applets linked to it, and a
    passwd file with root and an `app` user.
    """
    install(root, ["busybox-static"])
    for applet in ("sh", *applets):
        link = root / "bin" / applet
        if not link.exists():
            link.symlink_to("busybox")
    etc = root / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n")
    (etc / "group").write_text("root:x:0:\napp:x:1000:\n")
    return root


def docker_archive(
    path: Path, root: Path, config: dict[str, Any], *, tag: str = "sandbox-test/app:1"
) -> Path:
    """`root` as a one-layer `docker save` archive with `config` as the image config's `config`."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(root.rglob("*")):
            tar.add(str(entry), arcname=entry.relative_to(root).as_posix(), recursive=False)
    data = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(data).hexdigest()
    image_config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2025-01-01T00:00:00Z",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "2025-01-01T00:00:00Z", "created_by": "COPY rootfs / # buildkit"}],
    }
    config_bytes = json.dumps(image_config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": [diff_id[7:] + ".tar"]}]
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        for name, blob in (
            (diff_id[7:] + ".tar", data),
            (config_name, config_bytes),
            ("manifest.json", json.dumps(manifest).encode()),
        ):
            member = tarfile.TarInfo(name)
            member.size = len(blob)
            archive.addfile(member, io.BytesIO(blob))
    return path
