"""packages.lock.json: resolved NuGet packages across target frameworks, projects skipped."""

import io
import json

import pytest

from ci_security.catalog.base import CatalogInput
from ci_security.catalog.dotnet.packages_lock import PackagesLockCataloger
from ci_security.errors import CatalogError

PATH = "src/Api/packages.lock.json"
# Written in the form `dotnet restore --use-lock-file` writes.
LOCK = {
    "version": 1,
    "dependencies": {
        "net6.0": {
            "Newtonsoft.Json": {
                "type": "Direct",
                "requested": "[12.0.3, )",
                "resolved": "12.0.3",
                "contentHash": "6mgjfnRB4jKMlzHSl+VD+oUc1IebOZabkbyWj2RiTgWwYPPuaK1H97G1sHqGwPlS5npiF5Q==",
            },
            "System.Text.Encodings.Web": {"type": "Transitive", "resolved": "4.7.1", "contentHash": "x"},
            "Common": {"type": "Project", "dependencies": {"Newtonsoft.Json": "[12.0.3, )"}},
        },
        "net6.0/linux-x64": {
            "Newtonsoft.Json": {"type": "Direct", "requested": "[12.0.3, )", "resolved": "12.0.3"},
            "runtime.linux-x64.Microsoft.NETCore.App": {"type": "CentralTransitive", "resolved": "6.0.0"},
        },
    },
}


def _catalog(data: bytes, tmp_path):
    return PackagesLockCataloger().catalog(CatalogInput(PATH, len(data), io.BytesIO(data), tmp_path)).packages


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        (PATH, True),
        ("packages.lock.json", True),
        ("app/mypackages.lock.json", False),
        ("app/package-lock.json", False),
    ],
)
def test_file_required(path, wanted):
    assert PackagesLockCataloger().file_required(path, 0o644) is wanted


def test_resolved_packages_once_each_projects_skipped(tmp_path):
    pkgs = _catalog(json.dumps(LOCK).encode(), tmp_path)
    assert [(p.name, p.version, p.type) for p in pkgs] == [
        ("Newtonsoft.Json", "12.0.3", "nuget"),
        ("System.Text.Encodings.Web", "4.7.1", "nuget"),
        ("runtime.linux-x64.Microsoft.NETCore.App", "6.0.0", "nuget"),
    ]
    assert {p.path for p in pkgs} == {"/" + PATH}
    assert _catalog(b'{"version": 1}', tmp_path) == ()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{", "invalid JSON"),
        (b"[]", "top level is not a JSON object"),
        (b'{"dependencies": []}', "`dependencies` is not a JSON object"),
        (b'{"dependencies": {"net6.0": 1}}', r"`dependencies.net6.0` is not a JSON object"),
        (b"[" * 10_000 + b"]" * 10_000, "nesting-depth"),
    ],
)
def test_files_that_are_not_lock_files(data, message, tmp_path):
    with pytest.raises(CatalogError, match=message):
        _catalog(data, tmp_path)
