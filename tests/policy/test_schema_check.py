"""Our run-time interpreter of the policy schema agrees with jsonschema (the reference implementation)
on which places of a document are wrong, for valid and broken documents alike."""

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from ci_security.policy.load import schema
from ci_security.policy.schema_check import SchemaChecker

DOCUMENTS = [
    {},
    {"version": 1},
    {"version": 2},
    {"fail_on": {"severity": "high", "fixable_only": False, "new_only": True}},
    {"fail_on": {"severity": "hihg", "fixable_only": "yes"}},
    {"fail_on": {"severty": "high"}},
    {"fail_on": []},
    {"ignore": [{"id": "CVE-2024-1", "reason": "not reachable in our build", "expires": "2027-01-31"}]},
    {"ignore": [{"id": "CVE-2024-1", "reason": "short", "expires": "2026-13-01"}]},
    {"ignore": [{"id": "", "reason": "a long enough reason", "expires": "2027-01-31", "packages": []}]},
    {"ignore": [{"reason": "no id here at all, sadly", "expires": "2027-01-31", "paths": ["a", "a"]}]},
    {
        "ignore": [
            {
                "id": "X",
                "reason": "a long enough reason",
                "expires": "2027-01-31",
                "vex_justification": "because",
            }
        ]
    },
    {"ignore": "CVE-2024-1"},
    {"checks": {"disable": ["DF001", "DF001"], "severity": {"DF002": "low", "DF003": "urgent"}}},
    {
        "images": {
            "allowed_registries": ["ghcr.io/acme/*"],
            "require_digest": True,
            "forbid_latest": 1,
            "require_non_root": None,
            "alowed": [],
        }
    },
    {"vex": ["a.json", 3]},
    {"unknown": True, "version": 1},
    [],
    "text",
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_agrees_with_jsonschema(document):
    reference = Draft202012Validator(schema(), format_checker=FormatChecker())
    expected = {tuple(e.absolute_path) for e in reference.iter_errors(document)}
    found = {tuple(e.absolute_path) for e in SchemaChecker(schema()).iter_errors(document)}
    assert found == expected


def test_unknown_keywords_are_refused():
    with pytest.raises(ValueError, match="does not implement"):
        SchemaChecker({"type": "object", "patternProperties": {}})
