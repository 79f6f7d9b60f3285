"""Random access to the files inside an image archive (`docker save` or `oci-archive` tarballs).

The outer archive holds a few large members (layers, blobs) and a few small JSON files. It is indexed
once by the same validating header walk that reads layers (`tarwalk.LayerWalker`: checksums, sizes,
names, member count all checked); small files are read on demand and each layer becomes a
`BlobLocation` region of the archive, so layers are never copied. A compressed outer archive
(`image.tar.gz`) is first decompressed into the private work directory, because regions need a
seekable plain file; that copy is bounded by `spool_bytes` and `compression_ratio` and written in
bounded chunks, so neither memory nor disk follows what the archive claims.
"""

from __future__ import annotations

import os
import posixpath
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ci_security import limits
from ci_security.errors import ImageError, LayerError
from ci_security.image.budget import ImageBudget, LayerLimitError, check_ratio
from ci_security.image.tarwalk import (
    FILE,
    GZIP_MAGIC,
    HARDLINK,
    SYMLINK,
    ZSTD_MAGIC,
    BlobLocation,
    LayerWalker,
)
from ci_security.limits import LimitExceededError

_IN = 1 << 20
_ZSTD_IN = 128 << 10
_OUT = 4 << 20


@dataclass(frozen=True, slots=True)
class _ArchiveMember:
    offset: int
    size: int
    link: str | None


def _write(fout: BinaryIO, out: bytes, produced: int, consumed: int, budget: ImageBudget, label: str) -> int:
    """Write one decompressed chunk after charging it; return the new output total."""
    if out:
        produced += len(out)
        check_ratio(produced, consumed, label)
        budget.charge_spool(len(out), label)
        fout.write(out)
    return produced


def _decompress_to(src: Path, dest: Path, codec: str, label: str, budget: ImageBudget) -> None:
    """Decompress `src` into `dest` in bounded steps: never more than a few MiB in memory, and every
    byte counted against `spool_bytes` and `compression_ratio` before it is written.
    """
    read = produced = 0
    try:
        with open(src, "rb") as fin, open(dest, "wb") as fout:
            if codec == "gzip":
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                pending = b""
                while True:
                    if not pending:
                        pending = fin.read(_IN)
                        read += len(pending)
                        if not pending:
                            # A match cut off by the output bound can still be pending (≤ 258 bytes).
                            produced = _write(fout, d.flush(), produced, read, budget, label)
                            break
                    if d.eof:
                        # Concatenated gzip members are one stream (RFC 1952 §2.2); NULs after the
                        # last member are padding, as gzip(1) treats them.
                        pending = pending.lstrip(b"\0")
                        if not pending:
                            continue
                        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    out = d.decompress(pending, _OUT)
                    # At a member's end the rest of the input is in unused_data (with an output
                    # bound zlib reports it as unconsumed_tail as well: never both).
                    pending = d.unused_data if d.eof else d.unconsumed_tail
                    # The ratio is judged on the input actually inflated, not on what was read ahead.
                    produced = _write(fout, out, produced, read - len(pending), budget, label)
                if not d.eof:
                    raise ImageError(f"{label}: compressed archive is truncated")
            else:
                import zstandard

                # Small reads keep the input count (for the ratio) close to what was inflated.
                reader = zstandard.ZstdDecompressor().stream_reader(
                    fin, read_size=_ZSTD_IN, read_across_frames=True
                )
                with reader:
                    while chunk := reader.read(_OUT):
                        produced = _write(fout, chunk, produced, fin.tell(), budget, label)
    except zlib.error as exc:
        raise ImageError(f"{label}: corrupt gzip data ({exc})") from None
    except OSError as exc:
        raise ImageError(f"{label}: cannot decompress archive ({exc.strerror or exc})") from None
    except (ImageError, LimitExceededError):
        raise
    except Exception as exc:  # zstandard.ZstdError
        raise ImageError(f"{label}: corrupt compressed archive ({exc})") from None


class ArchiveIndex:
    """Index of a tar archive's members; paths are normalised (no leading `./`)."""

    def __init__(self, path: Path, label: str, workdir: Path, budget: ImageBudget | None = None) -> None:
        self.label = label
        budget = budget if budget is not None else ImageBudget()
        try:
            with open(path, "rb") as f:
                head = f.read(4)
        except OSError as exc:
            raise ImageError(f"{label}: cannot open {path} ({exc.strerror or exc})") from None
        if head.startswith(GZIP_MAGIC) or head.startswith(ZSTD_MAGIC):
            plain = workdir / "archive.tar"
            _decompress_to(path, plain, "gzip" if head.startswith(GZIP_MAGIC) else "zstd", label, budget)
            path = plain
        self.path = path
        self._members: dict[str, _ArchiveMember] = {}
        size = path.stat().st_size
        whole = BlobLocation(path, 0, size)
        # The outer archive holds every layer: as a whole it is bounded by image_bytes, its members
        # one by one by layer_bytes (the walker's per-member check).
        try:
            self._index(whole, size)
        except LayerLimitError:
            raise
        except LayerError as exc:
            message = str(exc)
            detail = message.removeprefix(f"{label}: ")
            raise ImageError(f"{label}: not a readable tar archive ({detail})") from None
        if not self._members:
            raise ImageError(f"{label}: archive is empty or not a tar archive")

    def _index(self, whole: BlobLocation, size: int) -> None:
        label = self.label
        with LayerWalker(whole, label, size_limit="image_bytes") as walker:
            for member in walker:
                if member.kind == FILE:
                    offset = walker.data_offset()
                    if offset + member.size > size:
                        raise ImageError(f"{label}: archive is truncated (member {member.path!r} is cut off)")
                    self._members[member.path] = _ArchiveMember(offset, member.size, None)
                elif member.kind == SYMLINK and member.link is not None:
                    target = posixpath.normpath(posixpath.join(posixpath.dirname(member.path), member.link))
                    self._members[member.path] = _ArchiveMember(0, 0, target.lstrip("/"))
                elif member.kind == HARDLINK and member.link is not None:
                    self._members[member.path] = _ArchiveMember(0, 0, member.link)

    def _find(self, name: str) -> _ArchiveMember | None:
        name = posixpath.normpath(name.lstrip("/"))
        hops = limits.active().symlink_hops
        for _ in range(hops + 1):
            member = self._members.get(name)
            if member is None or member.link is None:
                return member
            name = member.link
        raise LimitExceededError(f"{self.label}: {name[:200]}", "symlink_hops", "links in the archive loop")

    def __contains__(self, name: str) -> bool:
        return self._find(name) is not None

    def read(self, name: str) -> bytes:
        member = self._find(name)
        if member is None:
            raise ImageError(f"{self.label}: {name[:200]} is missing from the archive")
        if member.size > limits.active().image_metadata_bytes:
            raise LimitExceededError(
                f"{self.label}: {name[:200]}", "image_metadata_bytes", f"{member.size:,} bytes"
            )
        with open(self.path, "rb") as f:
            data = os.pread(f.fileno(), member.size, member.offset)
        if len(data) != member.size:
            raise ImageError(f"{self.label}: archive is truncated ({name[:200]} is cut off)")
        return data

    def location(self, name: str, *, digest: str | None = None, diff_id: str | None = None) -> BlobLocation:
        member = self._find(name)
        if member is None:
            raise ImageError(f"{self.label}: blob {name[:200]} is missing from the archive")
        return BlobLocation(self.path, member.offset, member.size, digest=digest, diff_id=diff_id)
