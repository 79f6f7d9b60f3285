import io
from pathlib import Path

import pytest

from ci_security.catalog.base import CatalogInput, CatalogOutput
from ci_security.catalog.os.rpm_manifest import RpmManifestCataloger
from ci_security.errors import CatalogError
from ci_security.models import Package

PATH = "var/lib/rpmmanifest/container-manifest-2"


def catalog(data: bytes, tmp_path: Path) -> CatalogOutput:
    return RpmManifestCataloger().catalog(
        CatalogInput(path=PATH, size=len(data), stream=io.BytesIO(data), tmpdir=tmp_path)
    )


def row(*fields: str) -> bytes:
    return ("\t".join(fields) + "\n").encode()


def test_contract():
    cataloger = RpmManifestCataloger()
    assert cataloger.name == "os/rpm-manifest"
    assert cataloger.kind == "os-packages"
    assert cataloger.version == 1
    assert cataloger.file_required(PATH, 0o644)
    assert not cataloger.file_required("/" + PATH, 0o644)
    assert not cataloger.file_required("var/lib/rpmmanifest/container-manifest-1", 0o644)
    assert not cataloger.file_required("var/lib/rpm/Packages", 0o644)


def test_mariner2_distroless_manifest(pkgdb: Path, tmp_path: Path):
    packages = catalog((pkgdb / "rpm" / "mariner2-distroless-container-manifest-2").read_bytes(), tmp_path)
    rows = [(p.name, p.version, p.arch, p.epoch, p.source_name, p.source_version) for p in packages.packages]
    assert rows == [
        ("mariner-release", "2.0-12.cm2", "noarch", None, "mariner-release", "2.0-12.cm2"),
        ("filesystem", "1.1-9.cm2", "x86_64", None, "filesystem", "1.1-9.cm2"),
        ("glibc", "2.35-2.cm2", "x86_64", None, "glibc", "2.35-2.cm2"),
        ("openssl-libs", "1.1.1k-15.cm2", "x86_64", None, "openssl", "1.1.1k-15.cm2"),
    ]
    assert packages.packages[0] == Package(
        name="mariner-release",
        version="2.0-12.cm2",
        type="rpm",
        arch="noarch",
        source_name="mariner-release",
        source_version="2.0-12.cm2",
        path="/" + PATH,
    )


def test_epoch_column_sets_the_epoch(tmp_path: Path):
    data = row(
        "ca-certificates-tools",
        "2.0.0-1.cm2",
        "1",
        "2",
        "Microsoft Corporation",
        "1",
        "5204",
        "noarch",
        "1",
        "ca-certificates-2.0.0-1.cm2.src.rpm",
    )
    (package,) = catalog(data, tmp_path).packages
    assert (package.version, package.epoch) == ("1:2.0.0-1.cm2", 1)
    assert (package.source_name, package.source_version) == ("ca-certificates", "2.0.0-1.cm2")


def test_blank_lines_and_crlf_are_tolerated(tmp_path: Path):
    line = row(
        "bash", "5.1.8-1.cm2", "1", "2", "Microsoft Corporation", "(none)", "1", "x86_64", "0", "(none)"
    ).replace(b"\n", b"\r\n")
    (package,) = catalog(b"\n" + line + b"\n\n", tmp_path).packages
    assert (package.name, package.version, package.arch) == ("bash", "5.1.8-1.cm2", "x86_64")
    assert (package.source_name, package.source_version) == (None, None)


def test_empty_manifest_has_no_packages(tmp_path: Path):
    assert catalog(b"", tmp_path).packages == ()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"bash\t5.1.8-1.cm2\n", "2 tab-separated fields"),
        (row(*["x"] * 11), "11 tab-separated fields"),
        (
            row("bash", "5.1.8", "1", "2", "v", "(none)", "1", "x86_64", "0", "bash-5.1.8-1.src.rpm"),
            "version-release",
        ),
        (
            row("", "5.1.8-1", "1", "2", "v", "(none)", "1", "x86_64", "0", "bash-5.1.8-1.src.rpm"),
            "version-release",
        ),
        (row("bash", "5.1.8-1", "1", "2", "v", "one", "1", "x86_64", "0", "bash-5.1.8-1.src.rpm"), "epoch"),
        (
            row("bash", "5.1.8-1", "1", "2", "v", "\u00b2", "1", "x86_64", "0", "bash-5.1.8-1.src.rpm"),
            "epoch",
        ),
        (b"\x00\xff\xfe" * 50, "tab-separated"),
    ],
)
def test_malformed_rows_are_refused(data: bytes, reason: str, tmp_path: Path):
    with pytest.raises(CatalogError, match=reason):
        catalog(data, tmp_path)
