import io
import json

import pytest

from ci_security.catalog.base import CatalogInput
from ci_security.catalog.npm.package_json import PackageJsonCataloger
from ci_security.errors import CatalogError


def _catalog(path: str, data: bytes, tmp_path):
    return PackageJsonCataloger().catalog(CatalogInput(path, len(data), io.BytesIO(data), tmp_path)).packages


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("app/node_modules/express/package.json", True),
        ("app/node_modules/@babel/parser/package.json", True),
        ("app/node_modules/send/node_modules/ms/package.json", True),
        ("app/package.json", True),
        ("package.json", True),
        ("app/package-lock.json", False),
        ("app/yarn.lock", False),
        ("app/node_modules/x/package.json.bak", False),
    ],
)
def test_file_required(path, wanted):
    assert PackageJsonCataloger().file_required(path, 0o644) is wanted


@pytest.mark.parametrize(
    ("fixture", "name", "version"),
    [
        ("lodash/package.json", "lodash", "5.0.0"),
        ("express/package.json", "express", "4.16.4"),
        ("@babel/parser/package.json", "@babel/parser", "7.23.6"),
    ],
)
def test_fixtures(pkgdb, tmp_path, fixture, name, version):
    path = f"app/node_modules/{fixture}"
    pkgs = _catalog(path, (pkgdb / "npm" / fixture).read_bytes(), tmp_path)
    assert [(p.name, p.version, p.type, p.licenses) for p in pkgs] == [(name, version, "npm", ("MIT",))]


def test_not_a_manifest_is_ignored(tmp_path):
    assert _catalog("app/node_modules/x/lib/package.json", b'{"type": "module"}', tmp_path) == ()
    assert _catalog("app/node_modules/x/test/fixtures/bad/package.json", b"{not json", tmp_path) == ()
    assert _catalog("app/node_modules/x/package.json", b"[1, 2]", tmp_path) == ()


def test_malformed_installed_manifest_is_an_error(tmp_path):
    with pytest.raises(CatalogError, match=r"malformed package\.json"):
        _catalog("app/node_modules/@scope/x/package.json", b"{not json", tmp_path)


def test_legacy_licenses_field(tmp_path):
    doc = {"name": "old", "version": "1.0.0", "licenses": [{"type": "MIT"}, "Apache-2.0", {"url": "x"}]}
    assert _catalog("n/node_modules/old/package.json", json.dumps(doc).encode(), tmp_path)[0].licenses == (
        "MIT",
        "Apache-2.0",
    )
