"""Mutation fuzzing of the tar walker against Python's `tarfile` (bounded iterations, fixed seeds).

Real small layers (written by GNU tar in its gnu, posix and ustar formats, and by `tarfile` in PAX
and GNU format, plain and gzip-compressed) are mutated the way a hostile layer would be: header
fields set to negative, huge or malformed numbers (with the checksum fixed up, so the walker has to
judge the field itself), type flags changed, names and link targets replaced, PAX records garbled,
blocks dropped or duplicated, bytes flipped, the stream cut short.

For every mutant the walker either yields exactly the members `tarfile` reads, with the same data,
or raises `LayerError`; never any other exception and never a hang. `tarfile` counts as accepting
a mutant only if it reads it to a proper end (a zero block or the end of the data): where it stops
silently at a header it cannot parse, it has refused the rest. It is also told the rules of Go's
archive/tar, which containerd extracts layers with and which the walker follows where the two
differ: the ustar prefix only under the POSIX magic, Solaris `X` headers are not PAX headers, a GNU
long name is exactly `size` bytes and beats a PAX path, of two long names or two PAX headers in a
row the last counts, and global PAX headers are ignored (inputs with one are checked only for
crashes).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import random
import signal
import subprocess
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit import tarcraft

from ci_security.errors import LayerError
from ci_security.image.tarwalk import (
    DIR,
    FILE,
    HARDLINK,
    OPAQUE,
    OTHER,
    SYMLINK,
    WHITEOUT,
    BlobLocation,
    LayerWalker,
    normalize_member_path,
)

ITERATIONS = 350
SEEDS = (11, 1107, 65521)
BLOCK = 512


# --- real inputs -----------------------------------------------------------------------------------


def _tree(root: Path) -> None:
    (root / "etc" / "apt").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("box\n")
    (root / "etc" / "apt" / "sources.list").write_text("deb http://deb.debian.org/debian bookworm main\n")
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "usr" / "lib" / "os-release").write_text('ID=debian\nVERSION_ID="12"\n')
    (root / "etc" / "os-release").symlink_to("../usr/lib/os-release")
    deep = root / "opt" / ("long-directory-name-" * 4) / ("x" * 60)
    deep.mkdir(parents=True)
    (deep / ("file-with-a-long-name-" * 5)).write_text("long\n")
    (root / "var" / "lib" / "dpkg").mkdir(parents=True)
    (root / "var" / "lib" / "dpkg" / "status").write_text("Package: a\nVersion: 1\n\n" * 40)
    (root / "var" / "lib" / "dpkg" / "status-old").hardlink_to(root / "var" / "lib" / "dpkg" / "status")
    (root / "var" / "cache" / ".wh.apt").parent.mkdir(parents=True)
    (root / "var" / "cache" / ".wh.apt").write_bytes(b"")
    (root / "opt" / ".wh..wh..opq").write_bytes(b"")
    (root / "empty").write_bytes(b"")


def _gnu_tar(root: Path, fmt: str) -> bytes | None:
    try:
        proc = subprocess.run(
            [
                "tar",
                f"--format={fmt}",
                "--sort=name",
                "--owner=0",
                "--group=0",
                "--numeric-owner",
                "-C",
                str(root),
                "-cf",
                "-",
                ".",
            ],
            capture_output=True,
            timeout=60,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout


def _python_tar(root: Path, fmt: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        tar.add(root, arcname="", recursive=True)
    return buf.getvalue()


@pytest.fixture(scope="module")
def layers(tmp_path_factory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("tree")
    _tree(root)
    found = {
        "python-pax": _python_tar(root, tarfile.PAX_FORMAT),
        "python-gnu": _python_tar(root, tarfile.GNU_FORMAT),
    }
    for fmt in ("gnu", "posix", "ustar"):
        data = _gnu_tar(root, fmt)
        if data is not None:
            found[f"gnutar-{fmt}"] = data
    return found


# --- the reference: tarfile, told Go's rules ------------------------------------------------------


class _GoRules(tarfile.TarInfo):
    @classmethod
    def frombuf(cls, buf, encoding, errors):  # type: ignore[no-untyped-def]
        obj = super().frombuf(buf, encoding, errors)
        if buf[257:265] != b"ustar\x0000" and buf[345] != 0 and obj.type not in tarfile.GNU_TYPES:
            name = tarfile.nts(buf[0:100], encoding, errors)
            obj.name = name.rstrip("/") if obj.isdir() else name
        return obj

    def _proc_member(self, tarfile_):  # type: ignore[no-untyped-def]
        if self.type == tarfile.SOLARIS_XHDTYPE:  # not a PAX header to Go: an unknown type with data
            self.offset_data = tarfile_.fileobj.tell()
            tarfile_.offset = self.offset_data + self._block(self.size)
            return self
        return super()._proc_member(tarfile_)

    def _proc_gnulong(self, tarfile_):  # type: ignore[no-untyped-def]
        # Go reads exactly `size` bytes of a long name; tarfile reads the padding up to the block.
        buf = tarfile_.fileobj.read(self._block(self.size))[: self.size]
        try:
            following = self.fromtarfile(tarfile_)
        except tarfile.HeaderError as exc:
            raise tarfile.SubsequentHeaderError(str(exc)) from None
        following.offset = self.offset
        text = tarfile.nts(buf, tarfile_.encoding, tarfile_.errors)
        # Of two long names in a row, Go keeps the last (the one nearest the member); tarfile the first.
        if self.type == tarfile.GNUTYPE_LONGNAME:
            if getattr(following, "_go_name", None) is None:
                following.name = following._go_name = text
        elif getattr(following, "_go_link", None) is None:
            following.linkname = following._go_link = text
        if following.isdir():
            following.name = following.name.removesuffix("/")
        return following

    def _apply_pax_info(self, pax_headers, encoding, errors):  # type: ignore[no-untyped-def]
        # Of two PAX headers in a row Go keeps the last; tarfile applies the first over it.
        if pax_headers and getattr(self, "_go_pax", False):
            return
        super()._apply_pax_info(pax_headers, encoding, errors)
        if pax_headers:
            self._go_pax = True
        if getattr(self, "_go_name", None) is not None:
            self.path = self._go_name
        if getattr(self, "_go_link", None) is not None:
            self.linkpath = self._go_link


class _SkipError(Exception):
    """The input holds something the reference reads by other rules (a global PAX header)."""


def _text(name: str) -> str:
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


_KIND = {
    tarfile.REGTYPE: FILE,
    tarfile.AREGTYPE: FILE,
    tarfile.CONTTYPE: FILE,
    tarfile.LNKTYPE: HARDLINK,
    tarfile.SYMTYPE: SYMLINK,
    tarfile.DIRTYPE: DIR,
}


def _project(path: str, kind: str, size: int, link: str | None) -> tuple:
    """What the walker reports for an entry: whiteouts recognised, sizes and links where they mean
    something."""
    slash = path.rfind("/")
    base, parent = path[slash + 1 :], path[: slash + 1]
    if base.startswith(".wh."):
        if base == ".wh..wh..opq":
            return (parent.rstrip("/"), OPAQUE, 0, None)
        if base.startswith(".wh..wh."):
            return ()
        return (parent + base[4:], WHITEOUT, 0, None)
    return (path, kind, size if kind == FILE else 0, link if kind in (SYMLINK, HARDLINK) else None)


def _reference(plain: bytes) -> list[tuple[tuple, bytes | None]] | None:
    """The members `tarfile` reads to a proper end, with file contents; None if it refuses."""
    out: list[tuple[tuple, bytes | None]] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(plain), mode="r:", tarinfo=_GoRules) as tar:
            for count, info in enumerate(tar):
                if count > 1000:
                    return None  # a negative size walks tarfile backwards: it never ends
                kind = _KIND.get(info.type, OTHER)
                path = normalize_member_path(_text(info.name), "ref")
                link = _text(info.linkname)
                if kind == HARDLINK:
                    link = normalize_member_path(link, "ref")
                entry = _project(path, kind, info.size, link)
                if entry:
                    data = tar.extractfile(info).read() if entry[1] == FILE else None  # type: ignore[union-attr]
                    out.append((entry, data))
            if tar.pax_headers:
                raise _SkipError
            rest = plain[tar.offset : tar.offset + BLOCK]
            if rest and rest != bytes(len(rest)):
                return None  # it stopped at a header it could not read: the rest is refused
    except _SkipError:
        raise
    except LayerError:
        return None  # a name the walker must refuse (absolute, escaping the root)
    except Exception:
        return None
    return out


# --- the walker under test --------------------------------------------------------------------------


class _HangError(Exception):
    """The walker did not finish in time."""


def _alarm(signum, frame):  # type: ignore[no-untyped-def]
    raise _HangError("the walker did not finish within 10 s")


def _walk(path: Path, blob: bytes) -> list[tuple[tuple, bytes | None]]:
    path.write_bytes(blob)
    loc = BlobLocation(path, 0, len(blob), digest="sha256:" + hashlib.sha256(blob).hexdigest())
    out: list[tuple[tuple, bytes | None]] = []
    with LayerWalker(loc, "fuzz") as walker:
        for member in walker:
            entry = (
                member.path,
                member.kind,
                member.size if member.kind == FILE else 0,
                member.link if member.kind in (SYMLINK, HARDLINK) else None,
            )
            if member.kind == WHITEOUT or member.kind == OPAQUE:
                entry = (member.path, member.kind, 0, None)
            data = walker.open_member().read() if member.kind == FILE else None
            out.append((entry, data))
    return out


# --- mutations ----------------------------------------------------------------------------------------


def _headers(plain: bytes) -> list[int]:
    """Offsets of the header blocks of a well-formed tar (read with tarfile before mutating)."""
    offsets = []
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r:") as tar:
        for info in tar:
            offsets.append(info.offset)
            # PAX and GNU long-name headers come before the member's own header.
            pos = info.offset
            while pos < info.offset_data - BLOCK:
                pos += BLOCK
                offsets.append(pos)
    return sorted(set(offsets))


def _fix_checksum(buf: bytearray, at: int) -> None:
    hdr = buf[at : at + BLOCK]
    if len(hdr) < BLOCK:
        return
    hdr[148:156] = b" " * 8
    buf[at + 148 : at + 156] = b"%06o\0 " % sum(hdr)


_NUMBERS = [
    tarcraft.base256(-1),
    tarcraft.base256(-(1 << 40)),
    tarcraft.base256(1 << 62),
    tarcraft.base256(7),
    b"-0000000001\0",
    b"+7\0",
    b"0o17\0",
    b"1_0\0",
    b"77777777777\0",
    b"   12   \0",
    b"\x81\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01",
    b"zzzz\0",
    b"",
    b"0" * 12,
]
_FIELDS = [(124, 12), (100, 8), (108, 8), (136, 12), (148, 8), (329, 8)]
_NAMES = [
    b"../../etc/passwd",
    b"/abs/path",
    b"a" * 100,
    b"f\xffoo\xfe",
    b"x/.wh.y",
    b"d/.wh..wh..opq",
    b"dir/",
    b"./",
    b"",
    b"a\0b",
]
_PAX = [
    b"5 a=\n",
    b"12 size=abc\n",
    b"13 size=-12\n",
    b"99 path=x\n",
    b"18 path=" + b"\xff" * 9 + b"\n",
    b"16 linkpath=../..\n",
    b"11 size=0\n",
    b"21 size=99999999999\n",
    b"not a record",
    b"9 path=\n\n",
]


def _mutate(plain: bytes, rng: random.Random) -> bytes:
    buf = bytearray(plain)
    headers = _headers(plain) or [0]
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        at = rng.choice(headers)
        op = rng.randrange(10)
        if at + BLOCK > len(buf):
            continue  # an earlier mutation of this round shortened the data
        if op == 0:  # a numeric field, checksum fixed so the field itself is judged
            start, width = rng.choice(_FIELDS)
            value = rng.choice(_NUMBERS)
            buf[at + start : at + start + width] = value[:width].ljust(width, b"\0")
            if start != 148:
                _fix_checksum(buf, at)
        elif op == 1:  # type flag
            buf[at + 156] = rng.choice(b"0125LKxgSX7\x00A346V")
            _fix_checksum(buf, at)
        elif op == 2:  # name or link target
            start = rng.choice((0, 157, 345))
            width = 155 if start == 345 else 100
            buf[at + start : at + start + width] = rng.choice(_NAMES)[:width].ljust(width, b"\0")
            _fix_checksum(buf, at)
        elif op == 3:  # PAX/long-name data block replaced
            data_at = at + BLOCK
            record = rng.choice(_PAX)
            buf[data_at : data_at + len(record)] = record
        elif op == 4:  # drop a block
            cut = rng.randrange(0, max(1, len(buf) // BLOCK)) * BLOCK
            del buf[cut : cut + BLOCK]
        elif op == 5:  # duplicate a header block
            buf[at:at] = buf[at : at + BLOCK]
        elif op == 6 and buf:  # cut short
            del buf[rng.randrange(0, len(buf)) :]
        elif op == 7:  # magic and version
            buf[at + 257 : at + 265] = rng.choice((b"ustar\x0000", b"ustar  \x00", b"\0" * 8, b"ustar\x00xx"))
            _fix_checksum(buf, at)
        else:  # random bytes anywhere in the header, checksum fixed or not
            for _ in range(rng.randint(1, 4)):
                if buf:
                    buf[(at + rng.randrange(BLOCK)) % len(buf)] = rng.randrange(256)
            if rng.random() < 0.5:
                _fix_checksum(buf, at)
    return bytes(buf)


def _mutants(plain: bytes, seed: int) -> Iterator[tuple[bytes, bytes]]:
    """(plain tar, blob) pairs: the blob is the plain tar, its gzip, or a damaged gzip."""
    rng = random.Random(seed)
    for _ in range(ITERATIONS):
        mutated = _mutate(plain, rng)
        choice = rng.randrange(4)
        if choice < 2:
            yield mutated, mutated
        elif choice == 2:
            yield mutated, gzip.compress(mutated, compresslevel=1, mtime=0)
        else:
            blob = bytearray(gzip.compress(plain, compresslevel=1, mtime=0))
            for _ in range(rng.randint(1, 3)):
                blob[rng.randrange(len(blob))] = rng.randrange(256)
            if rng.random() < 0.3:
                del blob[rng.randrange(len(blob)) :]
            try:
                inflated = gzip.decompress(bytes(blob))
            except Exception:
                inflated = b"\x01" * BLOCK  # gzip itself refuses it: the reference refuses too
            yield inflated, bytes(blob)


@pytest.mark.parametrize("seed", SEEDS)
def test_walker_agrees_with_tarfile_or_refuses(layers, tmp_path, seed):
    previous = signal.signal(signal.SIGALRM, _alarm)
    tally = {"same": 0, "refused": 0, "reference refused": 0, "skipped": 0}
    try:
        for name, plain in sorted(layers.items()):
            for number, (inflated, blob) in enumerate(_mutants(plain, seed + zlib.crc32(name.encode()))):
                where = f"{name} mutant {number} (seed {seed})"
                try:
                    expected = _reference(inflated)
                except _SkipError:
                    expected = None
                    tally["skipped"] += 1
                signal.alarm(10)
                try:
                    got = _walk(tmp_path / "blob", blob)
                except LayerError:
                    # Where tarfile reads on, the walker is stricter by design, as Go is: a PAX
                    # record that does not parse, `+7` or `-1` in a numeric field, a NUL in a PAX path.
                    tally["refused"] += 1
                    continue
                except _HangError:
                    pytest.fail(f"{where}: the walker hung")
                except Exception as exc:  # the property: nothing but LayerError escapes
                    pytest.fail(f"{where}: {exc.__class__.__name__}: {exc}")
                finally:
                    signal.alarm(0)
                if expected is None:
                    tally["reference refused"] += 1
                    continue
                assert got == expected, where
                tally["same"] += 1
    finally:
        signal.signal(signal.SIGALRM, previous)
    # The mutations must exercise both outcomes, or the test proves nothing.
    assert tally["same"] > ITERATIONS // 4 and tally["refused"] > ITERATIONS // 4, tally


def test_unmutated_layers_read_the_same(layers, tmp_path):
    for name, plain in layers.items():
        expected = _reference(plain)
        assert expected, name
        assert _walk(tmp_path / "blob", plain) == expected, name
        assert _walk(tmp_path / "blob", gzip.compress(plain)) == expected, name
