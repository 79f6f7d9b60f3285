"""The limits table: parsing, overrides, the error message, and docs/security.md in step."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_security import limits
from ci_security.errors import UsageError

DOC = Path(__file__).parents[1] / "docs" / "security.md"


def test_sizes_take_binary_suffixes():
    assert limits.parse_value("layer_bytes", "4GiB") == 4 << 30
    assert limits.parse_value("layer_bytes", "512 M") == 512 << 20
    assert limits.parse_value("layer_bytes", "100") == 100
    assert limits.parse_value("redirects", "3") == 3


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("nope", "1", "unknown limit 'nope'"),
        ("redirects", "3MiB", "expected a whole number"),
        ("layer_bytes", "lots", "expected a whole number with an optional KiB/MiB/GiB suffix"),
        ("layer_bytes", "0", "must be greater than zero"),
    ],
)
def test_bad_values_are_usage_errors(name, text, message):
    with pytest.raises(UsageError, match=message):
        limits.parse_value(name, text)


def test_assignments_and_overrides():
    parsed = limits.parse_assignments(("layer-bytes=1GiB redirects=2", "yaml-nodes=10"))
    assert parsed == {"layer_bytes": "1GiB", "redirects": "2", "yaml_nodes": "10"}
    changed = limits.with_overrides(limits.DEFAULTS, parsed)
    assert (changed.layer_bytes, changed.redirects, changed.yaml_nodes) == (1 << 30, 2, 10)
    assert changed.image_bytes == limits.DEFAULTS.image_bytes
    with pytest.raises(UsageError, match="expected NAME=VALUE"):
        limits.parse_assignments(("layer-bytes",))


def test_use_nests_and_restores():
    small = limits.with_overrides(limits.DEFAULTS, {"redirects": 1})
    with limits.use(small):
        assert limits.active().redirects == 1
        with limits.use(limits.DEFAULTS):
            assert limits.active().redirects == limits.DEFAULTS.redirects
        assert limits.active().redirects == 1
    assert limits.active() is limits.DEFAULTS


def test_the_error_names_the_input_the_limit_and_the_way_out():
    with limits.use(limits.with_overrides(limits.DEFAULTS, {"layer-bytes": "1MiB"})):
        error = limits.LimitExceededError("layer sha256:ab12", "layer_bytes", "more than 1 MiB decompressed")
    text = str(error)
    assert text.startswith("layer sha256:ab12: exceeds the layer-bytes limit (1 MiB)")
    assert "--limit layer-bytes=VALUE" in text
    assert "\n" not in text


def test_docs_table_is_current():
    text = DOC.read_text()
    start = text.index("-->\n", text.index("<!-- limits table")) + 4
    end = text.index("<!-- end of limits table -->")
    assert text[start:end] == limits.table_markdown(), "regenerate the table in docs/security.md"
