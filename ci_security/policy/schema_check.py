"""A validator for the policy schema, without jsonschema at run time.

The policy file's JSON Schema (`schema.json`, Draft 2020-12) uses a small vocabulary: `$ref` into
`$defs`, `type`, `enum`, `const`, `properties`, `additionalProperties` (false or a schema), `required`,
`items`, `minItems`, `minLength`, `uniqueItems` and `format: date`. This module interprets exactly
that vocabulary and reports errors with the attributes `load.py` reads from jsonschema's
(`absolute_path`, `validator`, `validator_value`, `instance`, `schema`, `message`).

Why not jsonschema itself: importing it costs 0.15 s, and over a second when its optional format
packages are installed, on every scan that has a policy file; a whole archive scan takes 0.4 s. The
schema stays the single source of truth, a keyword this module does not know makes it refuse the
schema instead of ignoring the keyword, and a test checks that it agrees with jsonschema on every
policy document the tests use.
"""

from __future__ import annotations

import datetime
import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "title", "description", "default", "examples", "$comment"}
)
_KEYWORDS = frozenset(
    {
        "$ref",
        "type",
        "enum",
        "const",
        "properties",
        "additionalProperties",
        "required",
        "items",
        "minItems",
        "minLength",
        "uniqueItems",
        "format",
    }
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


@dataclass
class SchemaError:
    """One failed keyword at one place of the document."""

    validator: str
    validator_value: Any
    instance: Any
    schema: Mapping[str, Any]
    absolute_path: deque[Any] = field(default_factory=deque)
    message: str = ""


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if name in ("string", "object", "array"):
        return isinstance(value, _TYPES[name])
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    raise ValueError(f"unsupported type {name!r} in the policy schema")


class SchemaChecker:
    """Validates documents against one schema of the supported vocabulary."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.root = schema
        self._check_vocabulary(schema)

    def _check_vocabulary(self, node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in _ANNOTATIONS:
                    if key == "$defs":
                        for sub in value.values():
                            self._check_vocabulary(sub)
                    continue
                if key not in _KEYWORDS:
                    raise ValueError(
                        f"policy schema uses keyword {key!r}, which schema_check.py does not implement"
                    )
                if key == "properties":
                    for sub in value.values():
                        self._check_vocabulary(sub)
                elif key in ("items", "additionalProperties") and isinstance(value, Mapping):
                    self._check_vocabulary(value)

    def _resolve(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#/"):
            raise ValueError(f"unsupported $ref {ref!r} in the policy schema")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node  # type: ignore[no-any-return]

    def iter_errors(self, instance: Any) -> Iterator[SchemaError]:
        yield from self._errors(instance, self.root, ())

    def _errors(self, value: Any, schema: Mapping[str, Any], path: Sequence[Any]) -> Iterator[SchemaError]:
        def error(keyword: str, message: str) -> SchemaError:
            return SchemaError(keyword, schema[keyword], value, schema, deque(path), message)

        if "$ref" in schema:
            yield from self._errors(value, self._resolve(schema["$ref"]), path)
        if "type" in schema:
            names = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
            if not any(_is_type(value, name) for name in names):
                yield error("type", f"{value!r} is not of type {', '.join(map(repr, names))}")
                return  # further keywords would only repeat the same complaint
        if "const" in schema and value != schema["const"]:
            yield error("const", f"{schema['const']!r} was expected")
        if "enum" in schema and value not in schema["enum"]:
            yield error("enum", f"{value!r} is not one of {schema['enum']!r}")
        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                yield error("minLength", f"{value!r} is too short")
            if schema.get("format") == "date" and not _valid_date(value):
                yield error("format", f"{value!r} is not a 'date'")
        if isinstance(value, list):
            if "minItems" in schema and len(value) < schema["minItems"]:
                yield error("minItems", f"{value!r} should be non-empty")
            if schema.get("uniqueItems") and len({repr(v) for v in value}) < len(value):
                yield error("uniqueItems", f"{value!r} has non-unique elements")
            if isinstance(schema.get("items"), Mapping):
                for index, item in enumerate(value):
                    yield from self._errors(item, schema["items"], (*path, index))
        if isinstance(value, dict):
            missing = [key for key in schema.get("required", ()) if key not in value]
            if missing:
                yield error("required", f"{missing[0]!r} is a required property")
            properties = schema.get("properties", {})
            extra = schema.get("additionalProperties", True)
            if extra is False and any(key not in properties for key in value):
                yield error("additionalProperties", "Additional properties are not allowed")
            for key, sub in properties.items():
                if key in value:
                    yield from self._errors(value[key], sub, (*path, key))
            if isinstance(extra, Mapping):
                for key, item in value.items():
                    if key not in properties:
                        yield from self._errors(item, extra, (*path, key))


def _valid_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True
