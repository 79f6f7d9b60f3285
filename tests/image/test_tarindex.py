"""The outer archive: indexed by the validating walker, decompressed in bounded steps."""

import gzip
import tarfile
from pathlib import Path

import pytest
import zstandard
from testkit import tarcraft
from testkit.images import build_docker_archive, file

from ci_security import limits
from ci_security.errors import ImageError
from ci_security.image.budget import ImageBudget, LayerLimitError
from ci_security.image.tarindex import ArchiveIndex
from ci_security.limits import LimitExceededError


def _with(**values):
    return limits.use(limits.with_overrides(limits.DEFAULTS, values))


def _archive(tmp_path: Path) -> bytes:
    build_docker_archive(tmp_path / "a.tar", [[file("etc/hostname", "box\n")]])
    return (tmp_path / "a.tar").read_bytes()


@pytest.mark.parametrize("codec", ["gzip", "gzip-members", "zstd"])
def test_compressed_archives_are_indexed(tmp_path, codec):
    plain = _archive(tmp_path)
    if codec == "gzip":
        data = gzip.compress(plain)
    elif codec == "gzip-members":
        data = gzip.compress(plain[:1000]) + gzip.compress(plain[1000:]) + bytes(512)
    else:
        data = zstandard.ZstdCompressor().compress(plain)
    (tmp_path / "c.tar").write_bytes(data)
    (tmp_path / "w").mkdir()
    budget = ImageBudget()
    index = ArchiveIndex(tmp_path / "c.tar", "c", tmp_path / "w", budget)
    assert "manifest.json" in index
    assert budget.spooled == len(plain)


def test_spool_bytes_bound_the_decompressed_copy(tmp_path):
    (tmp_path / "c.tar.gz").write_bytes(gzip.compress(_archive(tmp_path) + bytes(3 << 20)))
    (tmp_path / "w").mkdir()
    with (
        _with(spool_bytes="1MiB"),
        pytest.raises(LimitExceededError, match=r"^c: exceeds the spool-bytes limit"),
    ):
        ArchiveIndex(tmp_path / "c.tar.gz", "c", tmp_path / "w")


def test_a_bomb_stops_at_the_ratio_after_the_grace(tmp_path):
    bomb = tmp_path / "bomb.tar.gz"
    with open(bomb, "wb") as out:
        for part in tarcraft.zero_gzip_members(1 << 30):
            out.write(part)
    assert bomb.stat().st_size < 2 << 20
    (tmp_path / "w").mkdir()
    with pytest.raises(LayerLimitError, match=r"bomb: exceeds the compression-ratio limit"):
        ArchiveIndex(bomb, "bomb", tmp_path / "w")
    # It stopped shortly after the 64 MiB grace, not after a GiB.
    assert (tmp_path / "w" / "archive.tar").stat().st_size < 80 << 20


def test_truncated_compressed_archive(tmp_path):
    (tmp_path / "c.tar.gz").write_bytes(gzip.compress(_archive(tmp_path))[:-30])
    (tmp_path / "w").mkdir()
    with pytest.raises(ImageError, match="truncated"):
        ArchiveIndex(tmp_path / "c.tar.gz", "c", tmp_path / "w")


def test_hostile_headers_in_the_outer_archive(tmp_path):
    (tmp_path / "w").mkdir()
    evil = tmp_path / "evil.tar"
    evil.write_bytes(tarcraft.member("manifest.json", b"[]") + tarcraft.header("x", size=-1) + tarcraft.END)
    with pytest.raises(ImageError, match=r"not a readable tar archive \(tar member with a negative size"):
        ArchiveIndex(evil, "evil", tmp_path / "w")
    evil.write_bytes(tarcraft.member("../../outside", b"x") + tarcraft.END)
    with pytest.raises(ImageError, match="escapes the image root"):
        ArchiveIndex(evil, "evil", tmp_path / "w")


def test_symlink_loops_in_the_archive_are_bounded(tmp_path):
    (tmp_path / "w").mkdir()
    loop = tmp_path / "loop.tar"
    with tarfile.open(loop, "w") as tar:
        for name, target in (("a", "b"), ("b", "a")):
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    index = ArchiveIndex(loop, "loop", tmp_path / "w")
    with pytest.raises(LimitExceededError, match="symlink-hops"):
        index.read("a")


def test_metadata_reads_are_bounded(tmp_path):
    (tmp_path / "w").mkdir()
    (tmp_path / "a.tar").write_bytes(_archive(tmp_path))
    index = ArchiveIndex(tmp_path / "a.tar", "a", tmp_path / "w")
    with (
        _with(image_metadata_bytes="64"),
        pytest.raises(LimitExceededError, match=r"manifest.json: exceeds the image-metadata-bytes"),
    ):
        index.read("manifest.json")
