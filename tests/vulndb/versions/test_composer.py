import itertools

import pytest

from ci_security.vulndb.versions.base import InvalidVersion, compare
from ci_security.vulndb.versions.composer import ComposerScheme, _normalize

SCHEME = ComposerScheme()


def _sign(a: str, b: str) -> int:
    return compare(SCHEME, a, b)


@pytest.mark.parametrize(
    ("version", "normalized"),
    [
        # VersionParser::normalize cases from composer/semver's test suite
        ("1.0.0", "1.0.0.0"),
        ("1.2.3.4", "1.2.3.4"),
        ("1.0.0RC1dev", "1.0.0.0-RC1-dev"),
        ("1.0.0-rC15-dev", "1.0.0.0-RC15-dev"),
        ("1.0.0.RC.15-dev", "1.0.0.0-RC15-dev"),
        ("1.0.0-rc1", "1.0.0.0-RC1"),
        ("1.0.0-pl3", "1.0.0.0-patch3"),
        ("1.0", "1.0.0.0"),
        ("0", "0.0.0.0"),
        ("10.4.13-beta", "10.4.13.0-beta"),
        ("10.4.13beta2", "10.4.13.0-beta2"),
        ("10.4.13beta.2", "10.4.13.0-beta2"),
        ("v1.13.11-beta.0", "1.13.11.0-beta0"),
        ("10.4.13-b", "10.4.13.0-beta"),
        ("10.4.13-b5", "10.4.13.0-beta5"),
        ("v1.0.0", "1.0.0.0"),
        ("2010.01", "2010.01.0.0"),
        ("2010.01.02", "2010.01.02.0"),
        ("2010-01-02", "2010.01.02"),
        ("2010-01-02.5", "2010.01.02.5"),
        ("20100102-203040", "20100102.203040"),
        ("20100102203040-10", "20100102203040.10"),
        ("20100102-203040-p1", "20100102.203040-patch1"),
        ("1.x-dev", "1.9999999.9999999.9999999-dev"),
        ("1.0.0+foo@dev", "1.0.0.0"),
        ("1.0.0-alpha.3.1+foo/-bar@dev", "1.0.0.0-alpha3.1"),
        ("1.0.0-stable", "1.0.0.0"),
        ("1.0.0-dev", "1.0.0.0-dev"),
        ("1.0.0 as 1.2.0", "1.0.0.0"),
        ("1.0-alpha1", "1.0.0.0-alpha1"),
        ("00.01.03.04", "00.01.03.04"),
        ("000.001.003.004", "000.001.003.004"),
        ("0.10.2.x-dev", "0.10.2.9999999-dev"),
        ("1.0.0-p1", "1.0.0.0-patch1"),
    ],
)
def test_normalize(version, normalized):
    assert _normalize(version) == normalized


def test_stability_order_at_equal_numbers():
    ascending = [
        "1.0.0-dev",
        "1.0.0-alpha1-dev",
        "1.0.0-alpha1",
        "1.0.0-alpha2",
        "1.0.0-beta",
        "1.0.0-beta1-dev",
        "1.0.0-beta1",
        "1.0.0-beta2",
        "1.0.0-beta10",
        "1.0.0-RC1",
        "1.0.0-RC2",
        "1.0.0",
        "1.0.0-patch1",
        "1.0.0-p2",
        "1.0.1-dev",
        "1.0.1",
        "1.1.x-dev",
        "1.2.0",
    ]
    for a, b in itertools.pairwise(ascending):
        assert _sign(a, b) == -1, (a, b)


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ("1.0", "1.0.0", 0),
        ("v1.0.0", "1.0.0.0", 0),
        ("1.0.0-b1", "1.0.0-beta1", 0),
        ("1.0.0-a1", "1.0.0-alpha.1", 0),
        ("1.0.0-RC1", "1.0.0-rc1", 0),
        ("1.0.0+build.7", "1.0.0", 0),
        ("1.0.0-beta", "1.0.0-beta0", -1),  # PHP: a longer version whose extra part is a number is greater
        ("2010-01-02", "2010.01.02.0", -1),
        ("1.10.0", "1.9.9", 1),
        ("1.0.0-STABLE", "1.0.0-dev", -1),  # Composer keeps "STABLE" as a word, which PHP ranks lowest
    ],
)
def test_table(a, b, want):
    assert _sign(a, b) == want
    assert _sign(b, a) == -want


@pytest.mark.parametrize(
    "branch",
    ["dev-master", "dev-main", "DEV-feature", "master", "trunk", "default", "feature-dev", "dev-1.x"],
)
def test_named_branches_are_not_ordered(branch):
    with pytest.raises(InvalidVersion):
        SCHEME.key(branch)


@pytest.mark.parametrize(
    "bad", ["", "1.0.0-foo", "a", "1.0.0.0.0", "1.0.0-beta-rc", "1.0 beta", "^1.0", ">=1.0", "1.*", "1.0.0-#"]
)
def test_rejects(bad):
    with pytest.raises(InvalidVersion):
        SCHEME.key(bad)
