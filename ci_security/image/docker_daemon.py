"""`docker-daemon:NAME[:TAG]` source: the image as the local Docker daemon has it, via `docker save`.

The export streams through this process into the private work directory (bounded by
`spool_bytes`), and is then read like any docker-archive. Where no daemon runs (most CI runners
that build with BuildKit or kaniko), the error says so and suggests scanning the archive the build
produced.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import ClassVar

from ci_security.errors import ImageError
from ci_security.image.base import Image, SourceOptions
from ci_security.image.dockersave import open_docker_archive
from ci_security.image.reference import ImageRef

SAVE_TIMEOUT = 1800
_CHUNK = 1 << 20


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
        _save(docker, ref, out, options)
        return open_docker_archive(out, None, ref.raw, "docker-daemon", options)


def _save(docker: str, ref: ImageRef, out: Path, options: SourceOptions) -> None:
    """`docker save NAME` into `out`, through this process: every byte counts against `spool_bytes`
    as it arrives (`-o` would let the daemon fill the disk first), and the whole export has a
    deadline.
    """
    assert ref.name is not None
    deadline = time.monotonic() + SAVE_TIMEOUT
    with tempfile.TemporaryFile(dir=options.workdir) as errors:
        try:
            proc = subprocess.Popen(
                [docker, "save", ref.name], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors
            )
        except OSError as exc:
            raise ImageError(f"{ref.raw}: cannot run docker ({exc.strerror or exc})") from None
        assert proc.stdout is not None
        try:
            with open(out, "wb") as sink:
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
                        raise ImageError(f"{ref.raw}: docker save did not finish within {SAVE_TIMEOUT} s")
                    chunk = os.read(proc.stdout.fileno(), _CHUNK)
                    if not chunk:
                        break
                    options.budget.charge_spool(len(chunk), ref.raw)
                    sink.write(chunk)
            code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            proc.stdout.close()
        if code != 0:
            errors.seek(0)
            text = errors.read(1 << 16).decode("utf-8", "replace")
            lines = [line for line in text.splitlines() if line.strip()]
            reason = lines[-1].strip() if lines else f"exit status {code}"
            raise ImageError(f"{ref.raw}: docker save failed: {reason}")
