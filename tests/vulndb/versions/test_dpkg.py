import shutil
import subprocess

import pytest
from testkit.shared import shared_path

from ci_security.vulndb.versions.base import InvalidVersion, compare
from ci_security.vulndb.versions.dpkg import DpkgScheme

SCHEME = DpkgScheme()


def _sign(a: str, b: str) -> int:
    return compare(SCHEME, a, b)


def test_ground_truth_pairs_from_libapt():
    rows = [
        line.rstrip("\n").split("\t")
        for line in shared_path("data", "versions", "dpkg-pairs.tsv").read_text().splitlines(keepends=True)
        if not line.startswith("#")
    ]
    assert len(rows) == 100_000
    keys = {v: SCHEME.key(v) for v in {v for row in rows for v in row[:2]}}  # each distinct string once
    wrong = [(a, b, want) for a, b, want in rows if ((keys[a] > keys[b]) - (keys[a] < keys[b])) != int(want)]
    assert wrong == []


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ("1.0", "1.0-0", 0),
        ("1.0", "1.00", 0),
        ("1.0a", "1.0a0", 0),
        ("0:1.0", "1.0", 0),
        ("00:1.0", "0:1.0", 0),
        ("1.0~rc1", "1.0", -1),
        ("1.0~~", "1.0~", -1),
        ("1.0~~a", "1.0~", -1),
        ("1.0~", "1.0", -1),
        ("1.0", "1.0+b1", -1),
        ("1.0-1", "1.0-1+b1", -1),
        ("1.0-1+b1", "1.0-2", -1),
        ("1.0-1~bpo1", "1.0-1", -1),
        ("1:0.1", "9.9", 1),
        ("1.0a", "1.0+", -1),  # letters before other characters
        ("1.0.", "1.0", 1),  # "." is a character, the end is not
        ("1.0", "1.0.0", -1),
        ("1.0-a-1", "1.0-a", 1),  # revision after the last hyphen: upstream "1.0-a" beats "1.0"
        ("2.30-1", "2.4-1", 1),
        ("1.2.3-0ubuntu1", "1.2.3-0ubuntu1.1", -1),
        ("1:2:3", "1:2:3", 0),  # the upstream may hold a colon once an epoch is present
        ("7.2.4+dfsg-1~deb12u1", "7.2.4+dfsg-1", -1),
        ("10", "9", 1),
        ("1.000000000000000000000000000000000001", "1.1", 0),
    ],
)
def test_table(a, b, want):
    assert _sign(a, b) == want
    assert _sign(b, a) == -want


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "1:", "a:1.0", "-1:1.0", "1.0-", "-1", "1 0", "1.0\n", "99999999999:1.0", "1.0é", "1.0\x00"],
)
def test_rejects_what_dpkg_rejects(bad):
    with pytest.raises(InvalidVersion):
        SCHEME.key(bad)


def test_accepts_what_dpkg_only_warns_about():
    assert _sign("a1.0", "b1.0") == -1
    assert _sign("1.0_1", "1.0_2") == -1


ORACLE_CASES = [
    ("1.0", "1.0-0"),
    ("1.0~rc1", "1.0"),
    ("1.0~~", "1.0~"),
    ("1.0~~a", "1.0~~"),
    ("1.0~", "1.0~a"),
    ("1:1.0", "2.0"),
    ("0:1.0", "1.0"),
    ("1.0+b1", "1.0"),
    ("1.0-1+b1", "1.0-1"),
    ("1.0-1+b1", "1.0-1.1"),
    ("1.0-0", "1.0-"),  # invalid on the right: dpkg refuses it, so does the key (checked below)
    ("2.4.1+dfsg+~2.4.0-2", "2.4.1+dfsg-2"),
    ("1.0a", "1.0+"),
    ("1.0a", "1.0A"),
    ("1.0.", "1.0"),
    ("1.0a0", "1.0a"),
    ("5.1.1alpha+20120614-2+b3", "5.1.1alpha+20120614-2"),
    ("1:8-20180414-1ubuntu2", "1:8-20180414-1"),
    ("0.0~git20150730-3", "0.0~git20140508-5"),
    ("1.2.3-0ubuntu0.22.04.1", "1.2.3-0ubuntu0.20.04.1"),
    ("1.0-a-1", "1.0-a"),
    ("00001.0", "1.0"),
]


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg is not installed")
@pytest.mark.parametrize(("a", "b"), ORACLE_CASES)
def test_matches_dpkg_compare_versions(a, b):
    def dpkg(op: str) -> bool:
        result = subprocess.run(["dpkg", "--compare-versions", a, op, b], capture_output=True, check=False)
        assert result.returncode in (0, 1), result.stderr
        return result.returncode == 0

    try:
        ours = _sign(a, b)
    except InvalidVersion:
        result = subprocess.run(["dpkg", "--compare-versions", a, "eq", b], capture_output=True, check=False)
        assert result.returncode == 2  # dpkg calls it bad syntax too
        return
    assert ours == (-1 if dpkg("lt") else 0 if dpkg("eq") else 1)
