import itertools

import pytest

from ci_security.vulndb.versions.base import InvalidVersion, compare
from ci_security.vulndb.versions.semver import SemverScheme

SCHEME = SemverScheme()


def _sign(a: str, b: str) -> int:
    return compare(SCHEME, a, b)


def _assert_ascending(versions: list[str]) -> None:
    keys = [SCHEME.key(v) for v in versions]
    assert all(a < b for a, b in itertools.pairwise(keys)), versions
    assert sorted(reversed(versions), key=SCHEME.key) == versions


def test_semver_org_precedence_example():
    _assert_ascending(
        [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ]
    )


def test_semver_org_core_example():
    _assert_ascending(["1.0.0", "2.0.0", "2.1.0", "2.1.1"])


def test_go_pseudo_versions_order_as_pre_releases():
    _assert_ascending(
        [
            "v0.0.0-20191109021931-daa7c04131f5",
            "v0.0.0-20200101000000-000000000000",
            "v0.0.1",
            "v1.2.3",
            "v1.2.4-0.20191109021931-daa7c04131f5",
            "v1.2.4-0.20200101000000-000000000000",
            "v1.2.4-pre",
            "v1.2.4-pre.0.20191109021931-daa7c04131f5",
            "v1.2.4-pre.1",
            "v1.2.4",
        ]
    )


def test_minimum_is_0_0_0_dash_0():
    versions = ["0.0.0", "0.0.0-0.0", "0.0.0-1", "0.0.0-a", "0.0.1-0", "0.0.0-0"]
    assert min(versions, key=SCHEME.key) == "0.0.0-0"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.0.0+build.1", "1.0.0+build.2"),
        ("1.0.0+build", "1.0.0"),
        ("v2.0.0+incompatible", "v2.0.0"),
        ("v1.2.3", "1.2.3"),
        ("=1.2.3", "1.2.3"),
        (" 1.2.3 ", "1.2.3"),
        ("1.2", "1.2.0"),
        ("v1", "1.0.0"),
        ("1.2-beta", "1.2.0-beta"),
        ("01.2.3", "1.2.3"),  # leading zeros are tolerated and read as numbers
        ("1.0.0-rc.01", "1.0.0-rc.1"),
    ],
)
def test_equal(a, b):
    assert _sign(a, b) == 0
    assert SCHEME.key(a) == SCHEME.key(b)


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ("1.0.0-alpha", "1.0.0", -1),
        ("1.0.0-1", "1.0.0-a", -1),  # numeric identifiers below alphanumeric ones
        ("1.0.0-2", "1.0.0-10", -1),
        ("1.0.0-a10", "1.0.0-a2", -1),  # alphanumeric ones compare in ASCII order
        ("1.0.0-Z", "1.0.0-a", -1),
        ("1.0.0-a-b", "1.0.0-a", 1),
        ("1.0.0-alpha.1", "1.0.0-alpha", 1),
        ("1.10.0", "1.9.0", 1),
        ("10.0.0", "9.99.99", 1),
        ("1.0.0", "1.0.1-0", -1),
        ("99999999999999999999.0.0", "99999999999999999998.0.0", 1),
    ],
)
def test_table(a, b, want):
    assert _sign(a, b) == want
    assert _sign(b, a) == -want


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "v",
        "abc",
        "1.2.3.4",
        "1.0.0-",
        "1.0.0-alpha..1",
        "1.0.0+",
        "1.0.0-alpha_beta",
        "1.0.0 beta",
        "1.0.0-é",
        "latest",
        "*",
        ">=1.0.0",
        "1.x",
    ],
)
def test_rejects(bad):
    with pytest.raises(InvalidVersion):
        SCHEME.key(bad)
