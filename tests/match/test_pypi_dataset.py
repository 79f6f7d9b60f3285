"""Range evaluation against the whole pypa advisory database: every version a record lists in
`versions[]` (140,000+) must also fall inside the record's ECOSYSTEM ranges, bar the records whose
lists and ranges contradict each other in the data itself."""

from testkit.shared import osv_pypi

from ci_security.match.ranges import evaluate
from ci_security.vulndb.osv import iter_records
from ci_security.vulndb.versions.base import InvalidVersion
from ci_security.vulndb.versions.registry import SCHEMES, scheme_for

# Contradictions in the pypa snapshot (3ccb612), each checked by hand:
# - PYSEC-2023-61 lists Django 3.2/4.2 pre-releases although its ranges start at the final 3.2 and 4.2
#   (PEP 440 orders 3.2a1 before 3.2);
# - PYSEC-2023-177 lists gevent 23.9.0, the version its range says fixes it (and a post-release of it);
# - PYSEC-2021-114 writes two overlapping intervals into one range (introduced 2.11 … fixed 2.11.7 and
#   introduced 0 … fixed 2.11.6), which the OSV evaluation rule resolves against 2.11.6.
DATA_ERRORS = {
    ("PYSEC-2023-61", "3.2a1"),
    ("PYSEC-2023-61", "3.2b1"),
    ("PYSEC-2023-61", "3.2rc1"),
    ("PYSEC-2023-61", "4.2a1"),
    ("PYSEC-2023-61", "4.2b1"),
    ("PYSEC-2023-61", "4.2rc1"),
    ("PYSEC-2023-177", "23.9.0"),
    ("PYSEC-2023-177", "23.9.0.post1"),
    ("PYSEC-2021-114", "2.11.6"),
}


def test_listed_versions_fall_inside_the_ranges():
    pep440, semver = scheme_for("PyPI"), SCHEMES["semver"]
    checked, disagreements, unreadable = 0, set(), 0
    for record in iter_records(osv_pypi()):
        for affected in record.affected:
            if not affected.ranges:
                continue
            for version in affected.versions:
                try:
                    pep440.key(version)
                except InvalidVersion:
                    unreadable += (
                        1  # pre-PEP 440 strings (e.g. `0.12.01dev`): only an exact match can use them
                    )
                    continue
                checked += 1
                if evaluate(version, affected.ranges, (), pep440, semver) is None:
                    disagreements.add((record.id, version))
    assert checked > 140_000
    assert unreadable < 150
    assert disagreements == DATA_ERRORS
