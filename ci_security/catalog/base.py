"""The cataloger contract (after osv-scalibr's extractors).

The runner asks every cataloger `file_required(path, mode)` for each file in each layer (string and
bit checks only: it runs ~15,000 times per layer), then streams the files that are wanted through
`catalog`. A cataloger that only reads certain binary formats lists their leading bytes in `magic`,
so the runner can skip it for scripts without copying anything. A cataloger never opens the image or
walks directories itself. It raises `CatalogError` for a file it cannot parse; the runner records
that as a warning and goes on.

What one pass over a layer found is a `LayerScan` (one `FileResult` per cataloger and file); a
`LayerStore` keeps those between runs, keyed by the layer's verified digest (`cache.LayerCache`),
so the runner never depends on how they are stored.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, ClassVar, Literal, Protocol, cast

from ci_security.image.fsview import LayerIndex
from ci_security.models import OSInfo, Package

CatalogerKind = Literal["os-release", "os-packages", "language"]


@dataclass(frozen=True, slots=True)
class CatalogInput:
    """One wanted file: its root-relative path (no leading slash), size and a stream of its bytes.
    `tmpdir` is private scratch space, for formats that need a real file (SQLite, BerkeleyDB).
    """

    path: str
    size: int
    stream: BinaryIO
    tmpdir: Path


@dataclass(frozen=True, slots=True)
class CatalogOutput:
    """What one file told a cataloger: packages, the operating system it describes, and files the
    OS package manager installed (root-relative path, owning package), which tells language packages
    shipped by the distribution apart from ones installed by pip or npm.
    """

    packages: tuple[Package, ...] = ()
    os: OSInfo | None = None
    owned: tuple[tuple[str, str], ...] = ()


class Cataloger(Protocol):
    """Reads one package format. `name` is stable (`os/dpkg`) and reported as `found_by`;
    `version` changes when the output for the same input changes (it keys the layer cache).
    """

    name: ClassVar[str]
    version: ClassVar[int]
    kind: ClassVar[CatalogerKind]
    max_file_size: ClassVar[int]
    magic: ClassVar[tuple[bytes, ...]]

    def file_required(self, path: str, mode: int) -> bool:
        """Whether the file at `path` (root-relative, permission bits `mode`) is one this cataloger
        reads.
        """
        ...

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        """Parse one file."""
        ...


@dataclass(frozen=True, slots=True)
class FileResult:
    """One cataloger's verdict on one file: its output, or why it could not read it."""

    output: CatalogOutput | None
    error: str | None = None


@dataclass(slots=True)
class LayerScan:
    """What one pass over one layer found. `verified_digest` is the digest the walk checked the
    layer's bytes against (set only by a complete walk in this run, never by the cache): the one key
    its results may be cached under.
    """

    index: LayerIndex
    results: dict[tuple[str, str], FileResult] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)
    verified_digest: str | None = None


class LayerStore(Protocol):
    """Catalog results of layers read before, by verified layer digest (`cache.LayerCache`)."""

    @property
    def stores(self) -> int:
        """How many results this run stored (the store is pruned when it stored any)."""
        ...

    def load(self, digest: str) -> LayerScan | None:
        """The results stored for the layer with blob digest `digest`, or None."""
        ...

    def store(self, digest: str, scan: LayerScan) -> None:
        """Keep `scan` for the layer whose bytes the walk verified against `digest`."""
        ...

    def prune(self) -> int:
        """Drop the oldest entries past the store's bound; how many were dropped."""
        ...


SPOOL_IN_MEMORY = 16 << 20


@contextmanager
def seekable(inp: CatalogInput) -> Iterator[BinaryIO]:
    """The input as a seekable stream: itself when the layer is a plain tar on disk, else a copy
    (in memory up to 16 MiB, beyond that in the private scratch directory).
    """
    stream = inp.stream
    if isinstance(stream, io.BufferedReader) and stream.raw.seekable():
        # Random access through a read buffer turns every seek + small read into a buffer-sized
        # read; the raw member reads exactly what is asked (positional reads on the layer file).
        stream.raw.seek(0)
        yield cast(BinaryIO, stream.raw)
        return
    if stream.seekable():
        stream.seek(0)
        yield stream
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, dir=str(inp.tmpdir)) as spool:
        shutil.copyfileobj(inp.stream, spool, 1 << 20)
        spool.seek(0)
        yield cast(BinaryIO, spool)
