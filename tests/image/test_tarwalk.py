import gzip
import io
import tarfile
from pathlib import Path

import pytest
from testkit.images import compress, directory, file, hardlink, layer_tar, opaque, sha256, symlink, whiteout

from ci_security.errors import LayerError
from ci_security.image.tarwalk import (
    DIR,
    FILE,
    HARDLINK,
    OPAQUE,
    SYMLINK,
    WHITEOUT,
    BlobLocation,
    LayerWalker,
    normalize_member_path,
    read_member,
)


def _blob(tmp_path: Path, data: bytes, name: str = "blob") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _walk(loc: BlobLocation, read: set[str] = frozenset()) -> tuple[list, dict[str, bytes]]:
    members, contents = [], {}
    with LayerWalker(loc, "test-layer") as walker:
        for member in walker:
            members.append((member.path, member.kind, member.link))
            if member.path in read:
                contents[member.path] = walker.open_member().read()
    return members, contents


ENTRIES = [
    directory("etc"),
    file("etc/hostname", "box\n"),
    symlink("etc/os-release", "../usr/lib/os-release"),
    hardlink("etc/hostname2", "etc/hostname"),
    whiteout("var/cache/apt"),
    opaque("opt/app"),
    file("usr/lib/" + "deep/" * 40 + "long-name-file.txt", "long"),
]


@pytest.mark.parametrize("codec", [None, "gzip", "zstd"])
def test_walk_kinds_whiteouts_and_content(tmp_path, codec):
    tar = layer_tar(ENTRIES)
    data = compress(tar, codec)
    loc = BlobLocation(_blob(tmp_path, data), 0, len(data), digest=sha256(data))
    long_path = "usr/lib/" + "deep/" * 40 + "long-name-file.txt"
    members, contents = _walk(loc, {"etc/hostname", long_path})
    assert ("etc", DIR, None) in members
    assert ("etc/hostname", FILE, None) in members
    assert ("etc/os-release", SYMLINK, "../usr/lib/os-release") in members
    assert ("etc/hostname2", HARDLINK, "etc/hostname") in members
    assert ("var/cache/apt", WHITEOUT, None) in members
    assert ("opt/app", OPAQUE, None) in members
    assert contents == {"etc/hostname": b"box\n", long_path: b"long"}


def test_dot_slash_prefix_and_gnu_long_names(tmp_path):
    tar = layer_tar([directory("etc"), file("etc/" + "x" * 150, "gnu")], fmt=tarfile.GNU_FORMAT, prefix="./")
    loc = BlobLocation(_blob(tmp_path, tar), 0, len(tar), diff_id=sha256(tar))
    members, contents = _walk(loc, {"etc/" + "x" * 150})
    assert [m[0] for m in members] == ["etc", "etc/" + "x" * 150]
    assert contents["etc/" + "x" * 150] == b"gnu"


def test_ustar_prefix_field(tmp_path):
    name = "a" * 90 + "/" + "b" * 90
    tar = layer_tar([file(name, "x")], fmt=tarfile.USTAR_FORMAT)
    loc = BlobLocation(_blob(tmp_path, tar), 0, len(tar))
    members, _ = _walk(loc)
    assert members == [(name, FILE, None)]


def test_region_inside_a_larger_file(tmp_path):
    tar = layer_tar([file("a", "1"), file("b", "2")])
    blob = _blob(tmp_path, b"HEADER" + tar + b"TRAILER")
    loc = BlobLocation(blob, 6, len(tar), diff_id=sha256(tar))
    _, contents = _walk(loc, {"b"})
    assert contents == {"b": b"2"}


def test_concatenated_gzip_members_are_one_stream(tmp_path):
    tar = layer_tar([file("a", "1" * 5000), file("b", "2")])
    data = gzip.compress(tar[:4096]) + gzip.compress(tar[4096:])
    loc = BlobLocation(_blob(tmp_path, data), 0, len(data), digest=sha256(data))
    _, contents = _walk(loc, {"b"})
    assert contents == {"b": b"2"}


def test_digest_mismatch_is_an_error(tmp_path):
    tar = layer_tar([file("a", "1")])
    loc = BlobLocation(_blob(tmp_path, tar), 0, len(tar), diff_id=sha256(b"something else"))
    with pytest.raises(LayerError, match="does not match its digest"):
        _walk(loc)


def test_corrupt_gzip(tmp_path):
    data = bytearray(gzip.compress(layer_tar([file("a", "x" * 10000)])))
    data[20:40] = b"\xff" * 20
    loc = BlobLocation(_blob(tmp_path, bytes(data)), 0, len(data))
    with pytest.raises(LayerError, match="corrupt gzip data"):
        _walk(loc)


def test_truncated_gzip(tmp_path):
    data = gzip.compress(layer_tar([file("a", "x" * 100000), file("b", "y")]))[:-40]
    loc = BlobLocation(_blob(tmp_path, data), 0, len(data))
    with pytest.raises(LayerError, match="truncated"):
        _walk(loc)


def test_truncated_plain_tar(tmp_path):
    tar = layer_tar([file("a", "x" * 100000), file("b", "y")])
    cut = tar[:50000]
    loc = BlobLocation(_blob(tmp_path, cut), 0, len(cut))
    with pytest.raises(LayerError, match="truncated"):
        _walk(loc, {"a"})


def test_not_a_tar(tmp_path):
    data = b"this is not a tar archive at all " * 40
    loc = BlobLocation(_blob(tmp_path, data), 0, len(data))
    with pytest.raises(LayerError, match="corrupt tar header"):
        _walk(loc)


def _raw_tar(name: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../../etc/passwd", "escapes the image root"),
        ("a/../../b", "escapes the image root"),
        ("/etc/passwd", "absolute path"),
    ],
)
def test_hostile_member_names(tmp_path, name, message):
    tar = _raw_tar(name)
    loc = BlobLocation(_blob(tmp_path, tar), 0, len(tar))
    with pytest.raises(LayerError, match=message):
        _walk(loc)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("./etc/x", "etc/x"),
        ("etc//x/", "etc/x"),
        ("a/./b", "a/b"),
        ("a/b/../c", "a/c"),
        (".", ""),
        ("./", ""),
        (".bashrc", ".bashrc"),
        ("usr/lib/", "usr/lib"),
    ],
)
def test_normalize_member_path(name, expected):
    assert normalize_member_path(name, "l") == expected


def test_read_member_second_pass(tmp_path):
    tar = layer_tar([file("a", "1"), file("b", "2"), file("c", "3")])
    loc = BlobLocation(_blob(tmp_path, tar), 0, len(tar))
    got = {m.path: s.read() for m, s in read_member(loc, "l", {"a", "c"})}
    assert got == {"a": b"1", "c": b"3"}


def test_large_member_is_streamed_not_loaded(tmp_path):
    # 64 MiB of zeros compresses to ~64 KiB; reading only the small file after it must work without
    # holding the big one in memory (the walker discards it in bounded chunks).
    big = tarfile.TarInfo("var/big.bin")
    big.size = 64 << 20
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.addfile(big, io.BytesIO(bytes(big.size)))
        tar.addfile(tarfile.TarInfo("z"), io.BytesIO(b""))
    data = gzip.compress(buf.getvalue(), compresslevel=1)
    loc = BlobLocation(_blob(tmp_path, data), 0, len(data), digest=sha256(data))
    members, _ = _walk(loc)
    assert [m[0] for m in members] == ["var/big.bin", "z"]
