"""Bounded reading of downloaded feed files: decompression, XML events and JSON arrays.

Every file here came from a server this tool does not control (or a file handed to `db import`):

- **Decompression** (`open_decompressed`) recognises gzip, bzip2, xz and zstd by their magic bytes
  (a name can lie; a mirror may serve `updateinfo.xml.xz` where another serves `.gz`) and counts
  what comes out: never more than `download-bytes`, and never more than `compression-ratio` times
  the compressed size once past 64 MiB, so a small bomb cannot fill memory or disk.
- **XML** (`xml_events`) goes through expat as a stream (depth costs no stack), with a document type
  declaration refused outright (no feed needs one; it is where entity expansion bombs and external
  entities live), element nesting bounded by `nesting-depth`, and the text of one element bounded by
  `record-bytes`.
- **JSON arrays** (`json_array_items`) are split into their items without loading the document
  (an NVD year file decompresses to hundreds of MB): the top-level object's scalar members are
  kept, the named array is yielded item by item, each at most `record-bytes` and decoded with the
  `nesting-depth` check.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import re
from collections.abc import Callable, Iterator
from typing import IO, Any, Protocol
from xml.parsers import expat

from ci_security import limits
from ci_security.errors import CiSecurityError
from ci_security.structured import depth

_CHUNK = 1 << 20
_RATIO_FLOOR = 64 * limits.MiB
ErrorFactory = Callable[[str], CiSecurityError]


class _Reader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class _Counted:
    """A read-only stream over a decompressor that enforces the output bounds."""

    def __init__(self, inner: _Reader, where: str, compressed: int, codec: str) -> None:
        self.inner = inner
        self.where = where
        self.compressed = max(compressed, 1)
        self.codec = codec
        self.total = 0

    def read(self, size: int = _CHUNK) -> bytes:
        data = self.inner.read(size)
        self.total += len(data)
        bounds = limits.active()
        if self.total > bounds.download_bytes:
            raise limits.LimitExceededError(
                self.where, "download_bytes", f"it decompresses past {bounds.download_bytes:,} bytes"
            )
        if (
            self.codec
            and self.total > _RATIO_FLOOR
            and self.total > bounds.compression_ratio * self.compressed
        ):
            raise limits.LimitExceededError(
                self.where, "compression_ratio", f"{self.total:,} bytes from {self.compressed:,}"
            )
        return data

    def close(self) -> None:
        self.inner.close()


_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


def codec_of(head: bytes) -> str:
    """The compression a file's first bytes announce ("" for none)."""
    return next((name for magic, name in _MAGIC if head.startswith(magic)), "")


def open_decompressed(raw: IO[bytes], where: str, size: int) -> _Counted:
    """`raw` (a binary file of `size` bytes, positioned at 0) decompressed as its magic says."""
    head = raw.read(6)
    raw.seek(0)
    codec = codec_of(head)
    inner: _Reader
    if codec == "gzip":
        inner = gzip.GzipFile(fileobj=raw, mode="rb")
    elif codec == "bzip2":
        inner = bz2.BZ2File(raw, "rb")
    elif codec == "xz":
        inner = lzma.LZMAFile(raw, "rb")  # noqa: SIM115 - closed with the stream
    elif codec == "zstd":
        import zstandard

        inner = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    else:
        inner = raw
    return _Counted(inner, where, size, codec)


_DECODE_ERRORS = (OSError, EOFError, lzma.LZMAError, ValueError)


def read_chunks(stream: _Counted, error: ErrorFactory) -> Iterator[bytes]:
    """The decompressed bytes of `stream` in pieces; a corrupt compressed body is one error."""
    while True:
        try:
            piece = stream.read(_CHUNK)
        except limits.LimitExceededError:
            raise
        except _DECODE_ERRORS as exc:
            what = f"corrupt {stream.codec} data" if stream.codec else "cannot read"
            raise error(f"{stream.where}: {what} ({str(exc)[:120]})") from None
        except Exception as exc:  # zstandard raises its own ZstdError
            if type(exc).__name__ == "ZstdError":
                raise error(f"{stream.where}: corrupt zstd data ({str(exc)[:120]})") from None
            raise
        if not piece:
            return
        yield piece


# --- XML -------------------------------------------------------------------------------------


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1].rsplit(" ", 1)[-1]


def xml_events(pieces: Iterator[bytes], where: str, error: ErrorFactory) -> Iterator[tuple[str, str, Any]]:
    """("start", tag, attributes) and ("end", tag, text) events of an XML stream, local names only;
    `text` is the character data directly inside the element (for leaf elements, all of it).
    """
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    bounds = limits.active()
    events: list[tuple[str, str, Any]] = []
    texts: list[list[str]] = [[]]
    sizes = [0]

    def refuse(*_: object) -> None:
        raise error(f"{where}: has a document type declaration (refused: no feed needs one)")

    def start(name: str, attributes: dict[str, str]) -> None:
        if len(texts) > bounds.nesting_depth:
            raise limits.LimitExceededError(where, "nesting_depth", "XML elements nested too deeply")
        events.append(("start", _local(name), {_local(k): v for k, v in attributes.items()}))
        texts.append([])
        sizes.append(0)

    def end(name: str) -> None:
        text = "".join(texts.pop())
        sizes.pop()
        events.append(("end", _local(name), text))

    def chars(data: str) -> None:
        sizes[-1] += len(data)
        if sizes[-1] > bounds.record_bytes:
            raise limits.LimitExceededError(where, "record_bytes", "the text of one XML element")
        texts[-1].append(data)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        for piece in pieces:
            parser.Parse(piece, False)
            yield from events
            events.clear()
        parser.Parse(b"", True)
        yield from events
    except expat.ExpatError as exc:
        raise error(
            f"{where}: not well-formed XML: {expat.ErrorString(exc.code)} at line {exc.lineno}"
        ) from None


# --- JSON arrays ------------------------------------------------------------------------------

_WS = " \t\r\n"
_NUMBER_TAIL = re.compile(r"[0-9.eE+\-]*")


class _Text:
    """Decoded text of a byte stream, read on demand, with a moving start."""

    def __init__(self, pieces: Iterator[bytes], where: str, error: ErrorFactory) -> None:
        import codecs

        self.pieces = pieces
        self.where = where
        self.error = error
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.buf = ""
        self.pos = 0
        self.done = False

    def more(self) -> bool:
        if self.done:
            return False
        piece = next(self.pieces, None)
        try:
            if piece is None:
                self.done = True
                self.buf = self.buf[self.pos :] + self.decoder.decode(b"", final=True)
            else:
                self.buf = self.buf[self.pos :] + self.decoder.decode(piece)
        except UnicodeDecodeError:
            raise self.error(f"{self.where}: not UTF-8") from None
        self.pos = 0
        return True

    def skip_ws(self) -> str:
        """The next non-blank character (not consumed), "" at the end."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def expect(self, char: str) -> None:
        if self.skip_ws() != char:
            found = self.buf[self.pos : self.pos + 20] or "the end"
            raise self.error(f"{self.where}: invalid JSON: expected {char!r}, found {found!r}")
        self.pos += 1

    def value(self, decoder: json.JSONDecoder) -> Any:
        """One JSON value, at most `record-bytes` long."""
        bound = limits.active().record_bytes
        self.skip_ws()
        while True:
            try:
                value, end = decoder.raw_decode(self.buf, self.pos)
            except RecursionError:
                raise limits.LimitExceededError(self.where, "nesting_depth", "nested too deeply") from None
            except json.JSONDecodeError as exc:
                if len(self.buf) - self.pos > bound:
                    raise limits.LimitExceededError(
                        self.where, "record_bytes", "one value is longer (or is not valid JSON)"
                    ) from None
                if self.more():
                    continue  # the value may only be cut off at the end of what was read so far
                raise self.error(f"{self.where}: invalid JSON: {exc.msg}") from None
            except ValueError as exc:
                raise self.error(f"{self.where}: invalid JSON: {str(exc)[:120]}") from None
            if isinstance(value, (int, float)) and not self.done and _NUMBER_TAIL.fullmatch(self.buf, end):
                self.more()  # no delimiter after the number yet: it may go on in the next piece
                continue
            if end - self.pos > bound:
                raise limits.LimitExceededError(self.where, "record_bytes", "one array item")
            self.pos = end
            if depth(value) > limits.active().nesting_depth:
                raise limits.LimitExceededError(self.where, "nesting_depth")
            return value


def json_array_items(
    pieces: Iterator[bytes], key: str, where: str, error: ErrorFactory, header: dict[str, Any]
) -> Iterator[Any]:
    """The items of the array member `key` of a top-level JSON object, one at a time; the object's
    other members (scalars, small values) are put in `header` as they are passed (NVD writes its
    counters before `vulnerabilities`, so they are known when the first item comes).
    """
    text = _Text(pieces, where, error)
    decoder = json.JSONDecoder()
    text.expect("{")
    if text.skip_ws() == "}":
        text.pos += 1
        return
    while True:
        name = text.value(decoder)
        if not isinstance(name, str):
            raise error(f"{where}: invalid JSON: an object key that is not a string")
        text.expect(":")
        if name == key and text.skip_ws() == "[":
            text.pos += 1
            if text.skip_ws() == "]":
                text.pos += 1
            else:
                while True:
                    yield text.value(decoder)
                    following = text.skip_ws()
                    text.pos += 1
                    if following == "]":
                        break
                    if following != ",":
                        raise error(f"{where}: invalid JSON: expected ',' or ']' in {key!r}")
        else:
            header[name] = text.value(decoder)
        following = text.skip_ws()
        text.pos += 1
        if following == "}":
            break
        if following != ",":
            raise error(f"{where}: invalid JSON: expected ',' or '}}' after {name!r}")
    if text.skip_ws() != "":
        raise error(f"{where}: invalid JSON: data after the end of the document")
