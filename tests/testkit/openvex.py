"""The OpenVEX v0.2.0 JSON Schema the tests validate our OpenVEX documents against: written here
from the specification's field tables (see tests/fixtures/openvex/LICENSE-NOTE.md)."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA = Path(__file__).parents[1] / "fixtures" / "openvex" / "openvex-v0.2.0.schema.json"


def openvex_schema_validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())
