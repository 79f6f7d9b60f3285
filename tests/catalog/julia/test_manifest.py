"""Julia Manifest.toml, formats 1 and 2: versioned packages, standard libraries skipped."""

import io

import pytest

from ci_security.catalog.base import CatalogInput
from ci_security.catalog.julia.manifest import JuliaManifestCataloger
from ci_security.errors import CatalogError

PATH = "opt/app/Manifest.toml"
# Written in the form Pkg writes (manifest format 2.0, Julia 1.10).
FORMAT_2 = b"""# This file is machine-generated - editing it directly is not advised

julia_version = "1.10.0"
manifest_format = "2.0"
project_hash = "1e2d0d2a3b4c5d6e7f8091a2b3c4d5e6f708192a"

[[deps.Base64]]
uuid = "2a0f44e3-6c83-55bd-87e4-b1978d98bd5f"

[[deps.HTTP]]
deps = ["Base64", "Dates"]
git-tree-sha1 = "abaf7ba2e0e8c8f5cdb0e0e9c2f5f5fb1b5c3a99"
uuid = "cd3eb016-35fb-5094-929b-558a96fad6f3"
version = "1.10.1"

[[deps.JSON3]]
git-tree-sha1 = "eb3edce0ed4fa32f75a0a11217433c31d56bd48b"
uuid = "0f8b85d8-7281-11e9-16c2-39a750bddbf1"
version = "1.14.0"
"""
FORMAT_1 = b"""[[Base64]]
uuid = "2a0f44e3-6c83-55bd-87e4-b1978d98bd5f"

[[HTTP]]
deps = ["Base64"]
git-tree-sha1 = "c7ec02c4c6a039a98a15f955462cd7aea5df4508"
uuid = "cd3eb016-35fb-5094-929b-558a96fad6f3"
version = "0.8.19"
"""


def _catalog(data: bytes, tmp_path):
    return (
        JuliaManifestCataloger().catalog(CatalogInput(PATH, len(data), io.BytesIO(data), tmp_path)).packages
    )


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        (PATH, True),
        ("Manifest.toml", True),
        ("opt/app/JuliaManifest.toml", True),
        ("opt/app/Manifest-v1.11.toml", True),
        ("opt/app/Project.toml", False),
        ("opt/app/manifest.toml", False),
        ("opt/app/MyManifest.toml", False),
        ("opt/app/Cargo.toml", False),
    ],
)
def test_file_required(path, wanted):
    assert JuliaManifestCataloger().file_required(path, 0o644) is wanted


def test_both_formats(tmp_path):
    assert [(p.name, p.version, p.type, p.path) for p in _catalog(FORMAT_2, tmp_path)] == [
        ("HTTP", "1.10.1", "julia", "/" + PATH),
        ("JSON3", "1.14.0", "julia", "/" + PATH),
    ]
    assert [(p.name, p.version) for p in _catalog(FORMAT_1, tmp_path)] == [("HTTP", "0.8.19")]


def test_invalid_toml(tmp_path):
    with pytest.raises(CatalogError, match="not valid TOML"):
        _catalog(b"[[deps.HTTP]\n", tmp_path)
    with pytest.raises(CatalogError, match="`deps` is not a table"):
        _catalog(b'manifest_format = "2.0"\ndeps = 1\n', tmp_path)
