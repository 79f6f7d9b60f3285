import io
import json

import pytest

from ci_security.catalog.base import CatalogInput
from ci_security.catalog.dotnet.deps_json import DepsJsonCataloger
from ci_security.errors import CatalogError

PATH = "app/bin/app.deps.json"


def _catalog(data: bytes, tmp_path, path: str = PATH):
    return DepsJsonCataloger().catalog(CatalogInput(path, len(data), io.BytesIO(data), tmp_path)).packages


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("app/bin/app.deps.json", True),
        ("usr/share/dotnet/shared/Microsoft.NETCore.App/6.0.0/Microsoft.NETCore.App.deps.json", True),
        ("app.deps.json", True),
        ("app/bin/app.runtimeconfig.json", False),
        ("app/bin/app.deps.json.bak", False),
        ("app/bin/deps.json.txt", False),
        ("app/package.json", False),
    ],
)
def test_file_required(path, wanted):
    assert DepsJsonCataloger().file_required(path, 0o644) is wanted


def test_datacollector_fixture(pkgdb, tmp_path):
    pkgs = _catalog((pkgdb / "dotnet/datacollector.deps.json").read_bytes(), tmp_path)
    assert sorted((p.name, p.version) for p in pkgs) == [
        ("Microsoft.VisualStudio.TestPlatform.Common", "17.2.0-release-20220408-11"),
        ("Newtonsoft.Json", "9.0.1"),
    ]
    for pkg in pkgs:
        assert (pkg.type, pkg.path, pkg.licenses) == ("nuget", "/" + PATH, ())
        assert (pkg.purl, pkg.layer, pkg.found_by) == ("", None, "")


def test_only_package_and_project_types(tmp_path):
    doc = {
        "libraries": {
            "App/1.0.0": {"type": "project"},
            "Serilog/2.12.0": {"type": "package"},
            "System.Runtime/4.0.0.0": {"type": "reference"},
            "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/6.0.0": {"type": "runtimepack"},
            "NoType/1.0": {},
            "NotAnObject/1.0": "package",
            "NoVersion": {"type": "package"},
        }
    }
    pkgs = _catalog(json.dumps(doc).encode(), tmp_path)
    assert [(p.name, p.version) for p in pkgs] == [("App", "1.0.0"), ("Serilog", "2.12.0")]


def test_without_libraries_is_empty(tmp_path):
    assert _catalog(b'{"runtimeTarget": {"name": ".NETCoreApp,Version=v6.0"}, "targets": {}}', tmp_path) == ()


def test_utf8_bom_is_accepted(tmp_path):
    data = b"\xef\xbb\xbf" + json.dumps({"libraries": {"A/1.0": {"type": "package"}}}).encode()
    assert [(p.name, p.version) for p in _catalog(data, tmp_path)] == [("A", "1.0")]


@pytest.mark.parametrize(
    "data",
    [
        b'{"libraries": {',
        b"",
        b"\xff\xfe\x00garbage",
        b"[1, 2]",
        b'{"libraries": ["A/1.0"]}',
        b"[" * 100_000,
    ],
)
def test_malformed_is_catalog_error(data, tmp_path):
    with pytest.raises(CatalogError):
        _catalog(data, tmp_path)
