import pytest

from ci_security.match.ranges import Problem, evaluate
from ci_security.models import AffectedRange, RangeEvent
from ci_security.vulndb.versions.registry import SCHEMES, scheme_for

PEP440 = scheme_for("PyPI")
SEMVER = SCHEMES["semver"]
DPKG = scheme_for("Debian:12")


def _range(*events, kind="ECOSYSTEM"):
    return AffectedRange(kind, tuple(RangeEvent(k, v) for k, v in events))


@pytest.mark.parametrize(
    ("version", "affected", "fixed"),
    [
        ("0.9", True, "1.2"),
        ("1.0", True, "1.2"),
        ("1.2", False, None),
        ("1.5", True, "1.7"),
        ("1.7", False, None),
        ("2.0", True, None),
    ],
)
def test_multiple_intervals_and_open_end(version, affected, fixed):
    rng = _range(
        ("introduced", "0"), ("fixed", "1.2"), ("introduced", "1.5"), ("fixed", "1.7"), ("introduced", "2.0")
    )
    verdict = evaluate(version, [rng], (), PEP440, SEMVER)
    assert (verdict is not None) is affected
    if verdict:
        assert verdict.fixed == fixed


def test_last_affected_and_limit():
    last = _range(("introduced", "1.0"), ("last_affected", "1.4"))
    assert evaluate("1.4", [last], (), PEP440, SEMVER) is not None
    assert evaluate("1.4.1", [last], (), PEP440, SEMVER) is None
    assert evaluate("1.4", [last], (), PEP440, SEMVER).fixed is None
    limited = _range(("introduced", "0"), ("limit", "2.0"))
    assert evaluate("1.9", [limited], (), PEP440, SEMVER) is not None
    assert evaluate("2.0", [limited], (), PEP440, SEMVER) is None


def test_semver_ranges_use_semver_even_in_go():
    rng = _range(("introduced", "0"), ("fixed", "0.3.7"), kind="SEMVER")
    assert evaluate("v0.3.6", [rng], (), scheme_for("Go"), SEMVER).fixed == "0.3.7"
    assert evaluate("v0.3.7", [rng], (), scheme_for("Go"), SEMVER) is None
    pseudo = "v0.0.0-20200804184101-5ec99f83aff1"
    assert evaluate(pseudo, [rng], (), scheme_for("Go"), SEMVER) is not None


def test_explicit_versions_and_unreadable_data():
    assert evaluate("1.0.post1", [], ("1.0.post1",), PEP440, SEMVER).by == "versions"
    assert evaluate("1.0", [], ("1.0.0",), PEP440, SEMVER) is not None  # equal under PEP 440
    # An introduced the scheme cannot read disables the range instead of opening it.
    assert evaluate("5.0", [_range(("introduced", "not a version!"))], (), PEP440, SEMVER) is None
    # A fixed event it cannot read is skipped; the installed version stays affected.
    assert evaluate("5.0", [_range(("introduced", "0"), ("fixed", "?!"))], (), PEP440, SEMVER).fixed is None
    # An installed version the scheme cannot read only matches explicit versions.
    assert evaluate("weird~", [_range(("introduced", "0"))], ("weird~",), PEP440, SEMVER).by == "versions"


def test_smallest_fix_across_ranges():
    a = _range(("introduced", "0"), ("fixed", "3.0.13-1~deb12u1"))
    b = _range(("introduced", "0"), ("fixed", "3.0.11-1~deb12u2"))
    assert evaluate("3.0.9-1", [a, b], (), DPKG, SEMVER).fixed == "3.0.11-1~deb12u2"


def test_what_could_not_be_evaluated_is_said_when_the_entry_does_not_match():
    problems: list[Problem] = []
    assert evaluate("5.0", [_range(("introduced", "not a version!"))], (), PEP440, SEMVER, problems) is None
    assert problems == [Problem("entry", "introduced 'not a version!' cannot be read as a pep440 version")]
    problems = []
    assert evaluate("weird~", [_range(("introduced", "0"))], ("1.0",), PEP440, SEMVER, problems) is None
    assert problems == [Problem("version", "'weird~' cannot be read as a pep440 version")]
    problems = []
    assert evaluate("1.0", [_range(("introduced", "0"))], (), None, SEMVER, problems) is None
    assert [p.kind for p in problems] == ["entry"]
    # A match says nothing: the entry was evaluated enough to find the package affected.
    problems = []
    both = [_range(("introduced", "?!")), _range(("introduced", "0"))]
    assert evaluate("1.0", both, (), PEP440, SEMVER, problems) is not None and problems == []
    # Neither does a clean "not affected".
    assert (
        evaluate("2.0", [_range(("introduced", "0"), ("fixed", "1.0"))], (), PEP440, SEMVER, problems) is None
    )
    assert problems == []
