import io

import pytest

from ci_security.catalog.base import CatalogInput
from ci_security.catalog.python.metadata import PythonMetadataCataloger
from ci_security.errors import CatalogError
from ci_security.models import build_purl


def _catalog(path: str, data: bytes, tmp_path):
    return (
        PythonMetadataCataloger().catalog(CatalogInput(path, len(data), io.BytesIO(data), tmp_path)).packages
    )


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("usr/local/lib/python3.11/site-packages/requests-2.19.0.dist-info/METADATA", True),
        ("usr/lib/python3/dist-packages/PyYAML-6.0.egg-info/PKG-INFO", True),
        ("usr/lib/python3/dist-packages/six-1.16.0.egg-info", True),
        ("opt/eggs/foo-1.0-py3.11.egg/EGG-INFO/PKG-INFO", True),
        ("app/requirements.txt", False),
        ("app/poetry.lock", False),
        ("usr/lib/python3/dist-packages/requests-2.28.1.dist-info/RECORD", False),
    ],
)
def test_file_required(path, wanted):
    assert PythonMetadataCataloger().file_required(path, 0o644) is wanted


@pytest.mark.parametrize(
    ("fixture", "name", "version", "licenses"),
    [
        ("distlib-0.3.1.dist-info/METADATA", "distlib", "0.3.1", ("Python license",)),
        ("distlib-0.3.1.egg-info/PKG-INFO", "distlib", "0.3.1", ("Python license",)),
        ("setuptools-51.3.3.dist-info/METADATA", "setuptools", "51.3.3", ("MIT License",)),
        ("typing_extensions-4.4.0.dist-info/METADATA", "typing_extensions", "4.4.0", ()),
        ("Flask-2.0.0.dist-info/METADATA", "Flask", "2.0.0", ("BSD-3-Clause",)),
    ],
)
def test_fixtures(pkgdb, tmp_path, fixture, name, version, licenses):
    path = f"usr/lib/python3/site-packages/{fixture}"
    pkgs = _catalog(path, (pkgdb / "python" / fixture).read_bytes(), tmp_path)
    assert [(p.name, p.version, p.type, p.licenses) for p in pkgs] == [(name, version, "pypi", licenses)]
    assert pkgs[0].path == "/" + path


def test_purl_is_pep503_normalised():
    from ci_security.models import Package

    assert build_purl(Package(name="typing_extensions", version="4.4.0", type="pypi"), None) == (
        "pkg:pypi/typing-extensions@4.4.0"
    )
    assert (
        build_purl(Package(name="Zope.Interface", version="5", type="pypi"), None)
        == "pkg:pypi/zope-interface@5"
    )


def test_license_expression_wins_and_long_license_text_is_ignored(tmp_path):
    data = (
        b"Metadata-Version: 2.4\nName: x\nVersion: 1\nLicense-Expression: Apache-2.0 OR MIT\n"
        b"License: Apache\n\nbody"
    )
    assert _catalog("a/x-1.dist-info/METADATA", data, tmp_path)[0].licenses == ("Apache-2.0 OR MIT",)
    text = b"Name: y\nVersion: 2\nLicense: Permission is hereby granted\n  free of charge to any person\n\n"
    assert _catalog("a/y-2.dist-info/METADATA", text, tmp_path)[0].licenses == ()


def test_missing_version_and_garbage_are_errors(tmp_path):
    with pytest.raises(CatalogError, match="no Name or Version"):
        _catalog("a/x.dist-info/METADATA", b"Metadata-Version: 2.1\nName: x\n\n", tmp_path)
    with pytest.raises(CatalogError, match="not a metadata header"):
        _catalog("a/x.dist-info/METADATA", b"\x00\x01\x02 binary\n", tmp_path)
