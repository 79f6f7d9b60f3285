"""`docker-daemon:NAME[:TAG]` source: the image as the local Docker daemon has it, via `docker save`.

The daemon writes the archive into the private work directory, which is then read like any
docker-archive. Where no daemon runs (most CI runners that build with BuildKit or kaniko), the error
says so and suggests scanning the archive the build produced.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import ClassVar

from ci_security.errors import ImageError
from ci_security.image.base import Image, SourceOptions
from ci_security.image.dockersave import open_docker_archive
from ci_security.image.reference import ImageRef

SAVE_TIMEOUT = 1800


class DockerDaemonSource:
    """Export an image from the Docker daemon with `docker save`."""

    transports: ClassVar[tuple[str, ...]] = ("docker-daemon",)

    def open(self, ref: ImageRef, options: SourceOptions) -> Image:
        assert ref.name is not None
        docker = shutil.which("docker")
        if docker is None:
            raise ImageError(
                f"{ref.raw}: the docker CLI is not installed; scan a docker-archive: or oci: file instead"
            )
        out = options.workdir / "docker-save.tar"
        try:
            proc = subprocess.run(
                [docker, "save", "-o", str(out), ref.name],
                capture_output=True,
                timeout=SAVE_TIMEOUT,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise ImageError(f"{ref.raw}: docker save did not finish within {SAVE_TIMEOUT} s") from None
        except OSError as exc:
            raise ImageError(f"{ref.raw}: cannot run docker ({exc.strerror or exc})") from None
        if proc.returncode != 0:
            lines = [line for line in proc.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
            reason = lines[-1].strip() if lines else f"exit status {proc.returncode}"
            raise ImageError(f"{ref.raw}: docker save failed: {reason}")
        return open_docker_archive(out, None, ref.raw, "docker-daemon", options)
