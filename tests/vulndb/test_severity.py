import json

import pytest

from ci_security.models import Advisory, Affected, Severity
from ci_security.vulndb.severity import assess, cvss_score


def _adv(severity=(), affected_severity=(), db=None, aff_db=None):
    affected = Affected(
        ecosystem="PyPI",
        name="x",
        severity=affected_severity,
        database_specific=json.dumps(aff_db) if aff_db else None,
    )
    return Advisory(
        id="A-1",
        modified="2024",
        severity=severity,
        affected=(affected,),
        database_specific=json.dumps(db) if db else None,
    ), affected


@pytest.mark.parametrize(
    ("kind", "vector", "score", "label"),
    [
        ("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, Severity.CRITICAL),
        ("CVSS_V3", "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", 5.5, Severity.MEDIUM),
        (
            "CVSS_V4",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            9.3,
            Severity.CRITICAL,
        ),
        ("CVSS_V2", "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0, Severity.HIGH),  # v2 has no CRITICAL
    ],
)
def test_cvss_vectors(kind, vector, score, label):
    advisory, affected = _adv(severity=((kind, vector),))
    info = assess(advisory, affected)
    assert (info.score, info.severity, info.vector) == (score, label, vector)
    assert kind in info.source


def test_v3_preferred_and_package_level_first():
    v3 = ("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L")
    v4 = ("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
    advisory, affected = _adv(severity=(v4, v3))
    assert assess(advisory, affected).score == 5.3
    advisory, affected = _adv(severity=(v3,), affected_severity=(v4,))
    assert assess(advisory, affected).score == 9.3


def test_labels_without_vectors():
    advisory, affected = _adv(db={"severity": "MODERATE"})
    assert assess(advisory, affected).severity is Severity.MEDIUM
    advisory, affected = _adv(aff_db={"urgency": "unimportant"})
    assert assess(advisory, affected).severity is Severity.LOW
    advisory, affected = _adv(severity=(("Ubuntu", "high"),))
    assert assess(advisory, affected).severity is Severity.HIGH
    advisory, affected = _adv()
    info = assess(advisory, affected)
    assert (info.severity, info.score, info.source) == (Severity.UNKNOWN, None, "none")


def test_bad_vector_is_ignored():
    assert cvss_score("CVSS_V3", "CVSS:3.1/garbage") is None
    advisory, affected = _adv(severity=(("CVSS_V3", "nonsense"),), db={"severity": "HIGH"})
    assert assess(advisory, affected).severity is Severity.HIGH
