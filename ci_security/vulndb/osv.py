"""Reading OSV records (schema 1.x) from JSON, YAML, folders and `all.zip` exports.

Parsing is strict about shape and lenient about content: a record without an `id` or `modified`, or
with `affected` that is not a list, is rejected with its file named; unknown fields are ignored, as
the schema asks. GIT ranges are dropped (they need the repository's commit graph); `versions[]` is
kept, because for several feeds it is the only usable data. YAML is read with every scalar as a
string: the pypa database writes versions such as `1.10` unquoted, which a YAML 1.1 loader would
turn into the float 1.1.

Records come from mirrors and from files anyone can publish, so decoding is bounded like every
other document (`structured`): JSON by `load_json` (size, depth), YAML by `load_yaml_strings` (depth
and alias expansion checked on the event stream; a collection used as a mapping key is an error
naming the record, not a `TypeError`). The size bound is the `record-bytes` limit.

Real feeds bend the schema, and nothing is dropped without a trace:
- `ranges` written as one range object instead of a list of them (seen in Photon OS records) is read
  as that one range;
- an entry that names a package but leaves nothing to evaluate (no usable range and no versions, a
  range without `introduced`, `ranges` of another type) keeps the reason in `Affected.problem`; a
  scan that searches that package reports it in a partial-scan warning. Photon OS records also list
  each package once more with no ranges at all next to the entry that has them: such an empty
  duplicate says nothing the other entry does not, and is left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ci_security import limits
from ci_security.errors import CiSecurityError
from ci_security.models import Advisory, Affected, AffectedRange, RangeEvent
from ci_security.models.advisory import EVENT_KINDS, RANGE_TYPES
from ci_security.models.packagetype import ecosystem_type
from ci_security.structured import choice, load_json, load_yaml_strings
from ci_security.vulndb.osvzip import iter_entries

_RECORD_SUFFIXES = (".json", ".yaml", ".yml")


class OsvError(CiSecurityError):
    """An OSV file or export that cannot be read."""


def normalize_name(ecosystem: str, name: str) -> str:
    """The name as the database indexes it: PEP 503 for PyPI, lower case for NuGet (whose names are
    case-insensitive), exact otherwise (the package-type table's `index_names`).
    """
    row = ecosystem_type(ecosystem)
    return row.index_name(name) if row is not None else name


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    if set(map(type, value)) <= {str}:
        return tuple(value)  # the usual list, without a conversion per item
    return tuple(str(v) for v in value if isinstance(v, (str, int, float)))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def severity_pairs(value: Any) -> tuple[tuple[str, str], ...]:
    """An OSV `severity` list as (type, score) pairs; anything malformed is left out."""
    if not isinstance(value, list):
        return ()
    return tuple(
        (str(item["type"]), str(item["score"]))
        for item in value
        if isinstance(item, dict) and "type" in item and "score" in item
    )


_SORTED = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
# The objects `_json_text` wrote lately, by their text. While a record is imported its
# `database_specific` and `ecosystem_specific` are read back at once (its ratings, SUSE's binaries,
# Ubuntu's per-CVE map): decoding the text again cost a tenth of an import. Bounded, and read-only
# for every reader.
_RECENT: dict[str, dict[str, Any]] = {}
_RECENT_LIMIT = 1024


def _json_text(value: Any) -> str | None:
    if not isinstance(value, dict) or not value:
        return None
    text = _SORTED.encode(value)
    if len(_RECENT) >= _RECENT_LIMIT:
        _RECENT.clear()
    _RECENT[text] = value
    return text


def json_object(text: str | None) -> dict[str, Any]:
    """The object a `database_specific`/`ecosystem_specific` text holds; {} for none, or for text
    that is not a JSON object. Read-only: it may be shared.
    """
    if not text:
        return {}
    found = _RECENT.get(text)
    if found is not None:
        return found
    try:
        doc = json.loads(text)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _ranges(value: Any) -> tuple[tuple[AffectedRange, ...], str | None]:
    """The SEMVER and ECOSYSTEM ranges of an entry, and what could not be read, if anything."""
    if value is None:
        return (), None
    if isinstance(value, dict):
        value = [value]  # one range object where the schema has a list (Photon OS records)
    if not isinstance(value, list):
        return (), f"'ranges' is a {type(value).__name__}, not a list"
    out = []
    skipped: list[str] = []
    problem = None
    for raw in value:
        written = raw.get("type") if isinstance(raw, dict) else None
        kind = choice(written, RANGE_TYPES)
        if kind is None:
            skipped.append(str(written) if isinstance(written, str) else "malformed")
            continue
        events = []
        raw_events = raw.get("events")
        for event in raw_events if isinstance(raw_events, list) else ():
            if isinstance(event, dict):
                for event_kind in EVENT_KINDS:
                    if event_kind in event:
                        events.append(RangeEvent(event_kind, str(event[event_kind])))
        if not any(e.kind == "introduced" for e in events):
            problem = f"a {kind} range without an 'introduced' event"
        if events:
            out.append(AffectedRange(kind, tuple(events)))
    if not out and skipped and problem is None:
        # Not a problem yet: `versions[]` may still say everything (GIT-only PyPI entries do).
        return (), "only " + ", ".join(sorted(set(skipped))) + " ranges"
    return tuple(out), problem


def _entry_problem(
    ranges: tuple[AffectedRange, ...], versions: tuple[str, ...], problem: str | None
) -> str | None:
    if versions:
        return None  # explicit versions are enough to evaluate, whatever the ranges were
    if ranges:
        return problem
    return f"{problem} and no versions" if problem else "no ranges and no versions"


def parse_record(doc: Any, where: str) -> Advisory:
    """One OSV record from its decoded JSON/YAML document."""
    if not isinstance(doc, dict):
        raise OsvError(f"{where}: not an OSV record (expected an object)")
    record_id, modified = doc.get("id"), doc.get("modified")
    if not isinstance(record_id, str) or not record_id or not isinstance(modified, str):
        raise OsvError(f"{where}: not an OSV record (needs 'id' and 'modified')")
    affected_raw = doc.get("affected")
    if affected_raw is None:
        affected_raw = []
    if not isinstance(affected_raw, list):
        raise OsvError(f"{where}: {record_id}: 'affected' is not a list")
    affected = []
    for item in affected_raw:
        if not isinstance(item, dict):
            continue
        package = item.get("package")
        if not isinstance(package, dict):
            continue  # GIT-only entries without a package name nothing in an image
        ecosystem, name = package.get("ecosystem"), package.get("name")
        if not isinstance(ecosystem, str) or not isinstance(name, str) or not ecosystem or not name:
            continue
        ranges, problem = _ranges(item.get("ranges"))
        versions = _strings(item.get("versions"))
        affected.append(
            Affected(
                ecosystem=ecosystem,
                name=name,
                ranges=ranges,
                versions=versions,
                severity=severity_pairs(item.get("severity")),
                database_specific=_json_text(item.get("database_specific")),
                ecosystem_specific=_json_text(item.get("ecosystem_specific")),
                problem=_entry_problem(ranges, versions, problem),
            )
        )
    # An empty entry next to one with data for the same package (Photon OS) adds nothing to it.
    evaluable = {(a.ecosystem, a.name) for a in affected if a.ranges or a.versions}
    affected = [a for a in affected if a.ranges or a.versions or (a.ecosystem, a.name) not in evaluable]
    raw_references = doc.get("references")
    references = tuple(
        str(ref["url"])
        for ref in (raw_references if isinstance(raw_references, list) else ())
        if isinstance(ref, dict) and ref.get("url")
    )
    withdrawn = doc.get("withdrawn")
    published = doc.get("published")
    return Advisory(
        id=record_id,
        modified=modified,
        published=published if isinstance(published, str) else None,
        withdrawn=withdrawn if isinstance(withdrawn, str) and withdrawn else None,
        aliases=_strings(doc.get("aliases")),
        upstream=_strings(doc.get("upstream")),
        related=_strings(doc.get("related")),
        summary=_text(doc.get("summary")),
        details=_text(doc.get("details")),
        severity=severity_pairs(doc.get("severity")),
        affected=tuple(affected),
        references=references,
        database_specific=_json_text(doc.get("database_specific")),
    )


def decode(data: bytes, name: str, where: str) -> Any:
    """The decoded record file `data` (`name` decides JSON or YAML); a YAML file holds one document."""
    if len(data) > limits.active().record_bytes:
        raise limits.LimitExceededError(where, "record_bytes", f"{len(data):,} bytes")
    if name.endswith(".json"):
        return load_json(data, where, size_limit="record_bytes", error=OsvError)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OsvError(f"{where}: not UTF-8 (byte {exc.start})") from None
    documents = load_yaml_strings(text, where, error=OsvError)
    if len(documents) > 1:
        raise OsvError(f"{where}: {len(documents)} YAML documents in one record file (expected one)")
    return documents[0] if documents else None


def iter_documents(path: Path) -> Iterator[tuple[str, Any]]:
    """(where, decoded document) for every record under `path`: a record file, a folder of them
    (recursively), or a zip export. A document may itself be a list of records.
    """
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            if child.suffix in _RECORD_SUFFIXES or child.suffix == ".zip":
                yield from iter_documents(child)
        return
    if not path.is_file():
        raise OsvError(f"{path}: no such file or folder")
    if path.suffix == ".zip":
        # Entries are read bounded and streaming (see osvzip); `where` ends with the entry's name.
        for where, data in iter_entries(path, str(path), _RECORD_SUFFIXES, error=OsvError):
            yield where, decode(data, where, where)
        return
    if path.suffix not in _RECORD_SUFFIXES:
        raise OsvError(f"{path}: not an OSV file (.json, .yaml, .yml or .zip)")
    yield str(path), decode(_read_record_file(path), path.name, str(path))


def _read_record_file(path: Path) -> bytes:
    """A record file's bytes, never more than `record_bytes` (checked before and while reading)."""
    bound = limits.active().record_bytes
    try:
        with open(path, "rb") as stream:
            data = stream.read(bound + 1)
    except OSError as exc:
        raise OsvError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > bound:
        raise limits.LimitExceededError(str(path), "record_bytes", "the file is larger")
    return data


def iter_records(path: Path) -> Iterator[Advisory]:
    """Every OSV record under `path` (see `iter_documents`)."""
    for where, doc in iter_documents(path):
        if isinstance(doc, list):
            for index, item in enumerate(doc):
                yield parse_record(item, f"{where}[{index}]")
        else:
            yield parse_record(doc, where)
