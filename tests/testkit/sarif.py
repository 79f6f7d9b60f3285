"""SARIF documents checked against OASIS's SARIF 2.1.0 schema and the one github/codeql-action uploads
against (`shared/schemas/`).
"""

from __future__ import annotations

import functools
import json

import jsonschema

from testkit.shared import shared_path

SCHEMAS = ("sarif-schema-2.1.0.oasis.json", "sarif-schema-2.1.0.codeql-action.json")


@functools.cache
def sarif_validator(name: str) -> jsonschema.protocols.Validator:
    """OASIS's SARIF 2.1.0 schema or the one github/codeql-action uploads against (`shared/schemas/`)."""
    schema = json.loads(shared_path("schemas", name).read_text())
    return jsonschema.validators.validator_for(schema)(schema)


def validate(text: str) -> dict:
    doc = json.loads(text)
    for name in SCHEMAS:
        errors = list(sarif_validator(name).iter_errors(doc))
        assert errors == [], (name, [e.message for e in errors[:5]])
    return doc
