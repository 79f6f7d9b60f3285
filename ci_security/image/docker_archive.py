"""`docker-archive:PATH[:REF]` source: a `docker save` / `skopeo copy … docker-archive:` tarball."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from ci_security.errors import ImageError
from ci_security.image.base import Image, SourceOptions
from ci_security.image.dockersave import open_docker_archive
from ci_security.image.reference import ImageRef


class DockerArchiveSource:
    """Read a docker-archive tarball in place (plain, or gzip/zstd-compressed)."""

    transports: ClassVar[tuple[str, ...]] = ("docker-archive",)

    def open(self, ref: ImageRef, options: SourceOptions) -> Image:
        assert ref.path is not None
        path = Path(ref.path)
        if not path.is_file():
            raise ImageError(f"{ref.raw}: {path} does not exist or is not a file")
        return open_docker_archive(path, ref.name, ref.raw, "docker-archive", options)
