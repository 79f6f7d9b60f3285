import itertools

import pytest

from ci_security.vulndb.versions.base import InvalidVersion, compare
from ci_security.vulndb.versions.rubygems import RubyGemsScheme

SCHEME = RubyGemsScheme()


def _sign(a: str, b: str) -> int:
    return compare(SCHEME, a, b)


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        # Gem::Version#<=> cases from RubyGems' own test suite
        ("1.0", "1.0.0", 0),
        ("1.0", "1.0.a", 1),
        ("1.8.2", "0.0.0", 1),
        ("1.8.2", "1.8.2.a", 1),
        ("1.8.2.b", "1.8.2.a", 1),
        ("1.8.2.a", "1.8.2", -1),
        ("1.8.2.a10", "1.8.2.a9", 1),
        ("0.beta.1", "0.0.beta.1", 0),
        ("0.0.beta", "0.0.beta.1", -1),
        ("0.0.beta", "0.beta.1", -1),
        ("5.a", "5.0.0.rc2", -1),
        ("5.x", "5.0.0.rc2", 1),
        # canonical segments: trailing zeros dropped on both sides of the first string
        ("1.2.b1", "1.2.b.1", 0),
        ("1.0.a", "1.a", 0),
        ("1.a.0", "1.a", 0),
        ("1.a.0.1", "1.a", 1),
        ("1.a.0.b", "1.a", -1),
        ("1.a.0.b", "1.a.0.0.c", -1),
        # "-" reads as ".pre."
        ("1.0.0-rc1", "1.0.0.pre.rc1", 0),
        ("1.0.0-rc1", "1.0.0", -1),
        ("1.0.0-rc1", "1.0.0.rc1", -1),  # "pre" < "rc"
        ("2.0.0.pre", "2.0.0.rc1", -1),
        ("1.0.0.B", "1.0.0.a", -1),  # strings compare byte-wise, case-sensitively
        ("1.10", "1.9", 1),
        ("1.0.0.1", "1.0.0", 1),
        (" 1.0 ", "1.0", 0),
        ("100000000000000000000000", "99999999999999999999999", 1),
    ],
)
def test_table(a, b, want):
    assert _sign(a, b) == want
    assert _sign(b, a) == -want


def test_prerelease_chain():
    versions = [
        "1.0.0.a",
        "1.0.0.alpha.1",
        "1.0.0.b",
        "1.0.0.beta.2",
        "1.0.0.rc1",
        "1.0.0",
        "1.0.0.1",
        "1.0.1",
    ]
    keys = [SCHEME.key(v) for v in versions]
    assert all(a < b for a, b in itertools.pairwise(keys))


@pytest.mark.parametrize("bad", ["", "junk", "1..2", "1.2.3-", "- 1", "1.0\n2.0", "a.1", "1.0 beta", "1,0"])
def test_rejects(bad):
    with pytest.raises(InvalidVersion):
        SCHEME.key(bad)
