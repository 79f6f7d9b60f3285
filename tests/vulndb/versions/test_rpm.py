import shutil
import subprocess

import pytest
from testkit.shared import shared_path

from ci_security.vulndb.versions.base import InvalidVersion, compare
from ci_security.vulndb.versions.rpm import RpmScheme

SCHEME = RpmScheme()


def _sign(a: str, b: str) -> int:
    return compare(SCHEME, a, b)


def test_ground_truth_pairs_from_librpm():
    # version-release strings, epoch 0, release after the last "-" (the file's header line)
    rows = [
        line.split("\t")
        for line in shared_path("data", "versions", "rpm-pairs.tsv").read_text().splitlines()
        if not line.startswith("#")
    ]
    assert len(rows) == 100_000
    keys = {v: SCHEME.key(v) for v in {v for row in rows for v in row[:2]}}  # each distinct string once
    wrong = [(a, b, want) for a, b, want in rows if ((keys[a] > keys[b]) - (keys[a] < keys[b])) != int(want)]
    assert wrong == []


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ("1.0", "1.0", 0),
        ("1.0", "1_0", 0),  # separators carry no weight
        ("1.0", "1..0", 0),
        ("1.01", "1.1", 0),  # leading zeros ignored
        ("1.0~rc1", "1.0", -1),
        ("1.0~rc1", "1.0~rc2", -1),
        ("1.0~~", "1.0~", -1),
        ("1.0", "1.0^git1", -1),
        ("1.0^git1", "1.0.1", -1),
        ("1.0^", "1.0", 1),
        ("1.0~rc1^git1", "1.0~rc1", 1),
        ("1.0a", "1.0", 1),
        ("1.0a", "1.0.1", -1),  # a number beats letters at the same place
        ("1.0", "1.0a", -1),
        ("2.0", "10", -1),
        ("a", "b", -1),
        ("A", "a", -1),  # byte-wise
        ("1:1.0-1", "2.0-1", 1),
        ("0:1.0-1", "1.0-1", 0),
        (":1.0", "0:1.0", 0),
        ("1.0-1", "1.0-1.el8", -1),
        ("1.0-1.el8", "1.0-1.el8_1", -1),
        ("1.0-2.el8", "1.0-10.el8", -1),
        ("1.0", "1.0-1", -1),  # a missing release sorts below any release
        ("1.0", "1.0-~1", -1),
        ("1.0", "1.0-", -1),
        ("2.0", "1.0-9", 1),
        ("1.0-1-2", "1.0-1-1", 1),  # the release is "2" vs "1"
    ],
)
def test_table(a, b, want):
    assert _sign(a, b) == want
    assert _sign(b, a) == -want


@pytest.mark.parametrize("bad", ["", "  ", "1.0 1", "1:", "-1", "1:-1"])
def test_rejects(bad):
    with pytest.raises(InvalidVersion):
        SCHEME.key(bad)


ORACLE_CASES = [
    ("1.0~rc1", "1.0"),
    ("1.0~~", "1.0~"),
    ("1.0", "1.0^git1"),
    ("1.0^git1", "1.0.1"),
    ("1.0^git1", "1.0^git2"),
    ("1.0~rc1^git1", "1.0~rc1"),
    ("1.0a", "1.0.1"),
    ("1.0a", "1.0"),
    ("1.01", "1.1"),
    ("1.0", "1_0"),
    ("1:1.0-1", "2.0-1"),
    ("0:1.0-1", "1.0-1"),
    ("1.0-1", "1.0-1.el8"),
    ("1.0", "1.0-1"),
    ("1.0", "1.0-~1"),
    ("1.0-", "1.0"),
    ("2.0", "1.0-9"),
    ("1.0-1-2", "1.0-1-1"),
    ("5.14.0-362.8.1.el9_3", "5.14.0-362.13.1.el9_3"),
    ("2.28-225.el9", "2.28-225.el9_2.1"),
    ("1.1.1k-9.el8_7", "1.1.1k-12.el8_9"),
    ("4.2.0+git20230101", "4.2.0"),
    ("12345678901234567890", "12345678901234567891"),
]


@pytest.mark.skipif(shutil.which("rpm") is None, reason="rpm is not installed")
def test_matches_rpm_vercmp():
    calls = " ".join(f'print(rpm.vercmp("{a}", "{b}"), ",")' for a, b in ORACLE_CASES)
    result = subprocess.run(
        ["rpm", "--eval", f"%{{lua: {calls}}}"], capture_output=True, text=True, check=True
    )
    theirs = [int(part) for part in result.stdout.replace("\n", "").split(",") if part.strip()]
    assert len(theirs) == len(ORACLE_CASES), result.stdout
    ours = [_sign(a, b) for a, b in ORACLE_CASES]
    assert ours == [(n > 0) - (n < 0) for n in theirs]
