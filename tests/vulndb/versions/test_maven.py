import itertools

import pytest

from ci_security.vulndb.versions.base import InvalidVersion, compare
from ci_security.vulndb.versions.maven import MavenScheme

SCHEME = MavenScheme()


def _sign(a: str, b: str) -> int:
    return compare(SCHEME, a, b)


def _assert_ascending(versions: list[str]) -> None:
    for a, b in itertools.pairwise(versions):
        assert _sign(a, b) == -1, (a, b)
    assert sorted(reversed(versions), key=SCHEME.key) == versions


def test_comparable_version_test_qualifier_order():
    # maven-artifact's ComparableVersionTest VERSIONS_QUALIFIER, except "1.0-RELEASE": Maven 3.9 made
    # "release" an alias of the release qualifier, so it equals "1.0" here (checked below).
    _assert_ascending(
        [
            "NotAVersionSting",
            "1.0a1-SNAPSHOT",
            "1.0-alpha1",
            "1.0beta1-SNAPSHOT",
            "1.0-b2",
            "1.0-beta3.SNAPSHOT",
            "1.0-beta3",
            "1.0-milestone1-SNAPSHOT",
            "1.0-m2",
            "1.0-rc1-SNAPSHOT",
            "1.0-cr1",
            "1.0-SNAPSHOT",
            "1.0",
            "1.0-sp",
            "1.0-a",
            "1.0-whatever",
            "1.0.z",
            "1.0.1",
            "1.0.1.0.0.0.0.0.0.0.0.0.0.0.1",
        ]
    )


def test_comparable_version_test_number_order():
    _assert_ascending(
        [
            "2.0",
            "2-1",
            "2.0.a",
            "2.0.0.a",
            "2.0.2",
            "2.0.123",
            "2.1.0",
            "2.1-a",
            "2.1b",
            "2.1-c",
            "2.1-1",
            "2.1.0.1",
            "2.2",
            "2.123",
            "11.a2",
            "11.a11",
            "11.b2",
            "11.b11",
            "11.m2",
            "11.m11",
            "11",
            "11.a",
            "11b",
            "11c",
            "11m",
        ]
    )


@pytest.mark.parametrize(
    "equal",
    [
        [
            "1",
            "1.0",
            "1.0.0",
            "1-0",
            "1-0-0",
            "1.ga",
            "1-ga",
            "1.final",
            "1-final",
            "1.0.0-ga",
            "1-release",
            "1.0-RELEASE",
        ],
        ["1-alpha-1", "1-a1", "1-alpha1", "1-ALPHA1", "1-Alpha1"],
        ["1.0-beta1", "1.0-b1", "1.0beta1"],
        ["1.0-milestone1", "1.0-m1"],
        ["1.0-rc1", "1.0-cr1", "1.0RC1"],
        ["1..0", "1.0.0"],
        ["1-sp", "1-SP"],
        ["1.0.0-0010", "1.0.0-10"],
    ],
)
def test_equal(equal):
    for other in equal[1:]:
        assert _sign(equal[0], other) == 0, (equal[0], other)
        assert SCHEME.key(equal[0]) == SCHEME.key(other)


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        # the End Result Examples of the POM reference's Version Order Specification
        ("1", "1.1", -1),
        ("1-snapshot", "1", -1),
        ("1", "1-sp", -1),
        ("1-foo2", "1-foo10", -1),
        ("1-foo", "1-1", -1),
        ("1-1", "1.1", -1),
        ("1-sp", "1-ga", 1),
        ("1-sp.1", "1-ga.1", 1),
        ("1-sp-1", "1-ga-1", -1),  # the reference once said ">"; maven-artifact says "<" (as corrected later)
        ("1.7", "1.K", 1),
        ("5.zebra", "5.aardvark", 1),
        ("1.\u03b1", "1.b", 1),  # Greek alpha
        # MNG-5568: kept transitive
        ("6.1.0rc3", "6.1.0", -1),
        ("6.1.0", "6.1H.5-beta", -1),
        ("6.1.0rc3", "6.1H.5-beta", -1),
        # common shapes
        ("3.0.0.beta1", "3.0.0", -1),
        ("2.0.0.M1", "2.0.0", -1),
        ("5.3.20.RELEASE", "5.3.21", -1),
        ("2.12.7.1", "2.12.7", 1),
        ("2.13.0-rc1", "2.12.7.1", 1),
        ("1.0.1", "1.0-1", 1),
        ("9.4.51.v20230217", "9.4.51", 1),
        ("9.4.51.v20230217", "9.4.52.v20230823", -1),
        ("1.2.3-20200101.123456-1", "1.2.3", 1),
        ("31.1-jre", "32.0.0-android", -1),
        ("1.0.0.Final", "1.0.0", 0),
        ("1.0.0.CR1", "1.0.0", -1),
        ("10000000000000000000000", "9999999999999999999999", 1),
    ],
)
def test_table(a, b, want):
    assert _sign(a, b) == want
    assert _sign(b, a) == -want


def test_where_maven_is_not_transitive_the_key_picks_a_side():
    # Maven: 3.0.beta < 3 < 3-1 but also 3.0.beta > 3-1 (a number beats a sub-list). The key keeps the
    # first two, the padding rule, and so orders 3.0.beta below 3-1.
    _assert_ascending(["3.0.beta", "3", "3-1"])
    # Maven compares a sub-list with the missing item by its first item only, so it finds 1-0.1 == 1;
    # here the first non-null item decides.
    assert _sign("1-0.1", "1") == 1


@pytest.mark.parametrize("bad", ["", "   ", "1.0 beta", "1.0\t1"])
def test_rejects(bad):
    with pytest.raises(InvalidVersion):
        SCHEME.key(bad)
