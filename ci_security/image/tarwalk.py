r"""Single-pass reading of layer tarballs, without extracting anything.

A layer blob is a tar archive, stored plain, gzip- or zstd-compressed. `LayerWalker` reads the tar
headers itself (Python's `tarfile` spends ~25 µs a member; a Debian base layer has 15,000), yields one
`Member` per entry with its path normalised and whiteouts recognised, and lets the caller stream the
current member's data while the walk is positioned on it. Nothing is written to disk.

Integrity: every blob is checked against its digest while it is read. Compressed blobs are hashed as
they are decompressed; a plain tar region is hashed by a second thread in parallel with the header
walk (hashlib and file reads release the GIL), because the walk itself seeks over member data it does
not need. A mismatch, a corrupt or truncated stream, a member whose name is absolute or climbs out of
the root with `..`: each raises `LayerError` naming the layer and the problem. After a complete walk
`verified_digest` is the digest that was checked, the only key under which the layer's results may
be cached.

Hostile layers: every header is validated before anything is read on its behalf. Its checksum must
hold (as Go's archive/tar, which containerd extracts with, demands), numeric fields must be octal
digits or GNU base-256, and a size that is negative, non-numeric (also in a PAX `size` record) or
larger than `layer_bytes` is refused before the walk moves. Names and link targets are bounded
(`path_bytes`, `path_components`, `symlink_target_bytes`), members per layer too (`layer_files`), and
decompression by `layer_bytes`, the image's `image_bytes` and `compression_ratio`, all from
`ci_security.limits`. Names that are not UTF-8 are decoded with backslash escapes (`f\xffoo`), so
nothing downstream ever holds text that cannot be written to a report. The walker never writes
anything to disk.
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

from ci_security import limits
from ci_security.errors import LayerError
from ci_security.image.budget import ImageBudget, LayerLimitError, check_ratio
from ci_security.image.digest import check_digest, split_digest

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
_RAW_CHUNK = 1 << 20
_ZSTD_IN = 128 << 10
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
    verifies whichever is given. `verified` says the source has already checked `digest` against
    these bytes in this run (a registry download hashes while it writes), so the walker need not.
    """

    path: Path
    offset: int
    length: int
    digest: str | None = None
    diff_id: str | None = None
    verified: bool = False


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
    return split_digest(check_digest(digest, "layer", error=LayerError))


class _RegionSource:
    """A plain tar stored in a file region: seek over data, hash the region in another thread."""

    def __init__(
        self,
        loc: BlobLocation,
        label: str,
        progress: Callable[[int], None] | None,
        budget: ImageBudget | None,
        size_limit: str,
    ) -> None:
        # A plain tar decompresses to itself: its whole length counts against the limits up front.
        if loc.length > getattr(limits.active(), size_limit):
            raise LayerLimitError(label, size_limit, f"{loc.length:,} bytes")
        if budget is not None:
            budget.charge_decompressed(loc.length, label)
        self._file = open(loc.path, "rb", buffering=1 << 16)  # noqa: SIM115 - closed in finish()/close()
        self._file.seek(loc.offset)
        self._offset = loc.offset
        self._end = loc.offset + loc.length
        self._pos = loc.offset
        self._label = label
        self._progress = progress
        self._reported = loc.offset
        expected = None if loc.verified else (loc.digest or loc.diff_id)
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
        self._length = loc.length
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

    @property
    def consumed(self) -> int:
        """Compressed bytes read so far."""
        return self._length - self._left

    def close(self) -> None:
        self._file.close()


class _StreamSource:
    """A compressed tar: decompress in bounded chunks (no whole layer in memory), skip by discarding."""

    def __init__(
        self,
        loc: BlobLocation,
        codec: str,
        label: str,
        progress: Callable[[int], None] | None,
        budget: ImageBudget | None,
    ) -> None:
        self._label = label
        self._codec = codec
        self._loc = loc
        self._budget = budget
        self._max_bytes = limits.active().layer_bytes
        self._produced = 0
        self._raw_algo = _hash_algorithm(loc.digest)[0] if (loc.digest and not loc.verified) else None
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
            # Small reads keep the input count (for the ratio) close to what was inflated.
            self._zstd_reader = zstandard.ZstdDecompressor().stream_reader(
                cast(BinaryIO, self._raw), read_size=_ZSTD_IN, read_across_frames=True
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
        if out:
            self._produced += len(out)
            if self._produced > self._max_bytes:
                raise LayerLimitError(
                    self._label, "layer_bytes", f"decompresses to more than {self._produced:,} bytes"
                )
            # Judge the ratio on the input actually inflated, not on what was read ahead.
            check_ratio(self._produced, self._raw.consumed - len(self._tail), self._label)
            if self._budget is not None:
                self._budget.charge_decompressed(len(out), self._label)
            if self._out_hash is not None:
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
                        # A match cut off by the output bound can still be pending (≤ 258 bytes).
                        out = gz.flush()
                        if out:
                            return out
                        raise LayerError(f"{self._label}: gzip stream is truncated")
                    self._eof = True
                    return b""
                out = gz.decompress(raw, _OUT_CHUNK)
                self._tail = gz.unconsumed_tail
            if gz.eof:
                # Everything after the member's end is in unused_data; with an output bound,
                # zlib reports the same bytes as unconsumed_tail too, so that must not be added
                # (doing so doubled the input at each member boundary).
                rest = gz.unused_data
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
        self.start = start
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
        data = os.pread(self._fd, n, self.start + self._offset)
        if not data:
            raise LayerError("tar member data is truncated")
        buffer[: len(data)] = data
        self._offset += len(data)
        return len(data)

    def consumed(self) -> int:
        return 0


def _number(field: bytes) -> int:
    """A numeric header field: octal digits (NUL/space padded), or GNU base-256 (first byte 0x80
    for a positive value, 0xff for a negative one). Anything else raises ValueError: Python's
    `int(text, 8)` alone would also take `-1`, `+7`, `0o7` and `1_0`.
    """
    body = field[:-1]
    if field[-1:] in (b"\0", b" ") and body.isdigit():
        return int(body, 8)  # the common shape, "0000644\0"; an 8 or 9 is a ValueError as it should be
    first = field[0] if field else 0
    if first == 0x80 or first == 0xFF:
        value = int.from_bytes(field[1:], "big")
        return value - (1 << (8 * (len(field) - 1))) if first == 0xFF else value
    nul = field.find(0)
    text = (field if nul < 0 else field[:nul]).strip()
    if not text:
        return 0
    if text.translate(None, b"01234567"):
        raise ValueError("not an octal number")
    return int(text, 8)


def _checksum_ok(hdr: bytes) -> bool:
    """The header checksum: the sum of its bytes with the checksum field counted as spaces, unsigned
    or (as some old writers did) signed.

    `sum()` over 512 bytes costs ~4 µs, a tenth of a second on a large layer; adler32's low half is
    one plus the sum modulo 65521 for a twentieth of that, and for an ASCII header (every real one)
    the sum is at most 512 * 127 < 65521, so it is the sum itself.
    """
    field = hdr[148:156]
    if hdr.isascii():
        total = (zlib.adler32(hdr) & 0xFFFF) - 1 - sum(field) + 256
        if field[6:] == b"\0 " and field[:6].isdigit():  # "%06o\0 ", as every writer puts it
            try:
                return int(field[:6], 8) == total
            except ValueError:
                return False
        try:
            return _number(field) == total
        except ValueError:
            return False
    try:
        stored = _number(field)
    except ValueError:
        return False
    unsigned = sum(hdr) - sum(field) + 256
    signed = unsigned - 256 * sum(1 for b in hdr[:148] + hdr[156:] if b > 127)
    return stored in (unsigned, signed)


_OCTAL_OR_NUL = b"01234567\0"


def _numbers_ok(hdr: bytes) -> bool:
    """The numeric fields a reader must parse besides the size and checksum (mode, uid, gid, mtime,
    devmajor, devminor) hold numbers. Go's archive/tar refuses a header where one does not (and
    `tarfile` stops there), so this walk must not read on past it. The common case, digits and NULs
    only, is checked in one step; anything else field by field.
    """
    # hdr[100:148] spans mode, uid, gid, size and mtime; the size has been read already.
    if not (hdr[100:148].translate(None, _OCTAL_OR_NUL) or hdr[329:345].translate(None, _OCTAL_OR_NUL)):
        return True
    try:
        for start, end in ((100, 108), (108, 116), (116, 124), (136, 148), (329, 337), (337, 345)):
            _number(hdr[start:end])
    except ValueError:
        return False
    return True


def _text(raw: bytes) -> str:
    r"""A name from a header: UTF-8, and any byte that is not written as `\xNN`, so the result is
    always valid text (a report can hold it) and distinct names stay distinct.
    """
    return raw.decode("utf-8", "backslashreplace")


def _cstr(field: bytes) -> str:
    return _text(field.split(b"\0", 1)[0])


def _parse_pax(data: bytes) -> dict[str, bytes]:
    r"""The records of a PAX extended header (`"%d %s=%s\n" % (length, key, value)`); ValueError if
    a record is malformed. Values stay bytes: only `path`, `linkpath` and `size` are used.
    """
    records: dict[str, bytes] = {}
    pos, end = 0, len(data)
    while pos < end:
        if data[pos] == 0:
            break  # NUL padding after the last record
        space = data.find(b" ", pos, pos + 21)
        digits = data[pos:space]
        if space < 0 or not digits.isdigit():
            raise ValueError("bad PAX record length")
        length = int(digits)
        stop = pos + length
        if length <= space - pos + 1 or stop > end or data[stop - 1] != 0x0A:
            raise ValueError("bad PAX record")
        key, eq, value = data[space + 1 : stop - 1].partition(b"=")
        if not eq or not key:
            raise ValueError("bad PAX record")
        records[key.decode("utf-8", "backslashreplace")] = value
        pos = stop
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
        if not name.strip("/"):
            return ""  # the root directory itself, as some writers record it

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
    without an exception has read a blob that is exactly what its digest says (`verified_digest`).
    """

    def __init__(
        self,
        loc: BlobLocation,
        label: str,
        progress: Callable[[int], None] | None = None,
        budget: ImageBudget | None = None,
        *,
        size_limit: str = "layer_bytes",
    ) -> None:
        """`size_limit` bounds a plain tar's whole length (an image archive, which holds every
        layer, passes `image_bytes`); members are always bounded by `layer_bytes`.
        """
        self.label = label
        self._loc = loc
        codec = sniff_codec(loc)
        self.codec = codec
        self._source: _Source = (
            _RegionSource(loc, label, progress, budget, size_limit)
            if codec == "tar"
            else _StreamSource(loc, codec, label, progress, budget)
        )
        self._reader: _MemberReader | None = None
        self._closed = False
        self._complete = False
        self._limits = limits.active()

    def __enter__(self) -> LayerWalker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._source.close()

    @property
    def verified_digest(self) -> str | None:
        """After a complete walk: the digest of the blob that was checked against its bytes in this
        run (by the walk, or by the source that downloaded it); None before, or if nothing was.
        """
        if not self._complete:
            return None
        loc = self._loc
        return loc.digest or loc.diff_id

    def open_member(self) -> BinaryIO:
        """A buffered reader over the current member's data (seekable when the layer is a plain tar)."""
        if self._reader is None:
            raise LayerError(f"{self.label}: no regular file to read at this point of the walk")
        # Most wanted files are small metadata; a small buffer keeps peeks and seeks cheap.
        return io.BufferedReader(self._reader, buffer_size=1 << 13)

    def data_offset(self) -> int:
        """Where the current member's data starts in the file (plain tars only: an archive index)."""
        reader = self._reader
        if not isinstance(reader, _RegionMember):
            raise LayerError(f"{self.label}: member offsets are known only for plain tar files")
        return reader.start

    def _check_name(self, name: str, what: str, limit: str = "path_bytes") -> None:
        bound = getattr(self._limits, limit)
        # A character is at most 4 UTF-8 bytes: encode only names that might be too long.
        if len(name) * 4 > bound:
            size = len(name.encode("utf-8", "surrogatepass"))
            if size > bound:
                raise LayerLimitError(self.label, limit, f"{what} of {size:,} bytes")
        if "\0" in name:
            raise LayerError(f"{self.label}: {what} {name[:100]!r} contains a NUL byte")

    def _check_components(self, path: str, what: str) -> None:
        slashes = path.count("/")
        if slashes >= self._limits.path_components:
            detail = f"{what} {path[:100]!r}… has {slashes + 1:,} components"
            raise LayerLimitError(self.label, "path_components", detail)

    def __iter__(self) -> Iterator[Member]:
        src = self._source
        label = self.label
        max_size = self._limits.layer_bytes
        max_files = self._limits.layer_files
        max_name = self._limits.path_bytes
        max_depth = self._limits.path_components
        long_name: bytes | None = None
        long_link: bytes | None = None
        pax: dict[str, bytes] = {}
        headers = 0
        while True:
            hdr = src.read(BLOCK)
            if not hdr:
                break  # end without the zero blocks; the digest check decides if that is truncation
            if len(hdr) < BLOCK:
                raise LayerError(f"{label}: tar header is truncated")
            if hdr == _ZERO_BLOCK:
                break
            headers += 1
            if headers > max_files:
                raise LayerLimitError(label, "layer_files", f"more than {max_files:,} tar members")
            # Validate the whole header before reading anything on its behalf: a negative or huge
            # size would make the walk seek backwards (forever) or skip past the end.
            if not _checksum_ok(hdr):
                raise LayerError(f"{label}: corrupt tar header (bad checksum; not a tar archive?)")
            try:
                size = _number(hdr[124:136])
            except ValueError:
                raise LayerError(f"{label}: corrupt tar header (size is not a number)") from None
            if not _numbers_ok(hdr):
                raise LayerError(f"{label}: corrupt tar header (a numeric field is not a number)")
            typeflag = hdr[156:157]
            if typeflag == b"S" and hdr[482]:
                # Old GNU sparse files continue their sparse map in extension blocks; skip them so
                # the walk stays aligned (the member itself is reported as OTHER: nothing reads it).
                extended = True
                while extended:
                    block = src.read(BLOCK)
                    if len(block) < BLOCK:
                        raise LayerError(f"{label}: tar header is truncated")
                    headers += 1
                    if headers > max_files:
                        raise LayerLimitError(label, "layer_files", f"more than {max_files:,} tar headers")
                    extended = block[504] != 0
            if size < 0:
                raise LayerError(f"{label}: tar member with a negative size ({size})")
            if size > max_size:
                raise LayerLimitError(label, "layer_bytes", f"a tar member claims {size:,} bytes")
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
                    long_name = data.split(b"\0", 1)[0]
                elif typeflag == b"K":
                    long_link = data.split(b"\0", 1)[0]
                continue  # global PAX headers ('g') carry nothing a scanner needs (containerd ignores them)
            if long_name is not None:
                name = _text(long_name)
            elif "path" in pax:
                name = _text(pax["path"])
            else:
                name = _cstr(hdr[0:100])
                if hdr[257:265] == b"ustar\x0000" and hdr[345] != 0:  # POSIX magic and version
                    name = f"{_cstr(hdr[345:500])}/{name}"
            raw_link = long_link if long_link is not None else pax.get("linkpath")
            link = _text(raw_link) if raw_link is not None else None
            if link is None and typeflag in (b"1", b"2"):
                link = _cstr(hdr[157:257])
            if "size" in pax:
                text = pax["size"]
                if not text.isdigit() or len(text) > 20:
                    shown = text[:40].decode("ascii", "backslashreplace")
                    raise LayerError(f"{label}: PAX header size {shown!r} is not a number")
                size = int(text)
                if size > max_size:
                    raise LayerLimitError(label, "layer_bytes", f"a tar member claims {size:,} bytes")
            long_name = long_link = None
            pax = {}

            if typeflag == b"\0" and hdr[0:100].split(b"\0", 1)[0].endswith(b"/"):
                typeflag = b"5"  # pre-POSIX writers mark directories by the trailing slash alone
            kind = _KINDS.get(typeflag, OTHER)
            try:
                mode = _number(hdr[100:108]) & 0o7777 if kind == FILE else 0
            except ValueError:
                mode = 0  # a garbled mode field costs us the executable bit, not the layer
            has_data = kind == FILE or typeflag not in _KINDS
            # Inline guards first: these run for every member of every layer.
            if len(name) * 4 > max_name or "\0" in name:
                self._check_name(name, "tar member name")
            path = normalize_member_path(name, label)
            if path.count("/") >= max_depth:
                self._check_components(path, "tar member name")
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
                self._check_name(link, "hard link target")
                target = normalize_member_path(link, label)
                self._check_components(target, "hard link target")
                member = Member(path, kind, size, target)
            else:
                if kind == SYMLINK and link is not None:
                    self._check_name(link, "symbolic link target", "symlink_target_bytes")
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
        self._complete = True


def read_member(loc: BlobLocation, label: str, wanted: set[str]) -> Iterator[tuple[Member, BinaryIO]]:
    """Stream the listed regular-file members of one layer (a second, targeted pass, used to follow
    links whose targets the first pass did not need). No digest check: the first pass made it.
    """
    plain = BlobLocation(loc.path, loc.offset, loc.length)
    with LayerWalker(plain, label) as walker:
        for member in walker:
            if member.kind == FILE and member.path in wanted:
                yield member, walker.open_member()
