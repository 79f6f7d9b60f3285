import itertools

import pytest
from packaging.version import Version

from ci_security.vulndb.versions.base import InvalidVersion, compare
from ci_security.vulndb.versions.pep440 import Pep440Scheme

SCHEME = Pep440Scheme()

# PEP 440's own example of a correctly ordered sequence ("Summary of permitted suffixes and relative
# ordering"), plus epochs and local versions.
ORDERED = [
    "1.0.dev456",
    "1.0a1",
    "1.0a2.dev456",
    "1.0a12.dev456",
    "1.0a12",
    "1.0b1.dev456",
    "1.0b2",
    "1.0b2.post345.dev456",
    "1.0b2.post345",
    "1.0rc1.dev456",
    "1.0rc1",
    "1.0",
    "1.0+abc.5",
    "1.0+abc.7",
    "1.0+5",
    "1.0.post456.dev34",
    "1.0.post456",
    "1.0.15",
    "1.1.dev1",
    "2.0",
    "2013.10",
    "1!0.1",
]


def test_pep_440_example_ordering():
    keys = [SCHEME.key(v) for v in ORDERED]
    assert all(a < b for a, b in itertools.pairwise(keys))
    assert sorted(reversed(ORDERED), key=SCHEME.key) == ORDERED


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.0", "1.0.0"),
        ("1.0", "1.0.0.0.0"),
        ("1.0a1", "1.0alpha1"),
        ("1.0a1", "1.0-a-1"),
        ("1.0b2", "1.0beta2"),
        ("1.0rc1", "1.0c1"),
        ("1.0rc1", "1.0pre1"),
        ("1.0.post1", "1.0-1"),
        ("1.0.post1", "1.0.rev1"),
        ("1.0.dev0", "1.0.dev"),
        ("v1.0", "1.0"),
        (" 1.0 ", "1.0"),
        ("0!1.0", "1.0"),
        ("1.0+ubuntu-1", "1.0+ubuntu.1"),
        ("1.0", "1.00"),
    ],
)
def test_normalised_spellings_are_equal(a, b):
    assert compare(SCHEME, a, b) == 0
    assert SCHEME.key(a) == SCHEME.key(b)


def test_key_is_packaging_version():
    assert SCHEME.key("1.2.3") == Version("1.2.3")


@pytest.mark.parametrize(
    "bad", ["", "not-a-version", "1.0.x", "2.0-ubuntu1", "1.0_beta_2_foo", "1..0", "dev", "1.0+", "=1.0"]
)
def test_non_pep_440_strings_stay_invalid(bad):
    with pytest.raises(InvalidVersion):
        SCHEME.key(bad)


def test_huge_numbers_are_invalid_not_a_crash():
    with pytest.raises(InvalidVersion):
        SCHEME.key("1." + "9" * 5000)
