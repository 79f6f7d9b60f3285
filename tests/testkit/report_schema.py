"""The JSON report checked against its published schema (`schema/report.schema.json`), as the SARIF,
GitLab and Code Quality reports are checked against theirs.

`check_report` returns the violations of one decoded report; `valid_report` and `load_report` (a
report file a subprocess wrote) fail on any violation. `tests/conftest.py` also checks every report
the package renders in the test process, so a report a test never reads back is still held to the
schema.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA = Path(__file__).parents[2] / "schema" / "report.schema.json"


@functools.cache
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def check_report(report: Any) -> list[str]:
    """Every way decoded JSON report `report` breaks the schema, each as `json.path: message`."""
    return [
        f"{error.json_path}: {error.message[:300]}"
        for error in sorted(validator().iter_errors(report), key=lambda e: e.json_path)
    ]


def valid_report(report: Any) -> dict[str, Any]:
    """Decoded JSON report `report`, which must follow the schema."""
    errors = check_report(report)
    assert errors == [], errors[:10]
    assert isinstance(report, dict)
    return report


def load_report(path: Path) -> dict[str, Any]:
    """The JSON report at `path`, which must follow the schema."""
    return valid_report(json.loads(path.read_text(encoding="utf-8")))
