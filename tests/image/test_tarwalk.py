import gzip
import io
import tarfile
from pathlib import Path

import pytest
from testkit import tarcraft
from testkit.images import compress, directory, file, hardlink, layer_tar, opaque, sha256, symlink, whiteout

from ci_security import limits
from ci_security.errors import LayerError
from ci_security.image.budget import ImageBudget, LayerLimitError
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


# --- hostile headers: validated before the walk moves ----------------------------------------------


def _loc(tmp_path: Path, data: bytes, codec: str | None = None, name: str = "blob") -> BlobLocation:
    data = compress(data, codec)
    return BlobLocation(_blob(tmp_path, data, name), 0, len(data), digest=sha256(data))


def _with(**values):
    return limits.use(limits.with_overrides(limits.DEFAULTS, values))


@pytest.mark.parametrize("codec", [None, "gzip"])
def test_negative_base256_size_is_refused_up_front(tmp_path, codec):
    # Read naively, a size of -1024 seeks backwards onto the same header: a walk that never ends.
    tar = tarcraft.member("a", b"x") + tarcraft.header("evil", size=-1024) + tarcraft.END
    with pytest.raises(LayerError, match=r"negative size \(-1024\)"):
        _walk(_loc(tmp_path, tar, codec))


@pytest.mark.parametrize(
    "size", [b"-0000000001\0", b"+0000000001\0", b"0o000000001\0", b"00000001_0\0\0", b"1e3\0"]
)
def test_non_octal_size_fields(tmp_path, size):
    tar = tarcraft.header("a", size=size) + tarcraft.END
    with pytest.raises(LayerError, match="size is not a number"):
        _walk(_loc(tmp_path, tar))


def test_only_gnu_base256_markers_count(tmp_path):
    tar = tarcraft.header("a", size=b"\x81" + bytes(10) + b"\x01") + tarcraft.END
    with pytest.raises(LayerError, match="size is not a number"):
        _walk(_loc(tmp_path, tar))


def test_positive_base256_size_is_read(tmp_path):
    tar = tarcraft.header("a", size=tarcraft.base256(3)) + tarcraft.pad(b"abc") + tarcraft.END
    _, contents = _walk(_loc(tmp_path, tar), {"a"})
    assert contents == {"a": b"abc"}


@pytest.mark.parametrize("codec", [None, "gzip"])
def test_huge_size_is_a_layer_limit(tmp_path, codec):
    tar = tarcraft.header("huge", size=1 << 62) + tarcraft.END
    with pytest.raises(LayerLimitError, match=r"test-layer: exceeds the layer-bytes limit .*claims"):
        _walk(_loc(tmp_path, tar, codec))


@pytest.mark.parametrize("value", [b"12abc", b"-5", b"", b" 7", b"9" * 30, b"0x10"])
def test_pax_size_that_is_not_a_number(tmp_path, value):
    tar = tarcraft.pax({b"size": value}) + tarcraft.member("a", b"x") + tarcraft.END
    with pytest.raises(LayerError, match=r"PAX header size .* is not a number"):
        _walk(_loc(tmp_path, tar))


def test_pax_size_overrides_the_header(tmp_path):
    tar = tarcraft.pax({b"size": b"3"}) + tarcraft.header("a", size=0) + tarcraft.pad(b"abc") + tarcraft.END
    _, contents = _walk(_loc(tmp_path, tar), {"a"})
    assert contents == {"a": b"abc"}


@pytest.mark.parametrize(
    "data",
    [b"99999999 path=x\n", b"abc path=x\n", b"5 path=x\n", b"11 pathx\n\n\n", b"12 path=abc!"],
)
def test_malformed_pax_records(tmp_path, data):
    tar = tarcraft.header("PaxHeader", size=len(data), typeflag=b"x") + tarcraft.pad(data)
    tar += tarcraft.member("a", b"x") + tarcraft.END
    with pytest.raises(LayerError, match="corrupt PAX extended header"):
        _walk(_loc(tmp_path, tar))


def test_bad_checksum_is_refused_even_with_the_ustar_magic(tmp_path):
    good = tarcraft.header("a", size=0)
    bad = good[:10] + b"Z" + good[11:]
    with pytest.raises(LayerError, match="bad checksum"):
        _walk(_loc(tmp_path, bad + tarcraft.END))


def test_signed_checksum_of_old_writers_is_accepted(tmp_path):
    name = "caf\xe9".encode("latin-1")
    unsigned = tarcraft.header(name)
    signed_sum = sum(unsigned[:148]) + 256 + sum(unsigned[156:]) - 256 * sum(1 for b in unsigned if b > 127)
    tar = tarcraft.header(name, checksum=b"%06o\0 " % signed_sum) + tarcraft.END
    members, _ = _walk(_loc(tmp_path, tar))
    assert members == [("caf\\xe9", FILE, None)]


def test_non_utf8_names_are_escaped_not_carried_as_surrogates(tmp_path):
    raw = b"usr/lib/python3/site-packages/f\xffoo-1.0.dist-info/METADATA"
    tar = tarcraft.member(raw, b"Name: foo\n")
    tar += tarcraft.pax({b"path": b"opt/\xc3\x28bad", b"hdrcharset": b"BINARY"}) + tarcraft.member("x")
    tar += tarcraft.member(b"etc/link", typeflag=b"2", linkname=b"../\xfe") + tarcraft.END
    members, _ = _walk(_loc(tmp_path, tar))
    assert members == [
        ("usr/lib/python3/site-packages/f\\xffoo-1.0.dist-info/METADATA", FILE, None),
        ("opt/\\xc3(bad", FILE, None),
        ("etc/link", SYMLINK, "../\\xfe"),
    ]
    for path, _, link in members:
        path.encode("utf-8")  # always valid text
        (link or "").encode("utf-8")


def test_nul_inside_a_pax_path_is_refused(tmp_path):
    tar = tarcraft.pax({b"path": b"etc/a\0b"}) + tarcraft.member("x") + tarcraft.END
    with pytest.raises(LayerError, match="contains a NUL byte"):
        _walk(_loc(tmp_path, tar))


@pytest.mark.parametrize("header", ["gnu", "pax"])
def test_long_names_are_bounded(tmp_path, header):
    name = b"a" * 5000
    prefix = tarcraft.gnu_long_name(name) if header == "gnu" else tarcraft.pax({b"path": name})
    tar = prefix + tarcraft.member("x") + tarcraft.END
    with pytest.raises(
        LayerLimitError, match=r"exceeds the path-bytes limit \(4 KiB\): tar member name of 5,000"
    ):
        _walk(_loc(tmp_path, tar))


def test_many_component_names_are_bounded(tmp_path):
    name = b"a/" * 300 + b"b"
    tar = tarcraft.pax({b"path": name}) + tarcraft.member("x") + tarcraft.END
    with pytest.raises(LayerLimitError, match=r"exceeds the path-components limit .* has 301 components"):
        _walk(_loc(tmp_path, tar))


def test_long_symlink_target_is_bounded(tmp_path):
    target = b"a/" * 100_000
    tar = tarcraft.pax({b"linkpath": target}) + tarcraft.header("l", typeflag=b"2") + tarcraft.END
    with pytest.raises(LayerLimitError, match="exceeds the symlink-target-bytes limit"):
        _walk(_loc(tmp_path, tar))


def test_hard_link_target_is_bounded_and_normalised(tmp_path):
    tar = tarcraft.pax({b"linkpath": b"x/" * 300}) + tarcraft.header("h", typeflag=b"1") + tarcraft.END
    with pytest.raises(LayerLimitError, match="path-components"):
        _walk(_loc(tmp_path, tar))
    escape = tarcraft.header("h", typeflag=b"1", linkname="../../etc/shadow") + tarcraft.END
    with pytest.raises(LayerError, match="escapes the image root"):
        _walk(_loc(tmp_path, escape, name="escape"))


def test_members_per_layer_are_bounded(tmp_path):
    tar = b"".join(tarcraft.member(f"f{i}") for i in range(11)) + tarcraft.END
    with _with(layer_files="10"), pytest.raises(LayerLimitError, match=r"layer-files limit \(10\)"):
        _walk(_loc(tmp_path, tar))
    with _with(layer_files="11"):
        assert len(_walk(_loc(tmp_path, tar, name="ok"))[0]) == 11


def test_old_style_directory_by_trailing_slash(tmp_path):
    tar = tarcraft.header("etc/", typeflag=b"\0") + tarcraft.END
    assert _walk(_loc(tmp_path, tar))[0] == [("etc", DIR, None)]


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_layer_bytes_bound_decompression(tmp_path, codec):
    tar = layer_tar([file("big", bytes(3 << 20))])
    with _with(layer_bytes="1MiB"), pytest.raises(LayerLimitError, match=r"layer-bytes limit .*decompresses"):
        _walk(_loc(tmp_path, tar, codec))


def test_layer_bytes_bound_a_plain_layer_before_reading(tmp_path):
    tar = layer_tar([file("big", bytes(3 << 20))])
    with _with(layer_bytes="1MiB"), pytest.raises(LayerLimitError, match="layer-bytes limit"):
        LayerWalker(_loc(tmp_path, tar), "test-layer")


def test_compression_ratio_stops_a_bomb_after_the_grace(tmp_path):
    # ~100 MiB of zeros in a zstd frame of a few KiB: refused once 64 MiB came out.
    tar = tarcraft.header("zeros", size=100 << 20) + bytes(100 << 20) + tarcraft.END
    loc = _loc(tmp_path, tar, "zstd")
    assert loc.length < 100_000
    with pytest.raises(LayerLimitError, match="compression-ratio limit"):
        _walk(loc)
    with _with(compression_ratio="100000"):
        assert _walk(loc)[0] == [("zeros", FILE, None)]


def test_image_bytes_are_counted_across_layers(tmp_path):
    budget = ImageBudget()
    tar = layer_tar([file("f", bytes(600 << 10))])
    with _with(image_bytes="1MiB"):
        with LayerWalker(_loc(tmp_path, tar, "gzip", "one"), "first", budget=budget) as walker:
            list(walker)
        second = LayerWalker(_loc(tmp_path, tar, "gzip", "two"), "second", budget=budget)
        with second, pytest.raises(LayerLimitError, match=r"second: exceeds the image-bytes limit"):
            list(second)


def test_limit_hit_while_a_cataloger_reads_is_a_layer_error(tmp_path):
    # The runner lets LayerError through the plugin boundary; a limit reached while a cataloger
    # pulls data from the member must be one too, not a cataloger warning.
    assert issubclass(LayerLimitError, LayerError)


def test_verified_digest_only_after_a_complete_walk(tmp_path):
    tar = layer_tar([file("a", "1"), file("b", "2")])
    loc = _loc(tmp_path, tar, "gzip")
    with LayerWalker(loc, "l") as walker:
        next(iter(walker))
        assert walker.verified_digest is None
    with LayerWalker(loc, "l") as walker:
        list(walker)
        assert walker.verified_digest == loc.digest
    bad = BlobLocation(loc.path, 0, loc.length, digest=sha256(b"other"))
    with LayerWalker(bad, "l") as walker, pytest.raises(LayerError, match="does not match"):
        list(walker)
    assert walker.verified_digest is None


def test_many_concatenated_gzip_members_in_one_read(tmp_path):
    # Members that each inflate past the walker's 4 MiB output step, all arriving in one raw read:
    # at each member's end the bytes after it must be handed on once (an earlier version handed
    # them on twice, doubling the input at every boundary: 12 boundaries, 4096 copies).
    tar = layer_tar([file("zeros", bytes(60 << 20)), file("last", "x")])
    step = 5 << 20
    data = b"".join(
        gzip.compress(tar[i : i + step], compresslevel=1, mtime=0) for i in range(0, len(tar), step)
    )
    assert len(data) < 1 << 20  # one raw read
    loc = BlobLocation(_blob(tmp_path, data), 0, len(data), digest=sha256(data))
    members, contents = _walk(loc, {"last"})
    assert [m[0] for m in members] == ["zeros", "last"] and contents == {"last": b"x"}
