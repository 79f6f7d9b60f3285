import io

from ci_security.catalog.base import CatalogInput
from ci_security.catalog.os.apk import ApkCataloger


def _catalog(data: bytes, tmp_path):
    return (
        ApkCataloger()
        .catalog(CatalogInput("lib/apk/db/installed", len(data), io.BytesIO(data), tmp_path))
        .packages
    )


def test_file_required():
    cat = ApkCataloger()
    assert cat.file_required("lib/apk/db/installed", 0o644)
    assert cat.file_required("usr/lib/apk/db/installed", 0o644)
    assert not cat.file_required("lib/apk/db/triggers", 0o644)


def test_alpine_316(pkgdb, tmp_path):
    pkgs = {p.name: p for p in _catalog((pkgdb / "apk/alpine-3.16-installed").read_bytes(), tmp_path)}
    assert len(pkgs) == 14
    for name, version, arch, origin in [
        ("alpine-baselayout-data", "3.2.0-r22", "x86_64", "alpine-baselayout"),
        ("musl", "1.2.3-r0", "x86_64", "musl"),
        ("libssl1.1", "1.1.1q-r0", "x86_64", "openssl"),
    ]:
        pkg = pkgs[name]
        assert (pkg.version, pkg.arch, pkg.source_name, pkg.source_version) == (
            version,
            arch,
            origin,
            version,
        )
        assert pkg.type == "apk" and pkg.path == "/lib/apk/db/installed"


def test_alpine_34_edited(pkgdb, tmp_path):
    pkgs = _catalog((pkgdb / "apk/alpine-3.4-edited-installed").read_bytes(), tmp_path)
    assert [p.name for p in pkgs] == [
        "musl",
        "busybox",
        "alpine-baselayout",
        "alpine-keys",
        "zlib",
        "libcrypto1.0",
        "libssl1.0",
        "apk-tools",
        "scanelf",
        "musl-utils",
        "libc-utils",
        "pkgconf",
        "sqlite-libs",
        "test",
        "ada-libs",
    ]
    by = {p.name: p for p in pkgs}
    assert (by["musl"].version, by["musl"].source_name) == ("1.1.14-r10", "musl")
    assert (by["libcrypto1.0"].version, by["libcrypto1.0"].source_name) == ("1.0.2h-r1", "openssl")
    assert (by["ada-libs"].version, by["ada-libs"].source_name) == ("2.7.4-r0", "ada")
    assert (by["test"].version, by["test"].source_name) == ("2.9.11_pre20061021-r2", "test-parent")
    assert by["musl"].licenses == ("MIT",)
