import random
import re

import pytest
from testkit.shared import shared_path

from ci_security.vulndb.versions.apk import ApkScheme
from ci_security.vulndb.versions.base import InvalidVersion, compare

SCHEME = ApkScheme()
OPS = {"<": -1, "=": 0, ">": 1}


def _sign(a: str, b: str) -> int:
    return compare(SCHEME, a, b)


def _fixture_lines() -> list[tuple[str, str, str]]:
    """apk-tools' version.data as osv-scanner collected it (`shared/data/versions/apk-versions.txt`)."""
    lines = []
    for line in shared_path("data", "versions", "apk-versions.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            a, op, b = line.split()
            lines.append((a, op, b))
    return lines


def test_fixture_is_complete():
    lines = _fixture_lines()
    assert len(lines) == 104
    assert lines[0] == ("1-r2", ">", "1-r-1")  # the first malformed-version case


def test_apk_tools_version_data():
    # One test over every line (the data is read at run time, so it cannot parametrize collection).
    wrong = [(a, op, b) for a, op, b in _fixture_lines() if _sign(a, b) != OPS[op] or _sign(b, a) != -OPS[op]]
    assert wrong == []


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ("1.0", "1.0-r0", -1),
        ("1.0-r1", "1.0.1", -1),
        ("1.0_rc1", "1.0", -1),
        ("1.0", "1.0_p1", -1),
        ("1.0_alpha", "1.0_beta", -1),
        ("1.0_beta", "1.0_pre", -1),
        ("1.0_pre", "1.0_rc", -1),
        ("1.0_cvs", "1.0_svn", -1),
        ("1.0_svn", "1.0_git", -1),
        ("1.0_git", "1.0_hg", -1),
        ("1.0_hg", "1.0_p", -1),
        ("1.0a", "1.0b", -1),
        ("1.0z", "1.0.1", -1),
        ("1.02", "1.1", -1),  # a component with a leading zero compares as a string
        ("1.010", "1.02", -1),
        ("1.0", "1.00", -1),
        ("1.0_rc1", "1.0", -1),
        ("1.0", "1.0-r1", -1),
        ("1.0-r1", "1.0_p1", -1),
        ("1.0_p1", "1.0a", -1),
        ("1.0a", "1.0.1", -1),
        ("1.0_git20230101~abc123-r0", "1.0_git20230101~abc123-r1", -1),
        ("1.0_git20230101~abc123", "1.0_git20230101~abd000", -1),
        ("1.0_git20230101~abc123-r9", "1.0_git20230102~000000-r0", -1),
        ("1.0_git1~abc", "1.0_git1", 1),  # a hash ranks above the end of the version
        ("1.0_git1~abc", "1.0_git1-r1", 1),  # and above -r
        ("1.0_git1~abc", "1.0_git1_p1", -1),  # but below a suffix
        ("1.0~abc-r1", "1.0~abc-r2", -1),
        ("1.0-r1-r2", "1.0-r1-r3", 0),  # a second -r is malformed: ignored from there on
        ("1.0-r1", "1.0-r1-r3", -1),  # and the malformed one ranks above
        ("1.0.0_pre20191002222144-r0", "1.0.0_pre20210530193627-r0", -1),  # beyond a 32-bit int
    ],
)
def test_table(a, b, want):
    assert _sign(a, b) == want
    assert _sign(b, a) == -want


@pytest.mark.parametrize("bad", ["", "r1", "-r1", "_alpha", "v1.0", "é1", "1.0é", " 1.0"])
def test_rejects_what_cannot_be_an_apk_version(bad):
    with pytest.raises(InvalidVersion):
        SCHEME.key(bad)


# An independent, loop-shaped model of apk-tools' comparison (version.c since the 2024 rewrite, with the
# two apk-tools 2 readings of malformed versions that the fixture pins), written as a regex tokenizer and
# the token-by-token loop, to check the key's interleaved encoding against it.
_KINDS = ["initial", "digit", "letter", "suffix", "suffix_no", "hash", "revision", "end", "invalid"]
_TOKEN = re.compile(
    r"(?P<digit>\.[0-9]+)|(?P<letter>[a-z])|(?P<suffix>_[a-z]*)|(?P<suffix_no>[0-9]+)"
    r"|(?P<hash>~[0-9a-f]+)|(?P<revision>-r[0-9]*)"
)
_SUFFIX_ORDER = ["alpha", "beta", "pre", "rc", None, "cvs", "svn", "git", "hg", "p"]


def _tokens(text):
    """[(kind, raw text)] then the final kind, "end" or "invalid"."""
    match = re.match(r"[0-9]+", text)
    tokens, pos, previous = [("initial", match.group())], match.end(), 0
    while pos < len(text):
        token = _TOKEN.match(text, pos)
        kind = token.lastgroup if token else "invalid"
        order = _KINDS.index(kind)
        allowed = {
            "digit": previous <= 1,
            "letter": previous <= 1,
            "suffix": previous <= 4 and token and token.group()[1:] in _SUFFIX_ORDER,
            "suffix_no": previous == 3,
            "hash": previous < 5,
            "revision": previous < 6,
        }.get(kind, False)
        if not allowed:
            return tokens, "invalid"
        tokens.append((kind, token.group()))
        pos, previous = token.end(), order
    return tokens, "end"


def _token_cmp(kind, a, b):
    if kind == "digit" and (a[1] == "0" or b[1] == "0"):
        a, b = a[1:], b[1:]  # string order
    elif kind in ("initial", "digit", "suffix_no", "revision"):
        a, b = int(a.lstrip(".-r") or 0), int(b.lstrip(".-r") or 0)
    elif kind == "suffix":
        a, b = _SUFFIX_ORDER.index(a[1:]), _SUFFIX_ORDER.index(b[1:])
    return (a > b) - (a < b)


def _reference_compare(a, b):
    (ta, enda), (tb, endb) = _tokens(a), _tokens(b)
    for i in range(min(len(ta), len(tb))):
        if ta[i][0] != tb[i][0]:
            kind_a, kind_b, rest_a, rest_b = ta[i][0], tb[i][0], ta[i], tb[i]
            break
        result = _token_cmp(ta[i][0], ta[i][1], tb[i][1])
        if result:
            return result
    else:
        n = min(len(ta), len(tb))
        rest_a = ta[n] if n < len(ta) else None
        rest_b = tb[n] if n < len(tb) else None
        kind_a = rest_a[0] if rest_a else enda
        kind_b = rest_b[0] if rest_b else endb
        if kind_a == kind_b:
            return 0
    if kind_a == "suffix" and _SUFFIX_ORDER.index(rest_a[1][1:]) < 4:
        return -1
    if kind_b == "suffix" and _SUFFIX_ORDER.index(rest_b[1][1:]) < 4:
        return 1
    rank = {"invalid": -1}  # apk-tools 2: the invalid kind ranks above all
    order_a, order_b = rank.get(kind_a, _KINDS.index(kind_a)), rank.get(kind_b, _KINDS.index(kind_b))
    return (order_a < order_b) - (order_a > order_b)


def test_reference_model_agrees_with_the_fixture():
    for a, op, b in _fixture_lines():
        assert _reference_compare(a, b) == OPS[op], (a, op, b)


def _random_version(rng: random.Random) -> str:
    pieces = [str(rng.choice([0, 1, 2, 10, 12]))]
    for _ in range(rng.randint(0, 5)):
        pieces.append(
            rng.choice(
                [
                    ".0",
                    ".1",
                    ".01",
                    ".010",
                    ".2",
                    ".00",
                    "a",
                    "b",
                    "z",
                    "_alpha",
                    "_rc",
                    "_p",
                    "_git",
                    "_foo",
                    "1",
                    "0",
                    "-r0",
                    "-r1",
                    "-r",
                    "-x",
                    ".",
                    "_",
                    "A",
                    "-r-1",
                    "~abc",
                    "~0f",
                    "~",
                    "~g",
                ]
            )
        )
    return "".join(pieces)


def test_key_matches_the_reference_model_on_random_versions():
    rng = random.Random(1)
    versions = sorted({_random_version(rng) for _ in range(600)})
    keys = {v: SCHEME.key(v) for v in versions}
    mismatches = []
    for _ in range(20_000):
        a, b = rng.choice(versions), rng.choice(versions)
        ours = (keys[a] > keys[b]) - (keys[a] < keys[b])
        if ours != _reference_compare(a, b):
            mismatches.append((a, b, ours))
    assert mismatches == []
