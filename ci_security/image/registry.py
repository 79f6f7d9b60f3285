"""The image sources, listed once; `source_for` picks the one for a reference's transport."""

from __future__ import annotations

from ci_security.image.base import ImageSource
from ci_security.image.docker_archive import DockerArchiveSource
from ci_security.image.docker_daemon import DockerDaemonSource
from ci_security.image.oci import OciSource
from ci_security.image.reference import ImageRef
from ci_security.image.remote import RegistrySource

SOURCES: tuple[ImageSource, ...] = (
    DockerArchiveSource(),
    OciSource(),
    RegistrySource(),
    DockerDaemonSource(),
)


def source_for(ref: ImageRef) -> ImageSource:
    for source in SOURCES:
        if ref.transport in source.transports:
            return source
    raise AssertionError(f"no image source for transport {ref.transport!r}")  # parse_image_ref prevents it
