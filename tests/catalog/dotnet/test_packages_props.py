"""Directory.Packages.props and Packages.props: centrally pinned NuGet versions."""

import io

import pytest

from ci_security.catalog.base import CatalogInput
from ci_security.catalog.dotnet.packages_props import PackagesPropsCataloger
from ci_security.errors import CatalogError

PATH = "src/Directory.Packages.props"
# Written in the form NuGet's central package management documents.
PROPS = b"""<Project>
  <PropertyGroup>
    <ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <PackageVersion Include="Newtonsoft.Json" Version="13.0.1" />
    <PackageVersion Include="Serilog">
      <Version>2.10.0</Version>
    </PackageVersion>
    <PackageVersion Include="FromProperty" Version="$(SharedVersion)" />
    <PackageVersion Include="Ranged" Version="[1.0,2.0)" />
    <PackageVersion Include="Floating" Version="6.*" />
  </ItemGroup>
</Project>
"""
LEGACY = b"""<Project xmlns="http://schemas.microsoft.com/developer/msbuild/2003">
  <ItemGroup>
    <PackageReference Update="System.Text.Json" Version="4.6.0" />
  </ItemGroup>
</Project>
"""


def _catalog(data: bytes, tmp_path, path=PATH):
    return (
        PackagesPropsCataloger().catalog(CatalogInput(path, len(data), io.BytesIO(data), tmp_path)).packages
    )


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        (PATH, True),
        ("Packages.props", True),
        ("src/directory.packages.props", True),
        ("src/Directory.Build.props", False),
        ("src/Packages.props.bak", False),
    ],
)
def test_file_required(path, wanted):
    assert PackagesPropsCataloger().file_required(path, 0o644) is wanted


def test_pinned_versions_only(tmp_path):
    assert [(p.name, p.version, p.type) for p in _catalog(PROPS, tmp_path)] == [
        ("Newtonsoft.Json", "13.0.1", "nuget"),
        ("Serilog", "2.10.0", "nuget"),
    ]
    legacy = _catalog(LEGACY, tmp_path, "src/Packages.props")
    assert [(p.name, p.version, p.path) for p in legacy] == [
        ("System.Text.Json", "4.6.0", "/src/Packages.props")
    ]


def test_document_type_declarations_are_refused(tmp_path):
    with pytest.raises(CatalogError, match="document type declaration"):
        _catalog(
            b'<!DOCTYPE Project [<!ENTITY x SYSTEM "file:///etc/passwd">]><Project>&x;</Project>', tmp_path
        )
