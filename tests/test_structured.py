"""Bounded JSON: size, depth, encoding and typed fields, each one clear error naming the document."""

from __future__ import annotations

import pytest

from ci_security import limits
from ci_security.structured import DocumentError, depth, field, load_json


def test_depth_counts_containers_iteratively():
    assert depth(1) == 0
    assert depth({"a": [1, {"b": []}]}) == 4
    nested: list = []
    for _ in range(100_000):
        nested = [nested]
    assert depth(nested) == 100_001


def test_deep_documents_are_refused_not_a_recursion_error():
    with pytest.raises(limits.LimitExceededError, match=r"manifest.json: exceeds the nesting-depth limit"):
        load_json("[" * 100_000 + "]" * 100_000, "manifest.json")
    with pytest.raises(limits.LimitExceededError, match=r"nesting-depth"):
        load_json("[" * 300 + "]" * 300, "manifest.json")
    assert load_json("[" * 150 + "]" * 150, "ok.json") is not None


def test_size_and_encoding():
    small = limits.with_overrides(limits.DEFAULTS, {"document-bytes": "1KiB"})
    with limits.use(small), pytest.raises(limits.LimitExceededError, match=r"big.json: exceeds the document"):
        load_json(b"[" + b"1," * 1000 + b"1]", "big.json")
    with pytest.raises(DocumentError, match=r"bad.json: not UTF-8 \(byte 2\)"):
        load_json(b'["\xff"]', "bad.json")
    with pytest.raises(DocumentError, match=r"bad.json: invalid JSON at line 1 column 2"):
        load_json("{x", "bad.json")
    assert load_json(b'\xef\xbb\xbf{"a": 1}', "bom.json") == {"a": 1}


def test_lone_surrogate_escapes_decode_to_text_that_callers_must_not_trust():
    value = load_json('{"name": "\\ud800"}', "package.json")
    assert value["name"] == "\ud800"


def test_fields_check_types_and_name_the_key():
    doc = {"Config": "sha256:ab", "Layers": 3, "flag": True}
    assert field(doc, "Config", str, "manifest.json") == "sha256:ab"
    assert field(doc, "Missing", list, "manifest.json", default=[]) == []
    with pytest.raises(DocumentError, match=r"manifest.json: 'Layers' must be an array, found an integer"):
        field(doc, "Layers", list, "manifest.json")
    with pytest.raises(DocumentError, match=r"'flag' must be an integer, found a boolean"):
        field(doc, "flag", int, "x")
    with pytest.raises(DocumentError, match=r"x: expected a JSON object, found an array"):
        field([], "a", str, "x")
    with pytest.raises(DocumentError, match=r"x: missing 'Config'"):
        field({}, "Config", str, "x", required=True)


def test_located_syntax_errors_name_file_line_and_column():
    with pytest.raises(DocumentError, match=r"^vex.json:2:1: invalid JSON: Expecting value"):
        load_json('{"a":\n', "vex.json", located=True)
