"""The importer contract, its result, its error, and the JSON reading every importer shares.

An importer reads one other engine's report (`trivy image -f json`, `grype -o json`,
`trivy config -f json`, `hadolint -f json`, `checkov -o json`) and returns `Imported`: our own
`Package`, `Vulnerability` and `Misconfiguration` models, so imported findings go through the same
policy and reports as our own. Importers keep what the engine said (its severity, status, fixed
version, rule id and line) and never re-match or re-check.

Every importer says what its reports hold (`produces`: vulnerabilities, misconfigurations or both)
and how the CLI describes them (`report`); its `--from-NAME` option and `CI_SECURITY_FROM_NAME`
variable are made from `name`, so adding an importer is one module and one line in `registry.py`.

Manifest findings name files. `load` takes the repository's root directory (`base`, the current
directory by default): an importer of misconfigurations writes every path repository-relative, with
`/` separators and no leading `./` or `/` (`RepoPaths`), and may read the manifests under `base` to
make a line exact. A misconfiguration keeps the tool's own id as `rule_id` and `peer_id` and an empty
`fingerprint`: mapping to our rule ids and fingerprinting happen after import.

Every problem with the input file is a `ReportImportError` whose message is
`<path>: <one-line reason>`: the file is missing or unreadable, is not JSON (the reason gives line
and column), is another tool's report (the reason names the tool when it can tell), or has a field
of the wrong type (the reason gives the field's JSON path, e.g. `Results[0].Vulnerabilities[3].PkgName`).
A file past the `document-bytes` or `nesting-depth` limit is a `LimitExceededError` naming both.
"""

from __future__ import annotations

import codecs
import math
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal, Protocol, TypeVar

from ci_security.errors import CiSecurityError
from ci_security.models import Misconfiguration, OSInfo, Package, Vulnerability
from ci_security.models.packagetype import package_type
from ci_security.models.purl import parse_purl
from ci_security.structured import choice, load_json, read_document

JSONObject = dict[str, object]
FindingKind = Literal["vulnerabilities", "misconfigurations"]


class ReportImportError(CiSecurityError):
    """A report given for import cannot be read, is not JSON, or is not the expected tool's report."""


@dataclass(frozen=True, slots=True)
class Imported:
    """What one imported report holds: which tool and version wrote it, what it scanned (the target as
    the tool names it), the operating system it detected, the packages it listed and its findings:
    vulnerabilities and, from manifest scanners, misconfigurations.
    """

    tool: str
    tool_version: str | None
    target: str | None
    os: OSInfo | None
    packages: tuple[Package, ...]
    vulnerabilities: tuple[Vulnerability, ...]
    misconfigurations: tuple[Misconfiguration, ...] = ()
    # True when the report is the result of a vulnerability scan, even one that found nothing: the
    # scan result then says vulnerabilities were looked for (a Trivy config report is not one).
    vulnerability_scan: bool = False


class Importer(Protocol):
    """Reads one tool's JSON report.

    `name` is the tool's name as the CLI spells it (`--from-trivy`); `report` names the report it
    reads, for `--help` ("a Trivy JSON report (`trivy image|fs|config -f json`)"); `produces` the
    kinds of findings such a report holds.
    """

    name: ClassVar[str]
    report: ClassVar[str]
    produces: ClassVar[tuple[FindingKind, ...]]

    def load(self, path: Path, base: Path | None = None) -> Imported:
        """Read the report at `path`; raise `ReportImportError` when it cannot be imported. `base`
        is the repository's root (the current directory when None), used to make absolute paths
        relative and to read the manifests findings point at.
        """
        ...


@dataclass(frozen=True, slots=True)
class RepoPaths:
    """Turns the file paths a tool wrote into repository-relative POSIX paths.

    `roots` are the repository root as an absolute path and with symlinks resolved, since tools write
    either. Relative paths are taken as relative to the root (the tools ran there). Absolute paths
    under the root become relative; absolute paths elsewhere cannot be made relative and are kept.
    """

    root: Path
    roots: tuple[str, ...] = field(default=())

    @classmethod
    def at(cls, base: Path | None) -> RepoPaths:
        root = (base if base is not None else Path()).absolute()
        forms = (posixpath.normpath(root.as_posix()), root.resolve().as_posix())
        return cls(root, tuple(dict.fromkeys(forms)))

    def relative(self, raw: str) -> str:
        """`raw` as a repository-relative path ("" stays "")."""
        text = raw.replace("\\", "/")
        if not text:
            return ""
        if text.startswith("/"):
            text = posixpath.normpath(text)
            for root in self.roots:
                if root == "/":
                    return text.lstrip("/") or "."
                if text.startswith(root + "/"):
                    return text[len(root) + 1 :]
            return text
        return posixpath.normpath(text)

    def file(self, relative: str) -> Path | None:
        """The file `relative` names under the root, when it is relative and exists."""
        if not relative or relative.startswith(("/", "../")) or relative == "..":
            return None
        candidate = self.root / relative
        return candidate if candidate.is_file() else None


class ShapeError(Exception):
    """A field of a parsed report has the wrong type; `where` is its JSON path. Importers turn it into
    a `ReportImportError` naming the file.
    """

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}" if where else reason)


def read_json(path: Path) -> object:
    """Parse the JSON document at `path` (UTF-8, with or without a BOM; UTF-16 with a BOM, as Windows
    PowerShell redirection writes it), within the `document-bytes` and `nesting-depth` limits: a
    report given for import may come from anywhere the pipeline downloads it.
    """
    data = read_document(path, "report", error=ReportImportError)
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
    return load_json(text, str(path), error=ReportImportError)


def guess_tool(doc: object) -> str | None:
    """Name the kind of report `doc` looks like, for "not a Trivy report" messages."""
    if isinstance(doc, list):
        if not doc:
            return None
        if _is_legacy_trivy(doc):
            return "a legacy Trivy report (before SchemaVersion 2)"
        if is_hadolint_item(doc[0]):
            return "a Hadolint report"
        if is_checkov_framework(doc[0]):
            return "a Checkov report"
        return None
    if not isinstance(doc, dict):
        return None
    if "SchemaVersion" in doc and ("Results" in doc or "ArtifactName" in doc):
        return "a Trivy report"
    if is_checkov_framework(doc) or is_checkov_empty(doc):
        return "a Checkov report"
    descriptor = doc.get("descriptor")
    writer = descriptor.get("name") if isinstance(descriptor, dict) else None
    if "matches" in doc and (writer == "grype" or (writer is None and "source" in doc)):
        return "a Grype report"
    if writer == "syft":
        return "a Syft SBOM"
    if "runs" in doc and ("sarif" in str(doc.get("$schema", "")).lower() or doc.get("version") == "2.1.0"):
        driver = _sarif_driver(doc)
        return f"a SARIF log from {driver}" if driver else "a SARIF log"
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


def is_hadolint_item(item: object) -> bool:
    """One entry of `hadolint -f json` output: `{code, column, file, level, line, message}`."""
    return isinstance(item, dict) and "code" in item and "level" in item and "file" in item


def is_checkov_framework(item: object) -> bool:
    """One framework's results in `checkov -o json` output."""
    return isinstance(item, dict) and "check_type" in item and "results" in item


def is_checkov_empty(item: object) -> bool:
    """What `checkov -o json` writes when it found nothing to scan: the summary alone."""
    return isinstance(item, dict) and "checkov_version" in item and "resource_count" in item


def _sarif_driver(doc: JSONObject) -> str:
    runs = doc.get("runs")
    run = runs[0] if isinstance(runs, list) and runs else None
    tool = run.get("tool") if isinstance(run, dict) else None
    driver = tool.get("driver") if isinstance(tool, dict) else None
    name = driver.get("name") if isinstance(driver, dict) else None
    return name.strip() if isinstance(name, str) else ""


def not_this_tool(path: Path, tool: str, doc: object, advice: str = "") -> ReportImportError:
    """The error for a JSON document that is not `tool`'s report; `advice` (e.g. which output format
    can be imported) is appended after a semicolon.
    """
    seen = guess_tool(doc)
    hint = f" (it looks like {seen})" if seen else ""
    tail = f"; {advice}" if advice else ""
    return ReportImportError(f"{path}: not a {tool} JSON report{hint}{tail}")


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


Choice = TypeVar("Choice", bound=str)


def quoted(value: str, limit: int = 40) -> str:
    """A value from the report, quoted for an error message and cut at `limit` characters."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def one_of(value: str, allowed: tuple[Choice, ...], where: str) -> Choice:
    """`value` when it is one of `allowed` (a closed set, such as a finding's status), else a
    `ShapeError` at `where` listing the set.
    """
    found = choice(value, allowed)
    if found is None:
        raise ShapeError(where, f"{quoted(value)} is not one of {', '.join(allowed)}")
    return found


def field_purl(parent: JSONObject, key: str, where: str) -> str:
    """An optional Package-URL field; absent, null or "" is "". A purl packageurl-python cannot read
    is refused here, where it enters, rather than failing a report that parses it later.
    """
    value = field_str(parent, key, where)
    if value and parse_purl(value) is None:
        raise ShapeError(_join(where, key), "not a package URL (pkg:type/namespace/name@version)")
    return value


def required_str(parent: JSONObject, key: str, where: str) -> str:
    value = field_str(parent, key, where)
    if not value:
        raise ShapeError(_join(where, key), "missing or empty")
    return value


def field_line(parent: JSONObject, key: str, where: str) -> int | None:
    """An optional 1-based line number; absent, null or 0 (a tool's "no line") is None."""
    return line_number(parent.get(key), _join(where, key))


def line_number(value: object, where: str) -> int | None:
    """A 1-based line number; null or 0 is None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ShapeError(where, f"expected a number, found {_kind(value)}")
    if not math.isfinite(value) or value != int(value) or value < 0:
        raise ShapeError(where, f"expected a line number, found {value:g}")
    return int(value) or None


def one_line(text: str) -> str:
    """`text` with its line breaks and runs of spaces collapsed, for one-line messages."""
    return " ".join(text.split())


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


def version_epoch(purl_kind: str, version: str) -> int | None:
    """The epoch of a dpkg or rpm version written `epoch:version` (None when it has none)."""
    row = package_type(purl_kind)
    if row is None or not row.epoch:
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
