"""Random access to the files inside an image archive (`docker save` or `oci-archive` tarballs).

The outer archive holds a few large members (layers, blobs) and a few small JSON files. It is indexed
once; small files are read on demand and each layer becomes a `BlobLocation` region of the archive, so
layers are never copied. A compressed outer archive (`image.tar.gz`) is first decompressed into the
private work directory, because regions need a seekable plain file.
"""

from __future__ import annotations

import posixpath
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ci_security.errors import ImageError
from ci_security.image.tarwalk import GZIP_MAGIC, ZSTD_MAGIC, BlobLocation

MAX_METADATA = 64 << 20
_MAX_LINK_HOPS = 16


@dataclass(frozen=True, slots=True)
class _ArchiveMember:
    offset: int
    size: int
    link: str | None


def _decompress_to(src: Path, dest: Path, codec: str, label: str) -> None:
    try:
        with open(src, "rb") as fin, open(dest, "wb") as fout:
            if codec == "gzip":
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                while chunk := fin.read(1 << 20):
                    fout.write(d.decompress(chunk))
                    while d.unconsumed_tail:
                        fout.write(d.decompress(d.unconsumed_tail, 1 << 22))
                if not d.eof:
                    raise ImageError(f"{label}: compressed archive is truncated")
            else:
                import zstandard

                zstandard.ZstdDecompressor().copy_stream(fin, fout)
    except zlib.error as exc:
        raise ImageError(f"{label}: corrupt gzip data ({exc})") from None
    except OSError as exc:
        raise ImageError(f"{label}: cannot decompress archive ({exc.strerror or exc})") from None
    except ImageError:
        raise
    except Exception as exc:  # zstandard.ZstdError
        raise ImageError(f"{label}: corrupt compressed archive ({exc})") from None


class ArchiveIndex:
    """Index of a tar archive's members; paths are normalised (no leading `./`)."""

    def __init__(self, path: Path, label: str, workdir: Path) -> None:
        self.label = label
        try:
            with open(path, "rb") as f:
                head = f.read(4)
        except OSError as exc:
            raise ImageError(f"{label}: cannot open {path} ({exc.strerror or exc})") from None
        if head.startswith(GZIP_MAGIC) or head.startswith(ZSTD_MAGIC):
            plain = workdir / "archive.tar"
            _decompress_to(path, plain, "gzip" if head.startswith(GZIP_MAGIC) else "zstd", label)
            path = plain
        self.path = path
        self._members: dict[str, _ArchiveMember] = {}
        file_size = path.stat().st_size
        try:
            with tarfile.open(path, "r:") as tar:
                for info in tar:
                    name = posixpath.normpath(info.name.lstrip("/")) if info.name else ""
                    if info.isreg():
                        if info.offset_data + info.size > file_size:
                            raise ImageError(
                                f"{label}: archive is truncated (member {info.name!r} is cut off)"
                            )
                        self._members[name] = _ArchiveMember(info.offset_data, info.size, None)
                    elif info.issym():
                        target = posixpath.normpath(posixpath.join(posixpath.dirname(name), info.linkname))
                        self._members[name] = _ArchiveMember(0, 0, target)
                    elif info.islnk():
                        self._members[name] = _ArchiveMember(0, 0, posixpath.normpath(info.linkname))
        except (tarfile.TarError, EOFError) as exc:
            raise ImageError(f"{label}: not a readable tar archive ({exc})") from None
        if not self._members:
            raise ImageError(f"{label}: archive is empty or not a tar archive")

    def _find(self, name: str) -> _ArchiveMember | None:
        name = posixpath.normpath(name.lstrip("/"))
        for _ in range(_MAX_LINK_HOPS):
            member = self._members.get(name)
            if member is None or member.link is None:
                return member
            name = member.link
        raise ImageError(f"{self.label}: too many links resolving {name!r} in the archive")

    def __contains__(self, name: str) -> bool:
        return self._find(name) is not None

    def read(self, name: str) -> bytes:
        member = self._find(name)
        if member is None:
            raise ImageError(f"{self.label}: {name} is missing from the archive")
        if member.size > MAX_METADATA:
            raise ImageError(f"{self.label}: {name} is {member.size} bytes, too large for metadata")
        with open(self.path, "rb") as f:
            f.seek(member.offset)
            return f.read(member.size)

    def location(self, name: str, *, digest: str | None = None, diff_id: str | None = None) -> BlobLocation:
        member = self._find(name)
        if member is None:
            raise ImageError(f"{self.label}: blob {name} is missing from the archive")
        return BlobLocation(self.path, member.offset, member.size, digest=digest, diff_id=diff_id)
