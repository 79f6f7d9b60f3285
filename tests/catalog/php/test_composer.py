import io
import json

import pytest

from ci_security.catalog.base import CatalogInput
from ci_security.catalog.php.composer import ComposerInstalledCataloger
from ci_security.errors import CatalogError

PATH = "var/www/html/vendor/composer/installed.json"


def _catalog(data: bytes, tmp_path, path: str = PATH):
    return (
        ComposerInstalledCataloger()
        .catalog(CatalogInput(path, len(data), io.BytesIO(data), tmp_path))
        .packages
    )


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("app/vendor/composer/installed.json", True),
        ("vendor/composer/installed.json", True),
        ("var/www/html/vendor/composer/installed.json", True),
        ("app/composer.lock", False),
        ("app/composer.json", False),
        ("app/vendor/composer/installed.php", False),
        ("app/myvendor/composer/installed.json", False),
        ("app/vendor/pear/log/composer/installed.json.dist", False),
    ],
)
def test_file_required(path, wanted):
    assert ComposerInstalledCataloger().file_required(path, 0o644) is wanted


def test_installed_json_fixture(pkgdb, tmp_path):
    pkgs = _catalog((pkgdb / "php/installed.json").read_bytes(), tmp_path)
    assert [(p.name, p.version, p.licenses) for p in pkgs] == [
        ("pear/log", "1.13.3", ("MIT",)),
        ("pear/pear_exception", "v1.0.2", ("BSD-2-Clause",)),
    ]
    for pkg in pkgs:
        assert (pkg.type, pkg.path) == ("composer", "/" + PATH)
        assert (pkg.purl, pkg.layer, pkg.found_by) == ("", None, "")


def test_composer1_list_form(tmp_path):
    doc = [
        {"name": "monolog/monolog", "version": "1.27.1", "license": ["MIT"]},
        {"name": "old/string-licence", "version": "v2.0.0", "license": "GPL-2.0-or-later"},
        {"name": "dual/licence", "version": "dev-main", "license": ["MIT", "Apache-2.0"]},
        {"name": "no/licence", "version": "1.0.0"},
    ]
    pkgs = _catalog(json.dumps(doc).encode(), tmp_path)
    assert [(p.name, p.version, p.licenses) for p in pkgs] == [
        ("monolog/monolog", "1.27.1", ("MIT",)),
        ("old/string-licence", "v2.0.0", ("GPL-2.0-or-later",)),
        ("dual/licence", "dev-main", ("MIT", "Apache-2.0")),
        ("no/licence", "1.0.0", ()),
    ]


def test_unusable_entries_are_skipped(tmp_path):
    doc = {
        "packages": [
            {"name": "a/a", "version": "1.0", "license": [None, 3, "", "MIT"]},
            {"name": "no/version"},
            {"version": "1.0"},
            {"name": "a/b", "version": 1},
            "not-an-object",
        ]
    }
    pkgs = _catalog(json.dumps(doc).encode(), tmp_path)
    assert [(p.name, p.version, p.licenses) for p in pkgs] == [("a/a", "1.0", ("MIT",))]


def test_empty_composer2_file(tmp_path):
    assert _catalog(b'{"packages": [], "dev": true, "dev-package-names": []}', tmp_path) == ()


@pytest.mark.parametrize(
    "data",
    [b'{"packages": [', b"", b"\xff\xfe\x00\x00", b'"text"', b'{"dev": true}', b'{"packages": {}}'],
)
def test_malformed_is_catalog_error(data, tmp_path):
    with pytest.raises(CatalogError):
        _catalog(data, tmp_path)
