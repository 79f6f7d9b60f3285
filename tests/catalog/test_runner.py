"""The single walk, the merged view and layer attribution, on real multi-layer images."""

import io
import tarfile
from pathlib import Path

import pytest
from testkit.images import (
    DEBIAN_RELEASE,
    build_oci_layout,
    directory,
    dpkg_status,
    file,
    layer_tar,
    opaque,
    symlink,
    whiteout,
)

from ci_security.catalog.registry import CATALOGERS
from ci_security.catalog.runner import catalog_image
from ci_security.errors import ImageError
from ci_security.image.base import SourceOptions
from ci_security.image.ocilayout import open_oci_dir


def _inventory(tmp_path: Path, layers, workers: int = 2, layer_tars=None):
    build_oci_layout(tmp_path / "layout", layers, layer_tars=layer_tars)
    (tmp_path / "work").mkdir(exist_ok=True)
    image = open_oci_dir(tmp_path / "layout", None, "oci:test", SourceOptions(workdir=tmp_path / "work"))
    return catalog_image(image, CATALOGERS, tmpdir=tmp_path / "work", workers=workers), image


BASE = [
    *DEBIAN_RELEASE,
    directory("var/lib/dpkg"),
    file("var/lib/dpkg/status", dpkg_status(("libc6", "2.36-9"), ("bash", "5.2-1"), ("zlib1g", "1:1.2.13"))),
]


@pytest.mark.parametrize("workers", [1, 3])
def test_packages_are_attributed_to_the_layer_that_introduced_them(tmp_path, workers):
    layers = [
        BASE,
        [
            file(
                "var/lib/dpkg/status",
                dpkg_status(
                    ("libc6", "2.36-9"), ("bash", "5.2-1"), ("zlib1g", "1:1.2.13"), ("curl", "7.88.1-10")
                ),
            )
        ],
        [file("app/run.sh", "#!/bin/sh\n")],
        [
            file(
                "var/lib/dpkg/status",
                dpkg_status(
                    ("libc6", "2.36-9.1"), ("bash", "5.2-1"), ("zlib1g", "1:1.2.13"), ("curl", "7.88.1-10")
                ),
            )
        ],
    ]
    inv, image = _inventory(tmp_path, layers, workers)
    by = {p.name: p for p in inv.packages}
    assert {n: by[n].layer.index for n in by} == {"bash": 0, "zlib1g": 0, "curl": 1, "libc6": 3}
    assert by["curl"].layer.diff_id == image.layers[1].diff_id
    assert by["libc6"].version == "2.36-9.1"
    assert inv.os.family == "debian" and inv.os.version == "12.5"
    assert by["zlib1g"].purl == "pkg:deb/debian/zlib1g@1.2.13?arch=amd64&distro=debian-12.5&epoch=1"
    assert all(p.found_by == "os/dpkg" for p in inv.packages)
    assert inv.warnings == ()


def test_reinstalled_after_removal_points_at_the_reinstall(tmp_path):
    layers = [
        BASE,
        [file("var/lib/dpkg/status", dpkg_status(("libc6", "2.36-9"), ("zlib1g", "1:1.2.13")))],
        [
            file(
                "var/lib/dpkg/status",
                dpkg_status(("libc6", "2.36-9"), ("bash", "5.2-1"), ("zlib1g", "1:1.2.13")),
            )
        ],
    ]
    inv, _ = _inventory(tmp_path, layers)
    assert {p.name: p.layer.index for p in inv.packages} == {"libc6": 0, "zlib1g": 0, "bash": 2}


def test_whiteout_removes_a_package_database(tmp_path):
    layers = [
        [
            *BASE,
            directory("lib/apk/db"),
            file("lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\n"),
        ],
        [whiteout("lib/apk")],
    ]
    inv, _ = _inventory(tmp_path, layers)
    assert {p.type for p in inv.packages} == {"deb"}


def test_opaque_directory_hides_status_d(tmp_path):
    layers = [
        [
            *DEBIAN_RELEASE,
            directory("var/lib/dpkg/status.d"),
            file("var/lib/dpkg/status.d/old", "Package: old\nVersion: 1\nArchitecture: amd64\n"),
        ],
        [
            directory("var/lib/dpkg/status.d"),
            opaque("var/lib/dpkg/status.d"),
            file("var/lib/dpkg/status.d/new", "Package: new\nVersion: 2\nArchitecture: amd64\n"),
        ],
    ]
    inv, _ = _inventory(tmp_path, layers)
    assert [(p.name, p.layer.index) for p in inv.packages] == [("new", 1)]


def test_release_file_behind_a_symlink_in_another_layer(tmp_path):
    layers = [
        [
            directory("usr/lib"),
            file("usr/lib/os-release.d", "x"),
            file("opt/rel/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"),
        ],
        [
            directory("etc"),
            symlink("etc/os-release", "/opt/rel/os-release"),
            file("lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\n"),
        ],
    ]
    inv, _ = _inventory(tmp_path, layers)
    assert (inv.os.family, inv.os.version) == ("alpine", "3.19.1")
    assert [p.purl for p in inv.packages] == ["pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=3.19.1"]


def test_symlink_loop_at_a_wanted_path_is_a_warning(tmp_path):
    layers = [
        [
            *BASE[:-1],
            directory("var/lib/dpkg"),
            file("var/lib/dpkg/status", dpkg_status(("a", "1"))),
            symlink("etc/alpine-release", "alpine-release2"),
            symlink("etc/alpine-release2", "alpine-release"),
        ]
    ]
    inv, _ = _inventory(tmp_path, layers)
    assert [p.name for p in inv.packages] == ["a"]
    assert len(inv.warnings) == 1 and "too many levels of symbolic links" in inv.warnings[0].message


def test_one_unreadable_database_among_many_is_a_warning(tmp_path):
    layers = [
        [
            *BASE,
            directory("lib/apk/db"),
            file("lib/apk/db/installed", "P:musl\nV:1\n\n"),
            file("var/lib/dpkg/status.d/broken", "Package: x\nVersion: 1\nSource: x (1) trailing junk\n"),
        ]
    ]
    inv, _ = _inventory(tmp_path, layers)
    assert len(inv.packages) == 4
    assert [(w.source, w.path) for w in inv.warnings] == [("os/dpkg", "/var/lib/dpkg/status.d/broken")]


def test_only_database_unreadable_fails_the_scan(tmp_path):
    layers = [[*DEBIAN_RELEASE, file("var/lib/dpkg/status", b"\x00garbage\x00" * 100)]]
    with pytest.raises(ImageError, match="cannot read the OS package database /var/lib/dpkg/status"):
        _inventory(tmp_path, layers)


def test_oversized_database_is_refused_without_reading_it(tmp_path):
    # A 300 MiB status file of zeros (gzip makes it ~300 KiB on disk) exceeds the dpkg limit.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("var/lib/dpkg/status")
        info.size = 300 << 20
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    tars = [layer_tar(DEBIAN_RELEASE), buf.getvalue()]
    with pytest.raises(ImageError, match=r"300\.0 MiB, over the 256\.0 MiB limit"):
        _inventory(tmp_path, [], layer_tars=tars)
