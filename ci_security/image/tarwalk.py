"""Single-pass reading of layer tarballs, without extracting anything.

A layer blob is a tar archive, stored plain, gzip- or zstd-compressed. `LayerWalker` reads the tar
headers itself (Python's `tarfile` spends ~25 µs a member; a Debian base layer has 15,000), yields one
`Member` per entry with its path normalised and whiteouts recognised, and lets the caller stream the
current member's data while the walk is positioned on it. Nothing is written to disk.

Integrity: every blob is checked against its digest while it is read. Compressed blobs are hashed as
they are decompressed; a plain tar region is hashed by a second thread in parallel with the header
walk (hashlib and file reads release the GIL), because the walk itself seeks over member data it does
not need. A mismatch, a corrupt or truncated stream, a member whose name is absolute or climbs out of
the root with `..`: each raises `LayerError` naming the layer and the problem.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, cast

from ci_security.errors import LayerError

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
_RAW_CHUNK = 1 << 20
_HASH_CHUNK = 8 << 20
_OUT_CHUNK = 4 << 20
# PAX and GNU long-name records are metadata; anything this large is not a real layer.
_MAX_META = 1 << 20

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

# Entry kinds: regular file, directory, symlink, hard link, other (devices, fifos, sparse),
# whiteout (path deleted from lower layers), opaque directory (lower contents hidden).
FILE, DIR, SYMLINK, HARDLINK, OTHER, WHITEOUT, OPAQUE = "f", "d", "l", "h", "o", "w", "q"
_KINDS = {
    b"0": FILE,
    b"\0": FILE,
    b"7": FILE,
    b"1": HARDLINK,
    b"2": SYMLINK,
    b"5": DIR,
    b"3": OTHER,
    b"4": OTHER,
    b"6": OTHER,
}


@dataclass(frozen=True, slots=True)
class BlobLocation:
    """Where a blob's bytes are: a file, or a region of one (a layer inside a `docker save` tar).

    `digest` is the digest of the stored bytes and `diff_id` that of the uncompressed tar; the walker
    verifies whichever is given (None means the source already verified the bytes, as a registry
    download does while writing them).
    """

    path: Path
    offset: int
    length: int
    digest: str | None = None
    diff_id: str | None = None


@dataclass(frozen=True, slots=True)
class Member:
    """One tar entry. `path` is relative to the image root, without a leading slash (`""` is the
    root). `link` is a symlink's target as written, or a hard link's target path, normalised.
    """

    path: str
    kind: str
    size: int
    link: str | None = None
    mode: int = 0


class _Source(Protocol):
    def read(self, n: int) -> bytes: ...

    def skip(self, n: int) -> None: ...

    def member(self, size: int) -> _MemberReader: ...

    def finish(self) -> None: ...

    def close(self) -> None: ...


def _hash_algorithm(digest: str) -> tuple[str, str]:
    algo, _, hexdigest = digest.partition(":")
    if algo not in {"sha256", "sha512"} or not hexdigest:
        raise LayerError(f"unsupported digest {digest!r}")
    return algo, hexdigest


class _RegionSource:
    """A plain tar stored in a file region: seek over data, hash the region in another thread."""

    def __init__(self, loc: BlobLocation, label: str, progress: Callable[[int], None] | None) -> None:
        self._file = open(loc.path, "rb", buffering=1 << 16)  # noqa: SIM115 - closed in finish()/close()
        self._file.seek(loc.offset)
        self._offset = loc.offset
        self._end = loc.offset + loc.length
        self._pos = loc.offset
        self._label = label
        self._progress = progress
        self._reported = loc.offset
        expected = loc.digest or loc.diff_id
        self._expected = expected
        self._hash_result: str | None = None
        self._hash_error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if expected:
            algo, _ = _hash_algorithm(expected)
            self._thread = threading.Thread(target=self._hash_region, args=(loc, algo), daemon=True)
            self._thread.start()

    def _hash_region(self, loc: BlobLocation, algo: str) -> None:
        try:
            h = hashlib.new(algo)
            # Big chunks: each loop turn must win the GIL back from the walking thread, so fewer
            # turns (8 MiB, ~30 for a Debian base layer) keep the hash off the critical path.
            buf = bytearray(_HASH_CHUNK)
            view = memoryview(buf)
            left = loc.length
            with open(loc.path, "rb", buffering=0) as f:
                f.seek(loc.offset)
                while left > 0:
                    n = f.readinto(view[: min(left, _HASH_CHUNK)])
                    if not n:
                        break
                    h.update(view[:n])
                    left -= n
            self._hash_result = f"{algo}:{h.hexdigest()}"
        except BaseException as exc:  # reported by finish() on the walking thread
            self._hash_error = exc

    def _tick(self) -> None:
        if self._progress and self._pos - self._reported >= _RAW_CHUNK:
            self._progress(self._pos - self._reported)
            self._reported = self._pos

    def read(self, n: int) -> bytes:
        n = min(n, self._end - self._pos)
        data = self._file.read(n) if n > 0 else b""
        self._pos += len(data)
        self._tick()
        return data

    def skip(self, n: int) -> None:
        if self._pos + n > self._end:
            raise LayerError(f"{self._label}: tar data is truncated")
        self._file.seek(n, io.SEEK_CUR)
        self._pos += n
        self._tick()

    def member(self, size: int) -> _MemberReader:
        if self._pos + size > self._end:
            raise LayerError(f"{self._label}: tar data is truncated")
        # Positional reads leave the walk's own file position alone, so catalogers may seek.
        return _RegionMember(self._file.fileno(), self._pos, size)

    def finish(self) -> None:
        self.close()
        if self._progress:
            self._progress(self._end - self._reported)
            self._reported = self._end
        if self._thread is not None:
            self._thread.join()
            if self._hash_error is not None:
                raise LayerError(f"{self._label}: cannot read blob: {self._hash_error}") from None
            if self._hash_result != self._expected:
                raise LayerError(
                    f"{self._label}: content does not match its digest "
                    f"(expected {self._expected}, got {self._hash_result}); the file is corrupt or truncated"
                )

    def close(self) -> None:
        self._file.close()


class _HashingReader:
    """Reads raw blob bytes from a file region, hashing and reporting progress as it goes."""

    def __init__(self, loc: BlobLocation, progress: Callable[[int], None] | None, algo: str | None) -> None:
        self._file = open(loc.path, "rb", buffering=0)  # noqa: SIM115 - closed by close()
        self._file.seek(loc.offset)
        self._left = loc.length
        self._hash = hashlib.new(algo) if algo else None
        self._progress = progress

    def read(self, n: int = _RAW_CHUNK) -> bytes:
        n = min(n if n >= 0 else self._left, self._left)
        data = self._file.read(n) if n > 0 else b""
        self._left -= len(data)
        if self._hash is not None:
            self._hash.update(data)
        if self._progress and data:
            self._progress(len(data))
        return data

    def hexdigest(self) -> str | None:
        return self._hash.hexdigest() if self._hash is not None else None

    def close(self) -> None:
        self._file.close()


class _StreamSource:
    """A compressed tar: decompress in bounded chunks (no whole layer in memory), skip by discarding."""

    def __init__(
        self, loc: BlobLocation, codec: str, label: str, progress: Callable[[int], None] | None
    ) -> None:
        self._label = label
        self._codec = codec
        self._loc = loc
        self._raw_algo = _hash_algorithm(loc.digest)[0] if loc.digest else None
        self._raw = _HashingReader(loc, progress, self._raw_algo)
        # A compressed `docker save` layer names only its diff-id, so hash the decompressed bytes.
        self._out_hash = (
            hashlib.new(_hash_algorithm(loc.diff_id)[0]) if (loc.diff_id and not loc.digest) else None
        )
        self._buf = b""
        self._pos = 0
        self._tail = b""
        self._eof = False
        self._zstd_reader: BinaryIO | None = None
        self._gz: zlib._Decompress | None = None
        if codec == "gzip":
            self._gz = zlib.decompressobj(16 + zlib.MAX_WBITS)
        else:
            try:
                import zstandard
            except ImportError as exc:  # pragma: no cover - it is a declared dependency
                raise LayerError(f"{label}: zstd layer but the zstandard module is missing") from exc
            self._zstd_reader = zstandard.ZstdDecompressor().stream_reader(
                cast(BinaryIO, self._raw), read_size=_RAW_CHUNK, read_across_frames=True
            )

    def _more(self) -> bytes:
        """Return the next non-empty chunk of decompressed data, or b"" at the end of the stream."""
        if self._eof:
            return b""
        try:
            out = self._gzip_chunk() if self._gz is not None else self._zstd_chunk()
        except zlib.error as exc:
            raise LayerError(f"{self._label}: corrupt gzip data ({exc})") from None
        except LayerError:
            raise
        except Exception as exc:  # zstandard raises its own ZstdError
            raise LayerError(f"{self._label}: corrupt {self._codec} data ({exc})") from None
        if self._out_hash is not None and out:
            self._out_hash.update(out)
        return out

    def _gzip_chunk(self) -> bytes:
        gz = self._gz
        assert gz is not None
        while True:
            if self._tail:
                out = gz.decompress(self._tail, _OUT_CHUNK)
                self._tail = gz.unconsumed_tail
            else:
                raw = self._raw.read(_RAW_CHUNK)
                if not raw:
                    if not gz.eof:
                        raise LayerError(f"{self._label}: gzip stream is truncated")
                    self._eof = True
                    return b""
                out = gz.decompress(raw, _OUT_CHUNK)
                self._tail = gz.unconsumed_tail
            if gz.eof:
                rest = gz.unused_data + self._tail
                self._tail = b""
                if rest.strip(b"\0"):
                    # Concatenated gzip members are one valid stream (RFC 1952 §2.2).
                    gz = self._gz = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    self._tail = rest
            if out:
                return out

    def _zstd_chunk(self) -> bytes:
        assert self._zstd_reader is not None
        out = self._zstd_reader.read(_OUT_CHUNK)
        if not out:
            self._eof = True
        return out

    def read(self, n: int) -> bytes:
        if len(self._buf) - self._pos >= n:
            data = self._buf[self._pos : self._pos + n]
            self._pos += n
            return data
        parts = [self._buf[self._pos :]]
        have = len(parts[0])
        self._buf, self._pos = b"", 0
        while have < n:
            chunk = self._more()
            if not chunk:
                break
            need = n - have
            if len(chunk) > need:
                parts.append(chunk[:need])
                self._buf, self._pos = chunk, need
                have = n
            else:
                parts.append(chunk)
                have += len(chunk)
        return b"".join(parts)

    def skip(self, n: int) -> None:
        avail = len(self._buf) - self._pos
        if n <= avail:
            self._pos += n
            return
        n -= avail
        self._buf, self._pos = b"", 0
        while n > 0:
            chunk = self._more()
            if not chunk:
                raise LayerError(f"{self._label}: tar data is truncated")
            if len(chunk) > n:
                self._buf, self._pos = chunk, n
                return
            n -= len(chunk)

    def member(self, size: int) -> _MemberReader:
        return _MemberReader(self, size)

    def finish(self) -> None:
        try:
            while self._more():
                pass
        finally:
            self.close()
        if self._raw_algo and self._loc.digest:
            got = f"{self._raw_algo}:{self._raw.hexdigest()}"
            if got != self._loc.digest:
                raise LayerError(
                    f"{self._label}: content does not match its digest "
                    f"(expected {self._loc.digest}, got {got})"
                )
        if self._out_hash is not None and self._loc.diff_id:
            got = f"{self._out_hash.name}:{self._out_hash.hexdigest()}"
            if got != self._loc.diff_id:
                raise LayerError(
                    f"{self._label}: uncompressed content does not match its diff-id "
                    f"(expected {self._loc.diff_id}, got {got})"
                )

    def close(self) -> None:
        if self._zstd_reader is not None:
            self._zstd_reader.close()
        self._raw.close()


class _MemberReader(io.RawIOBase):
    """The data of the member the walk is positioned on, read forward only (compressed layers);
    invalid once the walk moves on.
    """

    def __init__(self, source: _Source, size: int) -> None:
        self._source = source
        self.size = size
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        if n <= 0:
            return 0
        data = self._source.read(n)
        if len(data) < n:
            raise LayerError("tar member data is truncated")
        buffer[: len(data)] = data
        self.left -= len(data)
        return len(data)

    def consumed(self) -> int:
        """How far the walk's position moved while this member was read."""
        return self.size - self.left


class _RegionMember(_MemberReader):
    """A member of a plain tar on disk: random access by positional reads (no copy needed for
    formats that want to seek, such as ELF section tables and zip directories).
    """

    def __init__(self, fd: int, start: int, size: int) -> None:
        self._fd = fd
        self._start = start
        self.size = size
        self.left = size
        self._offset = 0

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._offset

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._offset, io.SEEK_END: self.size}[whence]
        self._offset = max(0, min(self.size, base + offset))
        return self._offset

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.size - self._offset)
        if n <= 0:
            return 0
        data = os.pread(self._fd, n, self._start + self._offset)
        if not data:
            raise LayerError("tar member data is truncated")
        buffer[: len(data)] = data
        self._offset += len(data)
        return len(data)

    def consumed(self) -> int:
        return 0


def _octal(field: bytes) -> int:
    if field and field[0] & 0x80:
        # GNU base-256 encoding, used for sizes of 8 GiB and more.
        value = int.from_bytes(field[1:], "big")
        return value - (1 << (8 * (len(field) - 1))) if field[0] & 0x40 else value
    nul = field.find(0)
    text = (field if nul < 0 else field[:nul]).strip()
    return int(text, 8) if text else 0


def _cstr(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _parse_pax(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        length = int(data[pos:space])
        if length <= 0:
            raise ValueError("bad PAX record length")
        record = data[space + 1 : pos + length - 1]
        key, _, value = record.partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def sniff_codec(loc: BlobLocation) -> str:
    """Return `gzip`, `zstd` or `tar` from the blob's first bytes (media types are not always right,
    and `docker save` archives have none).
    """
    with open(loc.path, "rb") as f:
        f.seek(loc.offset)
        head = f.read(min(4, loc.length))
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "tar"


def normalize_member_path(name: str, label: str) -> str:
    """Normalise a tar member name to a root-relative path; refuse absolute names and `..` escapes.

    Docker strips a leading `/` when it unpacks; we refuse instead, because no image builder writes
    one and a scanner must not read a path differently from the runtime that extracts it.
    """
    if name.startswith("./"):
        name = name[2:]
    if name.startswith("/"):
        raise LayerError(f"{label}: tar member {name!r} has an absolute path")
    if ".." in name or "//" in name or "/." in name or name.startswith("."):
        cleaned = posixpath.normpath(name) if name else "."
        if cleaned == ".." or cleaned.startswith("../"):
            raise LayerError(f"{label}: tar member {name!r} escapes the image root")
        return "" if cleaned == "." else cleaned
    return name.rstrip("/")


class LayerWalker:
    """Iterate the members of one layer; `open_member()` streams the current member's data.

    Use as a context manager; the digest is verified when iteration completes, so a walk that ends
    without an exception has read a blob that is exactly what its digest says.
    """

    def __init__(self, loc: BlobLocation, label: str, progress: Callable[[int], None] | None = None) -> None:
        self.label = label
        codec = sniff_codec(loc)
        self.codec = codec
        self._source: _Source = (
            _RegionSource(loc, label, progress)
            if codec == "tar"
            else _StreamSource(loc, codec, label, progress)
        )
        self._reader: _MemberReader | None = None
        self._closed = False

    def __enter__(self) -> LayerWalker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._source.close()

    def open_member(self) -> BinaryIO:
        """A buffered reader over the current member's data (seekable when the layer is a plain tar)."""
        if self._reader is None:
            raise LayerError(f"{self.label}: no regular file to read at this point of the walk")
        # Most wanted files are small metadata; a small buffer keeps peeks and seeks cheap.
        return io.BufferedReader(self._reader, buffer_size=1 << 13)

    def __iter__(self) -> Iterator[Member]:
        src = self._source
        label = self.label
        long_name: str | None = None
        long_link: str | None = None
        pax: dict[str, str] = {}
        while True:
            hdr = src.read(BLOCK)
            if not hdr:
                break  # end without the zero blocks; the digest check decides if that is truncation
            if len(hdr) < BLOCK:
                raise LayerError(f"{label}: tar header is truncated")
            if hdr == _ZERO_BLOCK:
                break
            try:
                size = _octal(hdr[124:136])
                # Every writer since POSIX.1-1988 stamps "ustar"; summing 512 bytes per member
                # is only worth it for headers without it (v7 tars, or not a tar at all). Damage
                # elsewhere is caught by the blob's digest when the walk ends.
                if hdr[257:262] != b"ustar":
                    stored = hdr[148:156]
                    if _octal(stored) != sum(hdr) - sum(stored) + 256:
                        raise LayerError(f"{label}: corrupt tar header (bad checksum; not a tar archive?)")
            except ValueError:
                raise LayerError(f"{label}: corrupt tar header (not a tar archive?)") from None
            typeflag = hdr[156:157]
            if typeflag in (b"x", b"g", b"L", b"K"):
                if size > _MAX_META:
                    raise LayerError(f"{label}: tar extended header of {size} bytes is implausible")
                data = src.read(size)
                if len(data) < size:
                    raise LayerError(f"{label}: tar data is truncated")
                src.skip(-size % BLOCK)
                if typeflag == b"x":
                    try:
                        pax = _parse_pax(data)
                    except ValueError:
                        raise LayerError(f"{label}: corrupt PAX extended header") from None
                elif typeflag == b"L":
                    long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                elif typeflag == b"K":
                    long_link = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                continue  # global PAX headers ('g') carry nothing a scanner needs
            if long_name is not None:
                name = long_name
            elif "path" in pax:
                name = pax["path"]
            else:
                name = _cstr(hdr[0:100])
                if hdr[257:263] == b"ustar\x00" and hdr[345] != 0:
                    name = f"{_cstr(hdr[345:500])}/{name}"
            if "size" in pax:
                size = int(pax["size"])
            link = long_link if long_link is not None else pax.get("linkpath")
            if link is None and typeflag in (b"1", b"2"):
                link = _cstr(hdr[157:257])
            long_name = long_link = None
            pax = {}

            kind = _KINDS.get(typeflag, OTHER)
            try:
                mode = _octal(hdr[100:108]) & 0o7777 if kind == FILE else 0
            except ValueError:
                mode = 0  # a garbled mode field costs us the executable bit, not the layer
            has_data = kind == FILE or typeflag not in _KINDS
            path = normalize_member_path(name, label)
            slash = path.rfind("/")
            base = path[slash + 1 :]
            if base.startswith(".wh."):
                parent = path[: slash + 1]
                if base == ".wh..wh..opq":
                    member = Member(parent.rstrip("/"), OPAQUE, 0)
                elif base.startswith(".wh..wh."):
                    member = None  # aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not content
                else:
                    member = Member(parent + base[4:], WHITEOUT, 0)
            elif kind == HARDLINK and link is not None:
                member = Member(path, kind, size, normalize_member_path(link, label))
            else:
                member = Member(path, kind, size if kind == FILE else 0, link, mode)

            if member is not None:
                if has_data and kind == FILE:
                    reader = self._reader = src.member(size)
                    yield member
                    self._reader = None
                    src.skip(size - reader.consumed() + (-size % BLOCK))
                    continue
                yield member
            if has_data:
                src.skip(size + (-size % BLOCK))
        src.finish()


def read_member(loc: BlobLocation, label: str, wanted: set[str]) -> Iterator[tuple[Member, BinaryIO]]:
    """Stream the listed regular-file members of one layer (a second, targeted pass, used to follow
    links whose targets the first pass did not need). No digest check: the first pass made it.
    """
    plain = BlobLocation(loc.path, loc.offset, loc.length)
    with LayerWalker(plain, label) as walker:
        for member in walker:
            if member.kind == FILE and member.path in wanted:
                yield member, walker.open_member()
