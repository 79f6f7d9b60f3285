"""What the sandbox runs, resolved as `docker run` resolves it: ENTRYPOINT + CMD and the overrides,
the image's environment and nothing of ours, the user from the image's own passwd and group files."""

from __future__ import annotations

import pytest
from testkit.images import build_oci_layout, file

from ci_security.errors import ImageError, SandboxError
from ci_security.image.base import SourceOptions
from ci_security.image.reference import parse_image_ref
from ci_security.image.registry import source_for
from ci_security.sandbox.command import DEFAULT_PATH, HOSTNAME, Overrides, resolve
from ci_security.sandbox.rootfs import unpack

PASSWD = "root:x:0:0:root:/root:/bin/sh\nweb:x:33:33:www:/var/www:/bin/false\n"
GROUP = "root:x:0:\nstaff:x:50:\n"


@pytest.fixture
def rootfs(tmp_path):
    layout = tmp_path / "layout"
    build_oci_layout(layout, [[file("etc/passwd", PASSWD), file("etc/group", GROUP)]])
    ref = parse_image_ref(f"oci:{layout}")
    (tmp_path / "work").mkdir()
    image = source_for(ref).open(ref, SourceOptions(workdir=tmp_path / "work"))
    (tmp_path / "rootfs").mkdir()
    return unpack(image, tmp_path / "rootfs")


def config(**inner):
    return {"config": inner}


def test_entrypoint_and_cmd_with_the_images_environment(rootfs, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "not-for-the-image")
    command = resolve(
        config(Entrypoint=["/app/run"], Cmd=["--serve"], Env=["MODE=prod", "BROKEN"], WorkingDir="app"),
        rootfs,
        Overrides(),
    )
    assert command.argv == ("/app/run", "--serve")
    env = dict(command.env)
    assert env == {"MODE": "prod", "PATH": DEFAULT_PATH, "HOSTNAME": HOSTNAME, "HOME": "/root"}
    assert (command.workdir, command.uid, command.gid) == ("/app", 0, 0)


def test_overrides_work_as_docker_run(rootfs):
    image = config(Entrypoint=["/app/run"], Cmd=["--serve"], Env=["PATH=/bin"])
    replaced = resolve(image, rootfs, Overrides(entrypoint=("/bin/sh", "-c"), env=(("MODE", "debug"),)))
    assert replaced.argv == ("/bin/sh", "-c")  # --entrypoint drops the image's CMD
    assert dict(replaced.env)["MODE"] == "debug" and dict(replaced.env)["PATH"] == "/bin"
    with_cmd = resolve(image, rootfs, Overrides(cmd=("--check",), workdir="/tmp", user="web:staff"))
    assert with_cmd.argv == ("/app/run", "--check")
    assert (with_cmd.workdir, with_cmd.uid, with_cmd.gid) == ("/tmp", 33, 50)
    assert dict(with_cmd.env)["HOME"] == "/var/www"


@pytest.mark.parametrize(
    ("user", "expected"), [("web", (33, 33)), ("33", (33, 33)), ("1234", (1234, 0)), ("1234:99", (1234, 99))]
)
def test_users_are_looked_up_in_the_image(rootfs, user, expected):
    command = resolve(config(Cmd=["x"], User=user), rootfs, Overrides())
    assert (command.uid, command.gid) == expected


def test_what_cannot_be_run_is_an_error(rootfs):
    with pytest.raises(SandboxError, match="no ENTRYPOINT or CMD"):
        resolve(config(), rootfs, Overrides())
    with pytest.raises(SandboxError, match="'nobody' is not in its /etc/passwd"):
        resolve(config(Cmd=["x"], User="nobody"), rootfs, Overrides())
    with pytest.raises(SandboxError, match="group 'wheel'"):
        resolve(config(Cmd=["x"], User="web:wheel"), rootfs, Overrides())
    with pytest.raises(ImageError, match="Entrypoint"):
        resolve(config(Entrypoint="/app/run"), rootfs, Overrides())
    with pytest.raises(ImageError, match="NUL"):
        resolve(config(Cmd=["a\0b"]), rootfs, Overrides())
