import json

import pytest

from ci_security.models import Advisory, Affected, Severity
from ci_security.vulndb.severity import assess, cvss_score, ratings


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


def _record(**fields):
    affected = Affected(
        ecosystem=fields.pop("ecosystem", "AlmaLinux:9"),
        name="x",
        severity=fields.pop("affected_severity", ()),
        database_specific=json.dumps(fields.pop("aff_db")) if "aff_db" in fields else None,
        ecosystem_specific=json.dumps(fields.pop("aff_eco")) if "aff_eco" in fields else None,
    )
    return Advisory(id="R-1", modified="2024", affected=(affected,), **fields), affected


@pytest.mark.parametrize(
    ("summary", "label", "severity"),
    [
        ("Moderate: avahi security update", "Moderate", Severity.MEDIUM),
        ("Important: squid security update", "Important", Severity.HIGH),
        ("Critical: firefox security update", "Critical", Severity.CRITICAL),
        ("Low: libxml2 security update", "Low", Severity.LOW),
        ("krb5 bug fix and enhancement update", None, Severity.UNKNOWN),
    ],
)
def test_rhel_family_summary_prefix_is_the_vendor_rating(summary, label, severity):
    advisory, affected = _record(summary=summary)
    found = [r for r in ratings(advisory, affected) if r.kind == "vendor"]
    assert [(r.label, r.severity, r.source) for r in found] == (
        [(label, severity, "R-1 summary")] if label else []
    )
    assert assess(advisory, affected).severity is severity


def test_vendor_rating_is_kept_when_cvss_wins():
    v3 = ("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:N/A:N")
    advisory, affected = _record(summary="Important: java-11-openjdk security update", severity=(v3,))
    info = assess(advisory, affected)
    assert (info.severity, info.score) == (Severity.MEDIUM, 6.8)
    assert [(r.kind, r.severity) for r in ratings(advisory, affected)] == [
        ("cvss", Severity.MEDIUM),
        ("vendor", Severity.HIGH),
    ]


def test_ubuntu_priorities_in_all_their_places():
    advisory, affected = _record(ecosystem="Ubuntu:22.04:LTS", aff_eco={"ubuntu_priority": "negligible"})
    (rating,) = ratings(advisory, affected)
    assert (rating.label, rating.severity, rating.source) == (
        "negligible",
        Severity.LOW,
        "R-1 ecosystem_specific.ubuntu_priority",
    )
    cves = {
        "cves_map": {
            "ecosystem": "Ubuntu:22.04:LTS",
            "cves": [
                {"id": "CVE-2024-1", "severity": [{"type": "Ubuntu", "score": "high"}]},
                {
                    "id": "CVE-2024-2",
                    "severity": [
                        {"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:H"},
                        {"type": "Ubuntu", "score": "medium"},
                    ],
                },
            ],
        }
    }
    advisory, affected = _record(ecosystem="Ubuntu:22.04:LTS", aff_db=cves)
    first = assess(advisory, affected, "CVE-2024-1")
    assert (first.severity, first.source) == (Severity.HIGH, "R-1 Ubuntu priority (cves_map CVE-2024-1)")
    second = assess(advisory, affected, "CVE-2024-2")
    assert (second.severity, second.score, second.source) == (
        Severity.MEDIUM,
        6.6,
        "R-1 CVSS_V3 (cves_map CVE-2024-2)",
    )
    assert assess(advisory, affected).severity is Severity.UNKNOWN  # two CVEs: none is the record's


@pytest.mark.parametrize(
    ("urgency", "severity"),
    [
        ("unimportant", Severity.LOW),
        ("low*", Severity.LOW),
        ("medium", Severity.MEDIUM),
        ("high**", Severity.HIGH),
        ("not yet assigned", Severity.UNKNOWN),
        ("end-of-life", Severity.UNKNOWN),
    ],
)
def test_debian_urgency(urgency, severity):
    advisory, affected = _record(ecosystem="Debian:12", aff_eco={"urgency": urgency})
    (rating,) = ratings(advisory, affected)
    assert (rating.kind, rating.label, rating.severity) == ("vendor", urgency, severity)
