"""Tag rules: what a version tag is, which tags are candidates (flavour, precision, pre-releases,
hashes, dates), update types, and which candidates are worth scanning."""

from __future__ import annotations

import pytest

from ci_security.fix.tags import classify, compatible, newer, parse_tag, shortlist, update_type


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("3.12", "version"),
        ("3.12.4-slim-bookworm", "version"),
        ("v1.2.3", "version"),
        ("1", "version"),
        ("3.13.0rc1", "pre-release"),
        ("1.3rc1-slim", "pre-release"),
        ("latest", "name"),
        ("bookworm", "name"),
        ("alpine3.20", "name"),
        ("abcdef0", "hash"),
        ("0f3c9a1b2d4e5f60718293a4b5c6d7e8f9012345", "hash"),
        ("sha256-0123456789abcdef.sig", "hash"),
        ("20240115", "date"),
        ("2024.01.15", "date"),
        ("2024-01-15", "date"),
        ("202401151230", "date"),
        ("1234567", "version"),  # all digits: a build number, not a hash
    ],
)
def test_classify(tag, kind):
    assert classify(tag) == kind


def test_parse_keeps_prefix_suffix_and_precision():
    version = parse_tag("v3.12.04-alpine3.20")
    assert version is not None
    assert version.release == (3, 12, 4) and version.prefix == "v" and version.suffix == "-alpine3.20"
    assert version.precision == 3 and version.version_text == "v3.12.04"
    assert parse_tag("latest") is None and parse_tag("20240115") is None


def test_candidates_keep_flavour_and_precision_and_skip_prereleases():
    current = parse_tag("3.11-slim")
    assert current is not None
    tags = ["3.12-slim", "3.12", "3.12.1-slim", "3.13-alpine", "3.13rc1-slim", "3.10-slim", "3.11-slim",
            "3.14-slim-bookworm", "4.0-slim", "latest", "abcdef0", "20250101", "3.012-slim"]  # fmt: skip
    assert [v.tag for v in newer(current, tags)] == ["4.0-slim", "3.12-slim"]
    v = parse_tag("v1.2")
    plain = parse_tag("1.3")
    assert v is not None and plain is not None and not compatible(v, plain)  # the v prefix is flavour too


def test_update_types():
    def kind(a, b):
        return update_type(parse_tag(a), parse_tag(b))

    assert kind("1.2.3", "2.0.0") == "major"
    assert kind("1.2.3", "1.3.0") == "minor"
    assert kind("1.2.3", "1.2.4") == "patch"
    assert kind("3.11", "3.12") == "minor"
    assert kind("3", "4") == "major"
    assert kind("1.2.3.4", "1.2.3.5") == "patch"


def test_shortlist_takes_the_newest_of_each_allowed_type_first():
    current = parse_tag("1.1.4")
    assert current is not None
    tags = ["1.1.5", "1.1.6", "1.2.0", "1.3.0", "1.3.1", "2.0.0", "3.0.0"]
    all_types = frozenset({"patch", "minor", "major"})
    assert [v.tag for v in shortlist(current, newer(current, tags), all_types, 3)] == [
        "3.0.0",
        "1.3.1",
        "1.1.6",
    ]
    no_major = frozenset({"patch", "minor"})
    assert [v.tag for v in shortlist(current, newer(current, tags), no_major, 3)] == [
        "1.3.1",
        "1.3.0",
        "1.1.6",
    ]
    assert [v.tag for v in shortlist(current, newer(current, tags), frozenset({"patch"}), 5)] == [
        "1.1.6",
        "1.1.5",
    ]
    assert shortlist(current, newer(current, tags), frozenset({"digest"}), 3) == []
