import io
from pathlib import Path

import pytest

from ci_security.catalog.base import CatalogInput
from ci_security.catalog.os.dpkg import DpkgCataloger
from ci_security.errors import CatalogError


def _catalog(path: str, data: bytes, tmp_path: Path):
    return DpkgCataloger().catalog(CatalogInput(path, len(data), io.BytesIO(data), tmp_path)).packages


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("var/lib/dpkg/status", True),
        ("var/lib/dpkg/status.d/libc6", True),
        ("var/lib/dpkg/status.d/libc6.md5sums", True),
        ("var/lib/dpkg/info/libc6:amd64.md5sums", True),
        ("var/lib/dpkg/info/libc6.list", False),
        ("var/lib/dpkg/status-old", False),
        ("var/lib/dpkg/status.d/sub/x", False),
        ("usr/var/lib/dpkg/status", False),
    ],
)
def test_file_required(path, wanted):
    assert DpkgCataloger().file_required(path, 0o644) is wanted


def test_ubuntu_status_counts_and_rows(pkgdb, tmp_path):
    data = (pkgdb / "dpkg/ubuntu-18.04-status").read_bytes()
    pkgs = {p.name: p for p in _catalog("var/lib/dpkg/status", data, tmp_path)}
    assert len(pkgs) == 90
    assert "git" not in pkgs  # deinstall ok config-files
    assert (pkgs["adduser"].version, pkgs["adduser"].arch, pkgs["adduser"].source_name) == (
        "3.116ubuntu1",
        "all",
        "adduser",
    )
    bsd = pkgs["bsdutils"]
    assert (bsd.version, bsd.epoch, bsd.source_name, bsd.source_version) == (
        "1:2.31.1-0.4ubuntu3.1",
        1,
        "util-linux",
        "2.31.1-0.4ubuntu3.1",
    )
    assert (pkgs["libgcc1"].version, pkgs["libgcc1"].source_name) == ("1:8-20180414-1ubuntu2", "gcc-8")
    assert pkgs["libgcc1"].source_version == "8-20180414-1ubuntu2"
    lzma = pkgs["liblzma5"]
    assert (lzma.version, lzma.source_name, lzma.source_version) == (
        "5.1.1alpha+20120614-2+b3",
        "xz-utils",
        "5.1.1alpha+20120614-2",
    )
    assert pkgs["apt"].version == "1.6.3ubuntu0.1"
    assert pkgs["base-files"].version == "10.1ubuntu2.2"
    assert pkgs["libprocps6"].source_version == "2:3.3.12-3ubuntu1.1"
    assert all(p.path == "/var/lib/dpkg/status" and p.type == "deb" for p in pkgs.values())


def test_third_party_status(pkgdb, tmp_path):
    pkgs = {
        p.name: p
        for p in _catalog("var/lib/dpkg/status", (pkgdb / "dpkg/third-party-status").read_bytes(), tmp_path)
    }
    assert set(pkgs) == {"apt", "docker-ce"}
    assert (pkgs["docker-ce"].version, pkgs["docker-ce"].epoch) == ("5:20.10.7~3-0~debian-buster", 5)


def test_distroless_status_d(pkgdb, tmp_path):
    data = (pkgdb / "dpkg/distroless-status.d/libsqlite3-0").read_bytes()
    pkgs = _catalog("var/lib/dpkg/status.d/libsqlite3-0", data, tmp_path)
    assert [(p.name, p.version, p.arch, p.source_name) for p in pkgs] == [
        ("libsqlite3-0", "3.34.1-3", "arm64", "sqlite3")
    ]
    assert pkgs[0].path == "/var/lib/dpkg/status.d/libsqlite3-0"


def test_stanza_without_status_in_main_db_is_skipped(tmp_path):
    data = b"Package: a\nVersion: 1\n\nPackage: b\nStatus: install ok installed\nVersion: 2\n"
    assert [p.name for p in _catalog("var/lib/dpkg/status", data, tmp_path)] == ["b"]


def test_half_installed_and_config_files_are_skipped(tmp_path):
    data = (
        b"Package: a\nStatus: install ok half-installed\nVersion: 1\n\n"
        b"Package: b\nStatus: deinstall ok config-files\nVersion: 1\n\n"
        b"Package: c\nStatus: install ok installed\nVersion: 1\nSource: csrc\n"
    )
    pkgs = _catalog("var/lib/dpkg/status", data, tmp_path)
    assert [(p.name, p.source_name, p.source_version) for p in pkgs] == [("c", "csrc", "1")]


def test_garbage_is_an_error(tmp_path):
    with pytest.raises(CatalogError):
        _catalog("var/lib/dpkg/status", b"\x00\x01binary garbage without stanzas\n" * 3, tmp_path)


def test_malformed_source_is_an_error(tmp_path):
    with pytest.raises(CatalogError, match="Source"):
        _catalog(
            "var/lib/dpkg/status",
            b"Package: a\nStatus: install ok installed\nVersion: 1\nSource: a (1) junk\n",
            tmp_path,
        )


def test_md5sums_say_which_files_a_package_installed(tmp_path):
    data = (
        b"0123456789abcdef0123456789abcdef  usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO\n"
        b"fedcba9876543210fedcba9876543210  usr/share/doc/python3-requests/copyright\n"
    )
    out = DpkgCataloger().catalog(
        CatalogInput("var/lib/dpkg/info/python3-requests:all.md5sums", len(data), io.BytesIO(data), tmp_path)
    )
    assert out.packages == ()
    assert out.owned == (
        ("usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO", "python3-requests"),
        ("usr/share/doc/python3-requests/copyright", "python3-requests"),
    )


def test_distroless_md5sums(pkgdb, tmp_path):
    data = (pkgdb / "dpkg/distroless-status.d/libsqlite3-0.md5sums").read_bytes()
    out = DpkgCataloger().catalog(
        CatalogInput("var/lib/dpkg/status.d/libsqlite3-0.md5sums", len(data), io.BytesIO(data), tmp_path)
    )
    assert len(out.owned) == 6
    assert out.owned[0] == ("usr/lib/aarch64-linux-gnu/libsqlite3.so.0.8.6", "libsqlite3-0")
