import os
import shutil
import stat

import pytest
from testkit.images import DEBIAN_RELEASE, build_docker_archive, dpkg_status, file

from ci_security.errors import ImageError
from ci_security.image.base import SourceOptions
from ci_security.image.docker_daemon import DockerDaemonSource
from ci_security.image.reference import parse_image_ref


def _fake_docker(bin_dir, script: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    exe = bin_dir / "docker"
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)


def test_docker_save_output_is_read_as_an_archive(tmp_path, monkeypatch):
    archive = tmp_path / "saved.tar"
    build_docker_archive(
        archive,
        [[*DEBIAN_RELEASE, file("var/lib/dpkg/status", dpkg_status(("a", "1")))]],
        repo_tags=["app:1"],
    )
    # A stand-in for the docker CLI: `docker save NAME` writes a real docker-archive to stdout.
    _fake_docker(tmp_path / "bin", f'[ "$1" = save ] && [ "$2" = app:1 ] && cat {archive}\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "work").mkdir()
    image = DockerDaemonSource().open(
        parse_image_ref("docker-daemon:app:1"), SourceOptions(workdir=tmp_path / "work")
    )
    assert image.transport == "docker-daemon" and image.repo_tags == ("app:1",)
    assert image.blobs[0].path.parent == tmp_path / "work"


def test_daemon_errors_are_reported_in_one_line(tmp_path, monkeypatch):
    _fake_docker(
        tmp_path / "bin",
        'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. '
        'Is the docker daemon running?" >&2; exit 1\n',
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "work").mkdir()
    with pytest.raises(ImageError, match="docker save failed: Cannot connect to the Docker daemon"):
        DockerDaemonSource().open(
            parse_image_ref("docker-daemon:app:1"), SourceOptions(workdir=tmp_path / "work")
        )


@pytest.mark.skipif(shutil.which("docker") is None, reason="the real docker CLI is not installed")
def test_real_docker_cli_without_a_daemon(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-daemon.sock'}")
    (tmp_path / "work").mkdir()
    with pytest.raises(ImageError, match=r"docker save failed: .*(Cannot connect|no such file)"):
        DockerDaemonSource().open(
            parse_image_ref("docker-daemon:app:1"), SourceOptions(workdir=tmp_path / "work")
        )


def test_no_docker_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    (tmp_path / "work").mkdir()
    with pytest.raises(ImageError, match="docker CLI is not installed"):
        DockerDaemonSource().open(
            parse_image_ref("docker-daemon:app:1"), SourceOptions(workdir=tmp_path / "work")
        )


def test_the_export_counts_against_spool_bytes(tmp_path, monkeypatch):
    from ci_security import limits
    from ci_security.limits import LimitExceededError

    _fake_docker(tmp_path / "bin", "head -c 3000000 /dev/zero\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "work").mkdir()
    small = limits.with_overrides(limits.DEFAULTS, {"spool_bytes": "1MiB"})
    with (
        limits.use(small),
        pytest.raises(LimitExceededError, match="docker-daemon:app:1: exceeds the spool-bytes"),
    ):
        DockerDaemonSource().open(
            parse_image_ref("docker-daemon:app:1"), SourceOptions(workdir=tmp_path / "work")
        )
