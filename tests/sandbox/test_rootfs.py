"""Unpacking an image for the sandbox: the merged filesystem exactly (whiteouts, opaque folders,
upper layers winning), setuid bits kept inside, no device node created, and nothing written through
a symbolic link, whatever the layers hold."""

from __future__ import annotations

import io
import stat
import tarfile
from pathlib import Path

import pytest
from testkit.images import build_oci_layout, directory, file, hardlink, layer_tar, opaque, symlink, whiteout

from ci_security.errors import LayerError
from ci_security.image.base import SourceOptions
from ci_security.image.reference import parse_image_ref
from ci_security.image.registry import source_for
from ci_security.sandbox.rootfs import Rootfs, remove, unpack


def _unpack(tmp_path: Path, layers=None, layer_tars=None) -> Rootfs:
    layout = tmp_path / "layout"
    build_oci_layout(layout, layers or [[] for _ in layer_tars], layer_tars=layer_tars)
    ref = parse_image_ref(f"oci:{layout}")
    (tmp_path / "work").mkdir()
    image = source_for(ref).open(ref, SourceOptions(workdir=tmp_path / "work"))
    dest = tmp_path / "rootfs"
    dest.mkdir()
    return unpack(image, dest)


def test_the_merged_view_is_what_is_written(tmp_path):
    base = [
        directory("etc"),
        file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
        file("a/gone", "x"),
        file("a/kept", "x"),
        file("b/hidden", "x"),
        file("c", "a file, then a folder"),
        directory("d"),
        file("d/inside", "x"),
        file("bin/tool", "#!/bin/sh\n", mode=0o4755),
    ]
    top = [
        whiteout("a/gone"),
        opaque("b"),
        file("b/new", "new"),
        directory("c"),
        file("c/now-a-folder", "x"),
        file("d", "a folder, then a file"),
        file("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n"),
        hardlink("bin/again", "bin/tool"),
    ]
    rootfs = _unpack(tmp_path, [base, top])
    root = rootfs.path
    assert (root / "a/kept").exists() and not (root / "a/gone").exists()
    assert (root / "b/new").read_text() == "new" and not (root / "b/hidden").exists()
    assert (root / "c").is_dir() and (root / "c/now-a-folder").exists()
    assert (root / "d").is_file() and (root / "d").read_text() == "a folder, then a file"
    assert "app:x:1000" in (root / "etc/passwd").read_text()
    assert stat.S_IMODE((root / "bin/tool").stat().st_mode) == 0o4755  # kept inside
    assert (root / "bin/again").stat().st_ino == (root / "bin/tool").stat().st_ino
    for mount_point in ("proc", "dev", "tmp", "run", "var/tmp"):
        assert (root / mount_point).is_dir()
    assert rootfs.real_path("/etc/../etc/passwd") == "etc/passwd"


def test_nothing_is_written_through_a_symbolic_link(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    # A link and a file under it in one layer; a link in a lower layer and a file under it above.
    same = [symlink("same", str(outside)), file("same/planted", "owned"), symlink("kept", str(outside))]
    base = [symlink("escape", str(outside)), symlink("rel", "../../outside")]
    top = [file("escape/planted", "owned"), file("rel/planted", "owned"), file("fine", "ok")]
    rootfs = _unpack(tmp_path, [base, [*top, *same]])
    assert list(outside.iterdir()) == []
    assert (rootfs.path / "fine").read_text() == "ok"
    # The upper layer's files went into folders of those names; the lower links could not be made.
    assert (rootfs.path / "escape").is_dir() and not (rootfs.path / "escape").is_symlink()
    assert (rootfs.path / "same").is_symlink() and (rootfs.path / "kept").is_symlink()
    assert rootfs.stats.unsafe == 3
    assert rootfs.read_head("same/planted", 10) is None  # a link is never followed on the host


def test_device_nodes_and_fifos_are_not_created(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind in (
            ("dev/sda", tarfile.BLKTYPE),
            ("dev/mem", tarfile.CHRTYPE),
            ("fifo", tarfile.FIFOTYPE),
        ):
            info = tarfile.TarInfo(name)
            info.type = kind
            info.devmajor, info.devminor = 1, 1
            tar.addfile(info)
        info = tarfile.TarInfo("ok")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"ok"))
    rootfs = _unpack(tmp_path, layer_tars=[buffer.getvalue()])
    assert rootfs.stats.special == 3
    assert not (rootfs.path / "dev/sda").exists() and not (rootfs.path / "fifo").exists()
    assert (rootfs.path / "ok").read_bytes() == b"ok"


def test_a_member_that_climbs_out_of_the_root_refuses_the_image(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("../../escaped")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(LayerError, match="escapes the image root"):
        _unpack(tmp_path, layer_tars=[buffer.getvalue()])
    assert not (tmp_path.parent / "escaped").exists()


def test_remove_takes_away_what_the_image_made_unreadable(tmp_path):
    rootfs = _unpack(tmp_path, [[file("locked/inside", "x")]])
    (rootfs.path / "locked").chmod(0)
    remove(rootfs.path)
    assert not rootfs.path.exists()


def test_layer_tar_helper_is_the_format_the_walker_reads():
    assert layer_tar([file("x", "1")])  # the testkit writes PAX tars, as BuildKit does
