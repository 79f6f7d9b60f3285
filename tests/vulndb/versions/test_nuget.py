import pytest

from ci_security.vulndb.versions.base import InvalidVersion, compare
from ci_security.vulndb.versions.nuget import NuGetScheme

SCHEME = NuGetScheme()


def _sign(a: str, b: str) -> int:
    return compare(SCHEME, a, b)


def test_nuget_docs_pre_release_order():
    # NuGet's "Package versioning" page lists these from highest to lowest.
    descending = [
        "1.0.1",
        "1.0.1-zzz",
        "1.0.1-rc",
        "1.0.1-open",
        "1.0.1-beta",
        "1.0.1-alpha2",
        "1.0.1-alpha10",
        "1.0.1-aaa",
    ]
    assert sorted(descending, key=SCHEME.key, reverse=True) == descending


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.0", "1.0.0"),
        ("1", "1.0.0.0"),
        ("1.0.0.0", "1.0.0"),
        ("1.01.1", "1.1.1"),
        ("1.0.0-Beta", "1.0.0-beta"),
        ("1.0.0-RC.1", "1.0.0-rc.1"),
        ("1.0.0+abc", "1.0.0"),
        ("1.0.0-beta+build.5", "1.0.0-beta"),
        ("1.0.0-beta.01", "1.0.0-beta.1"),
    ],
)
def test_equal(a, b):
    assert _sign(a, b) == 0
    assert SCHEME.key(a) == SCHEME.key(b)


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ("1.0.0-beta", "1.0.0", -1),
        ("1.0.0-alpha", "1.0.0-beta", -1),
        ("1.0.0-beta.2", "1.0.0-beta.11", -1),
        ("1.0.0-1", "1.0.0-alpha", -1),  # numeric labels before alphanumeric ones
        ("1.0.0-beta", "1.0.0-beta.1", -1),
        ("1.0.0-beta.x", "1.0.0-beta.1", 1),
        ("1.0.0-a-b", "1.0.0-a", 1),
        ("1.0.0-B", "1.0.0-a", 1),  # case-insensitive: "B" > "A"
        ("1.0.0.1", "1.0.0", 1),
        ("1.0.0.1-beta", "1.0.0.1", -1),
        ("1.0.0.1-beta", "1.0.0", 1),
        ("2.0", "10.0", -1),
        ("1.0.0-99999999999999999999", "1.0.0-a", -1),  # beyond a long: compared as text, "9" < "A"
        ("1.0.0-99999999999999999999", "1.0.0-1", 1),
    ],
)
def test_table(a, b, want):
    assert _sign(a, b) == want
    assert _sign(b, a) == -want


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "v1.0.0",
        "1.0.0.0.0",
        "1.0.0-",
        "1.0.0-beta..1",
        "1.0.0+",
        "1.0.0-beta_1",
        "2147483648.0.0",
        "1." + "9" * 5000,
        "1.0 beta",
        "a.b.c",
    ],
)
def test_rejects(bad):
    with pytest.raises(InvalidVersion):
        SCHEME.key(bad)
