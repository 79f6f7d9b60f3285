"""The package-type table is the one list of types and ecosystems: every other place that needs one
(matchers, version schemes, the OSV index, the importers, the catalogers) agrees with it."""

import inspect
import re

import pytest

from ci_security.catalog.registry import CATALOGERS
from ci_security.match import distros
from ci_security.match.registry import BY_TYPE
from ci_security.models import OSInfo
from ci_security.models.packagetype import (
    BY_ECOSYSTEM,
    PACKAGE_TYPES,
    ecosystem_type,
    is_os_type,
    package_type,
)
from ci_security.vulndb.feeds.sources import CVE_SOURCES
from ci_security.vulndb.sync import DEFAULT_ECOSYSTEMS
from ci_security.vulndb.versions.registry import SCHEMES


def test_one_row_per_type_and_per_ecosystem():
    types = [row.purl_type for row in PACKAGE_TYPES]
    ecosystems = [eco for row in PACKAGE_TYPES for eco in row.ecosystems]
    assert len(types) == len(set(types))
    assert len(ecosystems) == len(set(ecosystems))
    assert all(len(row.ecosystems) == 1 for row in PACKAGE_TYPES if row.layer == "language")


def test_every_scheme_named_exists():
    assert {row.scheme for row in PACKAGE_TYPES} <= set(SCHEMES)


def test_every_package_type_a_cataloger_writes_has_a_row_of_its_layer_and_a_matcher():
    written = set()
    for cataloger in CATALOGERS:
        types = set(re.findall(r'type="([a-z]+)"', inspect.getsource(inspect.getmodule(cataloger))))
        assert all(package_type(t) is not None for t in types), (cataloger.name, types)
        if cataloger.kind == "os-packages":
            assert types and all(is_os_type(t) for t in types), cataloger.name
        elif cataloger.kind == "language":
            assert types and not any(is_os_type(t) for t in types), cataloger.name
        written |= types
    assert written <= set(BY_TYPE)


def test_every_default_feed_orders_its_versions():
    # NVD, KEV and EPSS rate CVEs; they carry no package versions to order.
    advisories = [eco for eco in DEFAULT_ECOSYSTEMS if eco not in CVE_SOURCES]
    assert advisories and all(ecosystem_type(eco) is not None for eco in advisories)


@pytest.mark.parametrize(
    "os_info",
    [
        OSInfo(family="debian", version="12.5"),
        OSInfo(family="ubuntu", version="22.04"),
        OSInfo(family="alpine", version="3.19.1"),
        OSInfo(family="wolfi", version="20230201"),
        OSInfo(family="chainguard", version="20230214"),
        OSInfo(family="alma", version="9.3"),
        OSInfo(family="rocky", version="8.9"),
        OSInfo(family="photon", version="5.0"),
        OSInfo(family="azurelinux", version="3.0"),
    ],
)
def test_distribution_ecosystems_hold_the_package_type_the_table_says(os_info):
    release = distros.release_for(os_info)
    assert isinstance(release, distros.Release)
    for ecosystem in release.ecosystems:
        row = ecosystem_type(ecosystem)
        assert row is not None and row.purl_type == release.package_type and row.is_os


def test_lookups():
    assert package_type("pypi").ecosystems == ("PyPI",)
    assert package_type("conda") is None
    assert ecosystem_type("Debian:12").purl_type == "deb"
    assert ecosystem_type("Ubuntu:Pro:22.04:LTS").scheme == "dpkg"
    assert ecosystem_type("debian") is None and ecosystem_type("") is None
    assert [t for t in ("deb", "apk", "rpm", "pypi", "generic") if is_os_type(t)] == ["deb", "apk", "rpm"]
    assert BY_ECOSYSTEM["Julia"].purl_type == "julia"


@pytest.mark.parametrize(
    ("purl_type", "name", "indexed"),
    [
        ("pypi", "Zope.Interface", "zope-interface"),
        ("pypi", "typing__extensions", "typing-extensions"),
        ("nuget", "Newtonsoft.Json", "newtonsoft.json"),
        ("npm", "@Babel/Core", "@Babel/Core"),
        ("deb", "libC6", "libC6"),
    ],
)
def test_index_names(purl_type, name, indexed):
    assert package_type(purl_type).index_name(name) == indexed
