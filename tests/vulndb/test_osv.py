import json
import zipfile
from pathlib import Path

import pytest
from testkit.shared import osv_pypi

from ci_security import limits
from ci_security.vulndb.osv import OsvError, iter_records, normalize_name, parse_record

DISTRO = Path(__file__).parents[1] / "fixtures" / "osv" / "distro"


def test_yaml_scalars_stay_strings(tmp_path):
    # pypa writes versions unquoted; `1.10` must not become the float 1.1.
    path = tmp_path / "PYSEC-X.yaml"
    path.write_text(
        "id: PYSEC-X\nmodified: 2024-01-01T00:00:00Z\naffected:\n- package: {name: demo, ecosystem: PyPI}\n"
        "  versions:\n  - 1.10\n  - 2.0\n  ranges:\n  - type: ECOSYSTEM\n    events:\n"
        "    - introduced: 0\n    - fixed: 1.20\n"
    )
    (record,) = iter_records(path)
    assert record.affected[0].versions == ("1.10", "2.0")
    assert record.affected[0].ranges[0].events[1].version == "1.20"


def test_real_pypa_record():
    (record,) = iter_records(osv_pypi("requests", "PYSEC-2018-28.yaml"))
    assert record.id == "PYSEC-2018-28" and "CVE-2018-18074" in record.aliases
    (affected,) = record.affected
    assert (affected.ecosystem, affected.name) == ("PyPI", "requests")
    assert [r.type for r in affected.ranges] == ["ECOSYSTEM"]  # the GIT range is dropped
    assert "2.19.0" in affected.versions


def test_withdrawn_and_upstream():
    (record,) = iter_records(DISTRO / "DEBIAN-CVE-2022-9999.json")
    assert record.withdrawn == "2024-02-01T00:00:00Z" and record.upstream == ("CVE-2022-9999",)


def test_zip_export_and_folder(tmp_path, osv_go, osv_crates):
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(osv_go.glob("*.json")):
            out.write(path, path.name)
    assert sorted(r.id for r in iter_records(archive)) == sorted(p.stem for p in osv_go.glob("*.json"))
    assert len(list(iter_records(osv_crates))) == 3


def test_errors_name_file_and_position(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "X",\n  "modified": }')
    with pytest.raises(OsvError, match=r"bad\.json: invalid JSON at line 2 column 15"):
        list(iter_records(bad))
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("id: X\nmodified: [unclosed\n")
    with pytest.raises(OsvError, match=r"bad\.yaml:\d+:\d+: malformed YAML"):
        list(iter_records(bad_yaml))
    with pytest.raises(OsvError, match="needs 'id' and 'modified'"):
        parse_record({"id": "X"}, "here")
    with pytest.raises(OsvError, match="'affected' is not a list"):
        parse_record({"id": "X", "modified": "2024", "affected": {}}, "here")
    broken_zip = tmp_path / "all.zip"
    broken_zip.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(OsvError, match="not a readable zip"):
        list(iter_records(broken_zip))
    with pytest.raises(OsvError, match="no such file"):
        list(iter_records(tmp_path / "missing.json"))


def test_list_documents(tmp_path):
    path = tmp_path / "many.json"
    path.write_text(json.dumps([{"id": "A", "modified": "2024"}, {"id": "B", "modified": "2024"}]))
    assert [r.id for r in iter_records(path)] == ["A", "B"]


@pytest.mark.parametrize(
    ("ecosystem", "name", "expected"),
    [
        ("PyPI", "Jinja2", "jinja2"),
        ("PyPI", "zope.interface", "zope-interface"),
        ("PyPI", "typing_extensions", "typing-extensions"),
        ("NuGet", "Newtonsoft.Json", "newtonsoft.json"),
        ("npm", "@Babel/Core", "@Babel/Core"),
        ("Debian:12", "openssl", "openssl"),
    ],
)
def test_normalize_name(ecosystem, name, expected):
    assert normalize_name(ecosystem, name) == expected


def _laughs(levels: int) -> str:
    rows = [
        "id: X",
        'modified: "2024-01-01T00:00:00Z"',
        "database_specific:",
        "  a0: &a0 [lol, lol, lol, lol]",
    ]
    for level in range(1, levels):
        rows.append(f"  a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 4)}]")
    return "\n".join(rows) + "\n"


def test_hostile_yaml_records_are_refused_naming_the_limit(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(_laughs(16))  # 4**16 nodes once expanded, from a few hundred bytes
    with pytest.raises(limits.LimitExceededError, match=r"bomb\.yaml: exceeds the yaml-nodes limit"):
        list(iter_records(bomb))
    deep = tmp_path / "deep.yaml"
    deep.write_text('id: X\nmodified: "2024"\naffected: ' + "[" * 1_000_000 + "]" * 1_000_000 + "\n")
    with pytest.raises(limits.LimitExceededError, match=r"deep\.yaml: exceeds the nesting-depth limit"):
        list(iter_records(deep))
    deep_json = tmp_path / "deep.json"
    deep_json.write_text('{"id": "X", "modified": "2024", "affected": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(limits.LimitExceededError, match=r"deep\.json: exceeds the nesting-depth limit"):
        list(iter_records(deep_json))


def test_modest_aliases_in_a_yaml_record_are_expanded(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(_laughs(3))
    (record,) = iter_records(path)
    assert json.loads(record.database_specific or "{}")["a2"][3][3] == ["lol"] * 4


def test_a_collection_as_a_mapping_key_is_an_error_not_a_type_error(tmp_path):
    path = tmp_path / "key.yaml"
    path.write_text('id: X\nmodified: "2024"\n? [a, b]\n: c\n')
    with pytest.raises(OsvError, match=r"key\.yaml:3:3: a mapping key must be a scalar"):
        list(iter_records(path))


def test_yaml_records_keep_every_scalar_a_string_and_hold_one_document(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(
        "id: X\nmodified: 2024-01-01\naffected:\n"
        "- package: {ecosystem: PyPI, name: a}\n  versions: [1.10, no]\n"
    )
    (record,) = iter_records(path)
    assert record.modified == "2024-01-01" and record.affected[0].versions == ("1.10", "no")
    path.write_text("id: X\nmodified: a\n---\nid: Y\nmodified: b\n")
    with pytest.raises(OsvError, match="2 YAML documents in one record file"):
        list(iter_records(path))
    path.write_bytes(b"id: X\nmodified: \xff\n")
    with pytest.raises(OsvError, match=r"r\.yaml: not UTF-8 \(byte 16\)"):
        list(iter_records(path))


def test_fields_of_the_wrong_type_are_skipped_not_a_type_error():
    doc = {
        "id": "X",
        "modified": "2024",
        "references": 5,
        "summary": ["a"],
        "aliases": "CVE-1",
        "affected": [
            {"package": {"ecosystem": "PyPI", "name": "a"}, "ranges": [{"type": "ECOSYSTEM", "events": 7}]}
        ],
    }
    record = parse_record(doc, "here")
    assert record.references == () and record.summary == "" and record.aliases == ()
    assert record.affected[0].ranges == ()


def _entry(**fields):
    doc = {
        "id": "X-1",
        "modified": "2024-01-01T00:00:00Z",
        "related": ["CVE-2024-1"],
        "affected": [{"package": {"ecosystem": "Photon OS:5.0", "name": "curl"}, **fields}],
    }
    return parse_record(doc, "X-1.json")


def test_related_ids_are_kept():
    assert _entry(ranges=[]).related == ("CVE-2024-1",)


@pytest.mark.parametrize(
    ("fields", "ranges", "problem"),
    [
        # Photon OS writes one range as an object instead of a list of them.
        ({"ranges": {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "8.0-1.ph5"}]}}, 1, None),
        ({}, 0, "no ranges and no versions"),
        ({"ranges": "ECOSYSTEM"}, 0, "'ranges' is a str, not a list and no versions"),
        (
            {"ranges": [{"type": "GIT", "repo": "https://x", "events": [{"introduced": "abc"}]}]},
            0,
            "only GIT ranges and no versions",
        ),
        ({"ranges": [{"type": "GIT", "events": [{"introduced": "a"}]}], "versions": ["1.0"]}, 0, None),
        (
            {"ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "8.0-1.ph5"}]}]},
            1,
            "a ECOSYSTEM range without an 'introduced' event",
        ),
        (
            {"ranges": [{"type": "ECOSYSTEM", "events": []}]},
            0,
            "a ECOSYSTEM range without an 'introduced' event and no versions",
        ),
    ],
)
def test_entries_that_cannot_be_evaluated_keep_the_reason(fields, ranges, problem):
    (affected,) = _entry(**fields).affected
    assert (len(affected.ranges), affected.problem) == (ranges, problem)


def test_an_empty_duplicate_of_an_evaluable_entry_is_left_out():
    doc = {
        "id": "PHSA-1",
        "modified": "2024-01-01T00:00:00Z",
        "affected": [
            {"package": {"ecosystem": "Photon OS:4.0", "name": "linux"}},
            {"package": {"ecosystem": "Photon OS:4.0", "name": "linux-aws"}},
            {
                "package": {"ecosystem": "Photon OS:4.0", "name": "linux"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.10-4.ph4"}]}],
            },
        ],
    }
    aws, linux = parse_record(doc, "PHSA-1.json").affected
    assert (linux.name, linux.problem, len(linux.ranges)) == ("linux", None, 1)
    assert (aws.name, aws.problem) == ("linux-aws", "no ranges and no versions")  # nothing else says more
