"""The importer contract, its result, its error, and the JSON reading both importers share.

An importer reads one other engine's report (`trivy image -f json`, `grype -o json`) and returns
`Imported`: our own `Package` and `Vulnerability` models, so imported findings go through the same
policy and reports as our own. Importers keep what the engine said (its severity, status and fixed
version) and never re-match.

Every problem with the input file is a `ReportImportError` whose message is
`<path>: <one-line reason>`: the file is missing or unreadable, is not JSON (the reason gives
`line:col`), is another tool's report (the reason names the tool when it can tell), or has a field of
the wrong type (the reason gives the field's JSON path, e.g. `Results[0].Vulnerabilities[3].PkgName`).
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol
from urllib.parse import unquote

from ci_security.errors import CiSecurityError
from ci_security.models import OSInfo, Package, Vulnerability

JSONObject = dict[str, object]

_OS_PURL_TYPES = frozenset({"deb", "apk", "rpm"})


class ReportImportError(CiSecurityError):
    """A report given for import cannot be read, is not JSON, or is not the expected tool's report."""


@dataclass(frozen=True, slots=True)
class Imported:
    """What one imported report holds: which tool and version wrote it, what it scanned (the target as
    the tool names it), the operating system it detected, the packages it listed and its findings.
    """

    tool: str
    tool_version: str | None
    target: str | None
    os: OSInfo | None
    packages: tuple[Package, ...]
    vulnerabilities: tuple[Vulnerability, ...]


class Importer(Protocol):
    """Reads one tool's JSON report; `name` is the tool's name as the CLI spells it (`trivy`)."""

    name: ClassVar[str]

    def load(self, path: Path) -> Imported:
        """Read the report at `path`; raise `ReportImportError` when it cannot be imported."""
        ...


class ShapeError(Exception):
    """A field of a parsed report has the wrong type; `where` is its JSON path. Importers turn it into
    a `ReportImportError` naming the file.
    """

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}" if where else reason)


def read_json(path: Path) -> object:
    """Parse the JSON document at `path` (UTF-8, with or without a BOM; UTF-16 with a BOM, as Windows
    PowerShell redirection writes it).
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReportImportError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ReportImportError(f"{path}: is a directory, not a report file") from None
    except PermissionError:
        raise ReportImportError(f"{path}: permission denied") from None
    except OSError as exc:
        raise ReportImportError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        if data.startswith(codecs.BOM_UTF8):
            text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportImportError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
    if not text.strip():
        raise ReportImportError(f"{path}: empty file, not a JSON report")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportImportError(f"{path}: invalid JSON at {exc.lineno}:{exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ReportImportError(f"{path}: invalid JSON: nested too deeply") from None


def guess_tool(doc: object) -> str | None:
    """Name the kind of report `doc` looks like, for "not a Trivy report" messages."""
    if isinstance(doc, list):
        return "a legacy Trivy report (before SchemaVersion 2)" if doc and _is_legacy_trivy(doc) else None
    if not isinstance(doc, dict):
        return None
    if "SchemaVersion" in doc and ("Results" in doc or "ArtifactName" in doc):
        return "a Trivy report"
    descriptor = doc.get("descriptor")
    tool = descriptor.get("name") if isinstance(descriptor, dict) else None
    if "matches" in doc and (tool == "grype" or (tool is None and "source" in doc)):
        return "a Grype report"
    if tool == "syft":
        return "a Syft SBOM"
    if "runs" in doc and ("sarif" in str(doc.get("$schema", "")).lower() or doc.get("version") == "2.1.0"):
        return "a SARIF log"
    if doc.get("bomFormat") == "CycloneDX":
        return "a CycloneDX SBOM"
    if "spdxVersion" in doc:
        return "an SPDX SBOM"
    if "vulnerabilities" in doc and "scan" in doc:
        return "a GitLab security report"
    return None


def _is_legacy_trivy(doc: list[object]) -> bool:
    first = doc[0]
    return isinstance(first, dict) and "Target" in first and "Vulnerabilities" in first


def not_this_tool(path: Path, tool: str, doc: object) -> ReportImportError:
    """The error for a JSON document that is not `tool`'s report."""
    seen = guess_tool(doc)
    hint = f" (it looks like {seen})" if seen else ""
    return ReportImportError(f"{path}: not a {tool} JSON report{hint}")


# Typed access to parsed JSON. `where` is the JSON path of the object being read, for messages.


def obj(value: object, where: str) -> JSONObject:
    if not isinstance(value, dict):
        raise ShapeError(where, f"expected an object, found {_kind(value)}")
    return value


def field_obj(parent: JSONObject, key: str, where: str) -> JSONObject | None:
    """An optional object field; JSON null counts as absent."""
    value = parent.get(key)
    return None if value is None else obj(value, _join(where, key))


def field_list(parent: JSONObject, key: str, where: str) -> list[object]:
    """An optional array field; absent or null is empty."""
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ShapeError(_join(where, key), f"expected an array, found {_kind(value)}")
    return value


def field_str(parent: JSONObject, key: str, where: str) -> str:
    """An optional string field; absent or null is ""."""
    value = parent.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ShapeError(_join(where, key), f"expected a string, found {_kind(value)}")
    return value


def required_str(parent: JSONObject, key: str, where: str) -> str:
    value = field_str(parent, key, where)
    if not value:
        raise ShapeError(_join(where, key), "missing or empty")
    return value


def field_number(parent: JSONObject, key: str, where: str) -> float | None:
    """An optional number field (booleans are not numbers)."""
    value = parent.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ShapeError(_join(where, key), f"expected a number, found {_kind(value)}")
    return float(value)


def str_items(parent: JSONObject, key: str, where: str) -> tuple[str, ...]:
    """An optional array of strings (empty strings are dropped)."""
    out: list[str] = []
    for i, item in enumerate(field_list(parent, key, where)):
        if not isinstance(item, str):
            raise ShapeError(f"{_join(where, key)}[{i}]", f"expected a string, found {_kind(item)}")
        if item:
            out.append(item)
    return tuple(out)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# Helpers for building packages from either tool's fields.


_PURL_TYPE = re.compile(r"^pkg:([A-Za-z][A-Za-z0-9.+-]*)/")


def purl_type(purl: str) -> str | None:
    """The (lower-cased) type of a Package-URL, or None when `purl` is not one."""
    match = _PURL_TYPE.match(purl)
    return match.group(1).lower() if match else None


def purl_qualifier(purl: str, name: str) -> str | None:
    """The value of one qualifier of a Package-URL (`arch`, `epoch`), percent-decoded."""
    _, sep, query = purl.partition("?")
    if not sep:
        return None
    for part in query.split("#", 1)[0].split("&"):
        key, _, value = part.partition("=")
        if key == name:
            return unquote(value) or None
    return None


def version_epoch(purl_kind: str, version: str) -> int | None:
    """The epoch of a dpkg or rpm version written `epoch:version` (None when it has none)."""
    if purl_kind not in _OS_PURL_TYPES:
        return None
    head, sep, _ = version.partition(":")
    if sep and head.isdigit():
        return int(head)
    return None


def image_path(path: str) -> str:
    """A path inside the image as our catalogers write it: absolute."""
    return path if not path or path.startswith("/") else "/" + path


def unique(items: list[Package]) -> tuple[Package, ...]:
    """`items` without repeats, in first-seen order."""
    return tuple(dict.fromkeys(items))
