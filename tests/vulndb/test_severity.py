import json

import pytest

from ci_security.models import Advisory, Affected, Severity, SeverityRating
from ci_security.vulndb.severity import assess, choose, cve_ratings, cvss_score, ordered, ratings


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


def test_the_distributions_rating_wins_over_the_cvss_its_record_carries():
    # Issue 16 turned the order around: before it, the record's CVSS (MEDIUM 6.8) won.
    v3 = ("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:N/A:N")
    advisory, affected = _record(summary="Important: java-11-openjdk security update", severity=(v3,))
    info = assess(advisory, affected)
    assert (info.severity, info.score, info.source) == (Severity.HIGH, None, "R-1 summary")
    found = ratings(advisory, affected)
    assert [(r.kind, r.severity, r.score) for r in found] == [
        ("advisory", Severity.MEDIUM, 6.8),
        ("vendor", Severity.HIGH, None),
    ]
    # `nvd` with no NVD, CNA or ADP rating: the vendor's, before the advisory's own CVSS.
    assert choose(found, "nvd").source == "R-1 summary"
    assert choose(found, "max").severity is Severity.HIGH


def test_orders_between_vendor_nvd_cna_adp_and_advisory():
    def rating(kind, severity, score=None):
        return SeverityRating(kind=kind, severity=severity, source=kind, score=score)

    found = [
        rating("advisory", Severity.MEDIUM, 5.0),
        rating("vendor", Severity.LOW),
        rating("adp", Severity.HIGH, 8.8),
        rating("nvd", Severity.CRITICAL, 9.8),
    ]
    assert choose(found, "vendor").source == "vendor"
    assert choose(found, "nvd").source == "nvd"
    assert choose(found, "max").source == "nvd"
    assert [r.kind for r in ordered(found, "vendor")] == ["vendor", "nvd", "adp", "advisory"]
    assert [r.kind for r in ordered(found, "nvd")] == ["nvd", "adp", "vendor", "advisory"]
    # A rating that says nothing is passed over: the next kind speaks.
    unrated = [
        rating("vendor", Severity.UNKNOWN),
        rating("cna", Severity.HIGH, 7.5),
        rating("advisory", Severity.LOW),
    ]
    assert choose(unrated, "vendor").source == "cna"
    assert choose([rating("advisory", Severity.UNKNOWN)], "max").severity is Severity.UNKNOWN
    # max: on a tie, the kind the default order would take first.
    tie = [rating("advisory", Severity.HIGH, 7.0), rating("vendor", Severity.HIGH)]
    assert choose(tie, "max").source == "vendor"


def test_labels_in_language_feeds_are_the_advisorys_own():
    advisory, affected = _adv(db={"severity": "MODERATE"})
    (rating,) = ratings(advisory, affected)
    assert (rating.kind, rating.severity) == ("advisory", Severity.MEDIUM)


def test_red_hat_classification_reference_is_the_vendor_rating():
    advisory = Advisory(
        id="RHSA-1",
        modified="2024",
        references=("https://access.redhat.com/security/updates/classification/#important",),
        severity=(("CVSS_V3", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:N"),),
        affected=(Affected(ecosystem="Red Hat:enterprise_linux:9::appstream", name="podman"),),
    )
    info = assess(advisory, advisory.affected[0])
    assert (info.severity, info.source) == (Severity.HIGH, "RHSA-1 classification")


def test_cve_rows_become_nvd_cna_and_adp_ratings():
    rows = [
        ("adp", "CISA-ADP", "3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8),
        ("nvd", "nvd@nist.gov", "2.0", "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0),
        ("nvd", "nvd@nist.gov", "3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
    ]
    found = cve_ratings(rows, "CVE-2023-45853")
    assert [(r.kind, r.score, r.severity) for r in found] == [
        ("nvd", 9.8, Severity.CRITICAL),  # v3.1 before v2 within a source
        ("nvd", 10.0, Severity.HIGH),  # v2 has no CRITICAL
        ("adp", 8.8, Severity.HIGH),
    ]
    assert found[0].source == "NVD CVSS_V3 CVE-2023-45853 (nvd@nist.gov)"


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
    # Ubuntu's priority for the CVE is the vendor's rating; its CVSS (6.6) stays beside it.
    assert (second.severity, second.source) == (Severity.MEDIUM, "R-1 Ubuntu priority (cves_map CVE-2024-2)")
    assert next(r.score for r in ratings(advisory, affected, "CVE-2024-2")) == 6.6
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
