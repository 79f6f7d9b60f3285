"""Contracts for image sources.

An `ImageSource` turns a parsed reference into an `Image`: the config, the layer list, and for each
layer a `BlobLocation` (a file, or a region of one) the walker can read. Sources that must fetch or
convert (registry pulls, `docker save`, a compressed archive) write only inside `SourceOptions.workdir`,
a private temporary directory the caller owns and removes, and charge what they write to
`SourceOptions.budget` (the `spool_bytes` limit); the opened `Image` carries the same budget so the
catalog runner charges layer decompression to it (`image_bytes`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from ci_security.image.budget import ImageBudget
from ci_security.image.reference import ImageRef
from ci_security.image.tarwalk import BlobLocation
from ci_security.models import LayerInfo, Platform
from ci_security.progress import ProgressSink

DEFAULT_PLATFORM = Platform(os="linux", architecture="amd64")


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceOptions:
    """How to reach images. `platform` None means "linux/amd64 when the image offers a choice";
    an explicit platform must match, even for single-platform images.
    """

    workdir: Path
    platform: Platform | None = None
    insecure_registries: tuple[str, ...] = ()
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    docker_config: Path | None = None
    progress: ProgressSink | None = None
    budget: ImageBudget = field(default_factory=ImageBudget)


@dataclass(frozen=True, slots=True, kw_only=True)
class Image:
    """An opened image: what the manifest and config say, and where each layer's bytes are.

    `blobs[i]` is the location of layer i. Registry sources fetch a layer the first time it is
    asked for, so layers whose results are cached are never downloaded; `close()` releases what
    the source holds open (an HTTP session).
    """

    reference: str
    transport: str
    manifest_digest: str | None
    config_digest: str
    config: Mapping[str, Any]
    layers: tuple[LayerInfo, ...]
    blobs: Sequence[BlobLocation]
    platform: Platform | None
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    on_close: Callable[[], None] | None = None
    budget: ImageBudget = field(default_factory=ImageBudget, repr=False, compare=False)

    def close(self) -> None:
        if self.on_close is not None:
            self.on_close()


class ImageSource(Protocol):
    """One way of getting at images (a file format, a registry, a daemon)."""

    transports: ClassVar[tuple[str, ...]]

    def open(self, ref: ImageRef, options: SourceOptions) -> Image:
        """Open the image `ref` names; raise `ImageError` with a one-line reason if it cannot."""
        ...
