"""JSON and YAML from untrusted sources, bounded: size, nesting depth, alias expansion and text
validity checked in one place.

Every JSON document the tool reads from an image, a repository, a cache or a mirror goes through
`load_json`, so a deeply nested, oversized or undecodable document is one clear error naming the
document, never a `RecursionError` traceback or a crash. Typed accessors (`field`, and `choice` for a
closed set of words) let callers check the types they use at the boundary and name the key that is
wrong. `read_document` reads a
file given on the command line (policy, VEX, baseline, imported report) without reading past its
size limit.

Every YAML document (the policy file, OSV YAML records, Kubernetes and compose manifests) goes
through `yaml_events` before anything builds a tree from it. YAML parsers are event state machines
and do not recurse, but every composer does: ruamel's C composer overflows the C stack (SIGSEGV) on
a document nested a million levels deep, its pure-Python one raises `RecursionError`. And a "billion
laughs" document of a few KB names an anchor a thousand times, each of those a thousand times, so
anything that walks the loaded data (a schema check, `json.dumps`) walks billions of nodes.
`yaml_events` follows the event stream once, in linear time and constant stack, keeping for every
anchor the size and height of what it names, and stops at the first event that would nest deeper
than the `nesting-depth` limit (aliases count with the depth of what they expand to) or make aliases
add more than `yaml-nodes` nodes to the file (a recursive alias adds infinitely many). Callers then
compose with the same parser knowing the tree is bounded (`check_yaml`), or build plain data from
the events directly (`load_yaml_strings`, for OSV records).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ci_security import limits
from ci_security.errors import CiSecurityError

if TYPE_CHECKING:
    from ruamel.yaml import YAML

T = TypeVar("T")
C = TypeVar("C", bound=str)


class DocumentError(CiSecurityError):
    """A JSON document is malformed, too deep, too large or of the wrong shape; the message names it."""


def depth(value: Any) -> int:
    """Nesting depth of a decoded JSON value (a scalar is 0), computed without recursion.

    Level by level: one pass per level over that level's values, without a (value, level) pair per
    value, so a wide document of millions of tiny values (`[[],[],…]`) costs a fraction of a second.
    """
    level = 0
    frontier: list[Any] = [value]
    while True:
        following: list[Any] = []
        extend = following.extend
        found = False
        for item in frontier:
            if isinstance(item, dict):
                found = True
                extend(item.values())
            elif isinstance(item, list):
                found = True
                extend(item)
        if not found:
            return level
        level += 1
        frontier = following


def load_json(
    data: bytes | str,
    where: str,
    *,
    max_bytes: int | None = None,
    size_limit: str = "document_bytes",
    error: Callable[[str], CiSecurityError] = DocumentError,
    located: bool = False,
) -> Any:
    """Decode `data` (a whole document) after checking its size; refuse nesting past the limit.

    `where` names the document in messages; `error` builds the exception (callers pass their
    stage's error class so the CLI reports it the usual way). With `located`, a syntax error is
    `where:line:col: …`, the form editors jump to (used for files of the repository).
    """
    active = limits.active()
    bound = max_bytes if max_bytes is not None else getattr(active, size_limit)
    if len(data) > bound:
        raise limits.LimitExceededError(where, size_limit, f"{len(data):,} bytes")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise error(f"{where}: not UTF-8 (byte {exc.start})") from None
    else:
        text = data
    try:
        value = json.loads(text)
    except RecursionError:
        raise limits.LimitExceededError(where, "nesting_depth", "nested too deeply to decode") from None
    except json.JSONDecodeError as exc:
        if located:
            raise error(f"{where}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
        raise error(f"{where}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:  # e.g. an integer literal of more digits than int() accepts
        raise error(f"{where}: invalid JSON: {str(exc).splitlines()[0][:120]}") from None
    # A document cannot nest deeper than it has opening brackets (those inside strings only add to the
    # count): most documents have fewer than the limit, and counting is far cheaper than walking.
    if text.count("[") + text.count("{") > active.nesting_depth and depth(value) > active.nesting_depth:
        raise limits.LimitExceededError(where, "nesting_depth")
    return value


def field(
    obj: Any,
    key: str,
    kind: type[T] | tuple[type, ...],
    where: str,
    *,
    default: T | None = None,
    required: bool = False,
    error: Callable[[str], CiSecurityError] = DocumentError,
) -> T:
    """`obj[key]` when `obj` is an object and the value has type `kind`; `default` when the key is
    absent (or an error when `required`); an error naming `where` and the key when the type is wrong.
    """
    if not isinstance(obj, dict):
        raise error(f"{where}: expected a JSON object, found {kind_of(obj)}")
    if key not in obj or obj[key] is None:
        if required:
            raise error(f"{where}: missing {key!r}")
        return default  # type: ignore[return-value]
    value = obj[key]
    # bool is an int in Python; JSON true is never a number here.
    if isinstance(value, bool) and not _accepts_bool(kind):
        raise error(f"{where}: {key!r} must be {_name(kind)}, found a boolean")
    if not isinstance(value, kind):
        raise error(f"{where}: {key!r} must be {_name(kind)}, found {kind_of(value)}")
    return value  # type: ignore[return-value]


def choice(value: object, allowed: tuple[C, ...]) -> C | None:
    """`value` as a member of the closed set `allowed` (the members of a `Literal` alias, from
    `typing.get_args`), or None when it is not one: a status or kind read from a document is checked
    here, where it enters, so the rest of the code can rely on the type.
    """
    for option in allowed:
        if value == option:
            return option
    return None


def _accepts_bool(kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return bool in kinds


_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
}


def _name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(_NAMES.get(k, k.__name__) for k in kinds)


def kind_of(value: Any) -> str:
    """How a decoded JSON value is called in messages ("an array", "null", ...)."""
    if value is None:
        return "null"
    return _NAMES.get(type(value), type(value).__name__)


# --- files ---------------------------------------------------------------------------------------


def read_document(
    path: Path,
    what: str,
    *,
    size_limit: str = "document_bytes",
    error: Callable[[str], CiSecurityError] = DocumentError,
) -> bytes:
    """The bytes of the file at `path` (`what` names the kind of document in messages), refused with
    the `size_limit` limit named before more than that many bytes are read: a file given on the
    command line may be a pipe or a sparse file of any size.
    """
    bound: int = getattr(limits.active(), size_limit)
    try:
        with path.open("rb") as handle:
            data = handle.read(bound + 1)
            size = os.fstat(handle.fileno()).st_size
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    if len(data) > bound:
        detail = f"{size:,} bytes" if size > bound else f"more than {bound:,} bytes"
        raise limits.LimitExceededError(str(path), size_limit, detail)
    return data


# --- YAML ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Open:
    """A collection whose end event has not come yet."""

    anchor: str | None
    size: int = 1  # nodes, itself included, aliases expanded
    height: int = 0  # levels below it


def yaml_events(yaml: YAML, text: str, where: str) -> Iterator[Any]:
    """The parse events of `text` with `yaml`'s parser, stopped with `LimitExceededError` (naming
    `where`) at the first one past the `nesting-depth` or `yaml-nodes` limit (see the module
    docstring). Syntax errors are the parser's own `YAMLError`s, raised when they are reached.
    """
    from ruamel.yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        CollectionStartEvent,
        DocumentStartEvent,
        ScalarEvent,
    )

    bounds = limits.active()
    max_depth, max_added = bounds.nesting_depth, bounds.yaml_nodes
    stack: list[_Open] = []
    anchors: dict[str, tuple[int, int] | None] = {}  # None: still open (an alias to it recurses)
    added = 0

    def close(size: int, height: int, anchor: str | None) -> None:
        if anchor is not None:
            anchors[anchor] = (size, height)
        if stack:
            parent = stack[-1]
            parent.size += size
            parent.height = max(parent.height, height + 1)

    for event in yaml.parse(text):
        if isinstance(event, ScalarEvent):
            close(1, 0, event.anchor)
        elif isinstance(event, CollectionStartEvent):
            if len(stack) + 1 > max_depth:
                raise limits.LimitExceededError(where, "nesting_depth", _line(event))
            stack.append(_Open(event.anchor))
            if event.anchor is not None:
                anchors[event.anchor] = None
        elif isinstance(event, CollectionEndEvent):
            done = stack.pop()
            close(done.size, done.height, done.anchor)
        elif isinstance(event, AliasEvent):
            # An undefined alias is the composer's error to report; here it counts as one node.
            named = anchors.get(event.anchor, (1, 0))
            if named is None:
                raise limits.LimitExceededError(
                    where, "yaml_nodes", f"the alias *{event.anchor} contains itself ({_line(event)})"
                )
            size, height = named
            added += size
            if added > max_added:
                detail = f"aliases expand too far ({_line(event)})"
                raise limits.LimitExceededError(where, "yaml_nodes", detail)
            if len(stack) + height > max_depth:
                raise limits.LimitExceededError(where, "nesting_depth", _line(event))
            close(size, height, None)
        elif isinstance(event, DocumentStartEvent):
            anchors.clear()  # anchors are local to a document
        yield event


def _line(event: Any) -> str:
    mark = event.start_mark
    return f"at line {mark.line + 1}" if mark is not None else "in the document"


def check_yaml(yaml: YAML, text: str, where: str) -> None:
    """Raise `LimitExceededError` when `text` nests too deeply or its aliases expand too far, as
    `yaml` (the parser the caller will compose with) reads it; syntax errors propagate.
    """
    for _ in yaml_events(yaml, text, where):
        pass


def safe_parser(*, pure: bool = False) -> YAML:
    """A YAML instance for `yaml_events`: libyaml's C parser unless `pure` (or without the clib)."""
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=pure)


def load_yaml_strings(
    text: str, where: str, *, error: Callable[[str], CiSecurityError] = DocumentError
) -> list[Any]:
    """Every document of YAML `text` as plain data with every scalar a string (no YAML 1.1
    guessing: `1.10` stays "1.10", `no` stays "no"), built from the events of one bounded pass.
    Aliases share the value they name. A mapping key that is not a scalar, a duplicate key, an
    undefined alias or a syntax error is `error("<where>:<line>:<col>: …")`.
    """
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.events import (
        AliasEvent,
        DocumentEndEvent,
        MappingEndEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceEndEvent,
        SequenceStartEvent,
    )

    documents: list[Any] = []
    # Each open collection: the container, and for a mapping the key waiting for its value.
    stack: list[tuple[list[Any] | dict[str, Any], list[Any]]] = []
    anchors: dict[str, Any] = {}
    root: list[Any] = []

    def place(value: Any, event: Any) -> None:
        if not stack:
            root.append(value)
            return
        container, pending = stack[-1]
        if isinstance(container, list):
            container.append(value)
        elif not pending:
            if not isinstance(value, str):
                raise error(f"{where}:{_position(event)}: a mapping key must be a scalar, not a collection")
            if value in container:
                raise error(f"{where}:{_position(event)}: duplicate key {value[:80]!r}")
            pending.append(value)
        else:
            container[pending.pop()] = value

    try:
        for event in yaml_events(safe_parser(), text, where):
            if isinstance(event, ScalarEvent):
                value: Any = str(event.value)
                if event.anchor is not None:
                    anchors[event.anchor] = value
                place(value, event)
            elif isinstance(event, MappingStartEvent | SequenceStartEvent):
                container: list[Any] | dict[str, Any] = {} if isinstance(event, MappingStartEvent) else []
                if event.anchor is not None:
                    anchors[event.anchor] = container
                place(container, event)
                stack.append((container, []))
            elif isinstance(event, MappingEndEvent | SequenceEndEvent):
                stack.pop()
            elif isinstance(event, AliasEvent):
                if event.anchor not in anchors:
                    raise error(f"{where}:{_position(event)}: undefined alias *{event.anchor}")
                place(anchors[event.anchor], event)
            elif isinstance(event, DocumentEndEvent):
                documents.append(root.pop() if root else None)
                anchors.clear()
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise error(f"{where}{at}: malformed YAML ({exc.problem or exc.context or 'cannot parse'})") from None
    except YAMLError as exc:
        raise error(f"{where}: malformed YAML ({str(exc).splitlines()[0][:120]})") from None
    return documents


def _position(event: Any) -> str:
    mark = event.start_mark
    return f"{mark.line + 1}:{mark.column + 1}" if mark is not None else "1:1"
