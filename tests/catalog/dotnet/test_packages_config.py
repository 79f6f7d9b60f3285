"""packages.config: NuGet packages of .NET Framework projects, development dependencies skipped."""

import io

import pytest

from ci_security.catalog.base import CatalogInput
from ci_security.catalog.dotnet.packages_config import PackagesConfigCataloger
from ci_security.errors import CatalogError

PATH = "inetpub/wwwroot/packages.config"
# Written in the form Visual Studio's NuGet package manager writes.
CONFIG = """<?xml version="1.0" encoding="utf-8"?>
<packages>
  <package id="Newtonsoft.Json" version="6.0.4" targetFramework="net45" />
  <package id="log4net" version="2.0.8" targetFramework="net45" />
  <package id="StyleCop.Analyzers" version="1.1.118" targetFramework="net45" developmentDependency="true" />
  <package id="NoVersion" targetFramework="net45" />
</packages>
"""


def _catalog(data: bytes, tmp_path):
    return (
        PackagesConfigCataloger().catalog(CatalogInput(PATH, len(data), io.BytesIO(data), tmp_path)).packages
    )


@pytest.mark.parametrize(
    ("path", "wanted"),
    [(PATH, True), ("packages.config", True), ("app/nuget.config", False), ("app/mypackages.config", False)],
)
def test_file_required(path, wanted):
    assert PackagesConfigCataloger().file_required(path, 0o644) is wanted


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_packages_without_development_dependencies(encoding, tmp_path):
    text = CONFIG.replace('encoding="utf-8"', f'encoding="{encoding.replace("-sig", "")}"')
    pkgs = _catalog(text.encode(encoding), tmp_path)
    assert [(p.name, p.version, p.type, p.path) for p in pkgs] == [
        ("Newtonsoft.Json", "6.0.4", "nuget", "/" + PATH),
        ("log4net", "2.0.8", "nuget", "/" + PATH),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<packages><package id='x'", "not well-formed XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
            b"<packages><package id='&lol2;' version='1'/></packages>",
            "document type declaration",
        ),
        (b'<!DOCTYPE packages SYSTEM "http://192.0.2.1/p.dtd"><packages/>', "document type declaration"),
    ],
)
def test_hostile_and_broken_xml(data, message, tmp_path):
    with pytest.raises(CatalogError, match=message):
        _catalog(data, tmp_path)
