import functools
import itertools
import random

import pytest

from ci_security.vulndb.versions.base import InvalidVersion, compare
from ci_security.vulndb.versions.registry import SCHEMES, scheme_for


@pytest.mark.parametrize(
    ("ecosystem", "scheme"),
    [
        ("Debian", "dpkg"),
        ("Debian:12", "dpkg"),
        ("Ubuntu", "dpkg"),
        ("Ubuntu:Pro:22.04:LTS", "dpkg"),
        ("Alpine", "apk"),
        ("Alpine:v3.19", "apk"),
        ("Wolfi", "apk"),
        ("Chainguard", "apk"),
        ("Red Hat", "rpm"),
        ("Red Hat:enterprise_linux:9::appstream", "rpm"),
        ("AlmaLinux", "rpm"),
        ("AlmaLinux:8", "rpm"),
        ("Rocky Linux", "rpm"),
        ("Rocky Linux:9", "rpm"),
        ("SUSE", "rpm"),
        ("SUSE:Linux Enterprise Server 15 SP5", "rpm"),
        ("openSUSE", "rpm"),
        ("openSUSE:Tumbleweed", "rpm"),
        ("Photon OS", "rpm"),
        ("Photon OS:5.0", "rpm"),
        ("Azure Linux", "rpm"),
        ("Azure Linux:3", "rpm"),
        ("Mariner", "rpm"),
        ("CBL-Mariner", "rpm"),
        ("Amazon Linux", "rpm"),
        ("Amazon Linux:2023", "rpm"),
        ("openEuler", "rpm"),
        ("openEuler:22.03-LTS", "rpm"),
        ("Mageia", "rpm"),
        ("Mageia:9", "rpm"),
        ("PyPI", "pep440"),
        ("npm", "semver"),
        ("crates.io", "semver"),
        ("Go", "semver"),
        ("Pub", "semver"),
        ("Hex", "semver"),
        ("Maven", "maven"),
        ("Maven:https://repo.maven.apache.org/maven2/", "maven"),
        ("RubyGems", "rubygems"),
        ("NuGet", "nuget"),
        ("Packagist", "composer"),
    ],
)
def test_scheme_for(ecosystem, scheme):
    found = scheme_for(ecosystem)
    assert found is not None
    assert found.name == scheme
    assert found is SCHEMES[scheme]


@pytest.mark.parametrize(
    "ecosystem",
    ["", "debian", "PYPI", "GIT", "Bitnami", "Linux", "Hackage", "CRAN", "SwiftURL", " Debian", ":Debian"],
)
def test_unknown_ecosystems_have_no_scheme(ecosystem):
    assert scheme_for(ecosystem) is None


def test_one_instance_per_scheme_keyed_by_name():
    assert sorted(SCHEMES) == sorted(
        ["dpkg", "apk", "rpm", "pep440", "semver", "maven", "rubygems", "nuget", "composer"]
    )
    for name, scheme in SCHEMES.items():
        assert scheme.name == name
        assert type(scheme).name == name


# Properties every scheme must have, checked on realistic versions plus random junk.
SAMPLES = {
    "dpkg": ["1.0", "1.0-1", "1:1.0-1", "1.0~rc1-1", "2.36-9+deb12u4", "1.0+b1", "0.0~git20200101-1", "1.0a"],
    "apk": [
        "1.0",
        "1.0-r0",
        "1.0_rc1-r2",
        "1.2.3a_p1-r3",
        "1.0_git20230101~abc123-r0",
        "1-ruff",
        "1.0bc",
        "006",
    ],
    "rpm": ["1.0", "1.0-1.el8", "1:1.0-1", "1.0~rc1-1", "1.0^git1-2", "2.28-225.el9_2.1", "1.0-", "a.b"],
    "pep440": ["1.0", "1.0a1", "1.0.post1", "1!2.0", "1.0+local.1", "1.0.dev3", "2013.10", "0.0.0"],
    "semver": ["1.0.0", "1.0.0-alpha.1", "v1.2.3", "v0.0.0-20191109021931-daa7c04131f5", "1.2", "0.0.0-0"],
    "maven": [
        "1.0",
        "1.0-SNAPSHOT",
        "1.0-alpha-1",
        "1.0.0.RELEASE",
        "2.0.0.M1",
        "1-sp",
        "1.0.z",
        "NotAVersion",
    ],
    "rubygems": ["1.0", "1.0.0.pre", "1.0.0-rc1", "2.a.0.1", "0.0.beta", "1.0.B", "3"],
    "nuget": ["1.0", "1.0.0.1", "1.0.0-beta.2", "1.0.0-Beta", "1.0.0+meta", "2.0.0-rc.1"],
    "composer": [
        "1.0",
        "v1.0.0",
        "1.0.0-beta2",
        "1.0.0-RC1-dev",
        "1.x-dev",
        "2010-01-02",
        "1.0.0-p1",
        "1.0.0-STABLE",
    ],
}
# digits weighted up so that junk often looks almost like a version; then letters, separators, a few
# non-ASCII digits and letters, control characters, and a long zero run
ALPHABET = [
    *"0123456789" * 3,
    *"abcdefgrxzABRZ",
    *".-_+~^:=v ",
    "\u00e9",
    "\u0661",
    "\u00b2",
    "\x00",
    "\n",
    "\t",
    "0" * 30,
]


def _junk(rng: random.Random, samples: list[str]) -> str:
    if rng.random() < 0.5:
        text = list(rng.choice(samples))
        for _ in range(rng.randint(1, 3)):
            position = rng.randint(0, len(text))
            action = rng.random()
            if action < 0.4:
                text.insert(position, rng.choice(ALPHABET))
            elif text and action < 0.7:
                del text[min(position, len(text) - 1)]
            elif text:
                text[min(position, len(text) - 1)] = rng.choice(ALPHABET)
        return "".join(text)
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 16)))


@functools.cache
def _readable(name: str) -> list[str]:
    """The sample versions plus the random strings the scheme accepts; each call must raise nothing else."""
    scheme = SCHEMES[name]
    rng = random.Random(name)
    readable = list(SAMPLES[name])
    for _ in range(2500):
        text = _junk(rng, SAMPLES[name])
        try:
            scheme.key(text)
        except InvalidVersion:
            continue
        readable.append(text)
    return readable


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_junk_raises_only_invalid_version(name):
    for sample in SAMPLES[name]:
        SCHEMES[name].key(sample)
    assert len(_readable(name)) > len(SAMPLES[name])


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_keys_are_totally_ordered(name):
    scheme = SCHEMES[name]
    versions = _readable(name)
    keys = [scheme.key(v) for v in versions]
    ordered = sorted(keys)  # would raise TypeError on incomparable parts
    assert all(a <= b for a, b in itertools.pairwise(ordered))
    rng = random.Random(0)
    for _ in range(3000):
        a, b, c = rng.choice(keys), rng.choice(keys), rng.choice(keys)
        assert [a < b, a == b, a > b].count(True) == 1
        if a == b:
            assert hash(a) == hash(b)
        if a <= b <= c:
            assert a <= c


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_sorted_list_agrees_with_pairwise_compare(name):
    scheme = SCHEMES[name]
    rng = random.Random(1)
    versions = rng.sample(_readable(name), min(150, len(_readable(name))))
    ordered = sorted(versions, key=scheme.key)
    by_compare = sorted(versions, key=functools.cmp_to_key(lambda a, b: compare(scheme, a, b)))
    assert [scheme.key(v) for v in by_compare] == [scheme.key(v) for v in ordered]
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            assert compare(scheme, a, b) <= 0
            assert compare(scheme, b, a) >= 0
