"""YAML documents as plain Python data plus the position of every key, the one YAML loader for
manifests (Kubernetes, compose, the manifests behind Checkov's results) and the policy file.

The parser composes a node tree with marks, which is converted here into dicts, lists and scalars,
and each path (`("spec", "containers", 0, "image")`) is mapped to the 1-based line and column of its
key (for a mapping entry) or item (for a sequence entry), and of where its value starts.
`Positions.line` answers with the nearest existing parent when the path is missing, so a "missing
resources" finding points at the container.

Two ways to read, one conversion:
- `load_documents` (manifests): every document of a stream, with ruamel.yaml's C composer (libyaml
  through ruamel.yaml.clib), about six times faster than ruamel's round-trip loader. A duplicate key
  keeps its last value, as Kubernetes' decoder does.
- `load_config` (the policy file): exactly one document, with ruamel's round-trip parser (pure
  Python; only its node tree is used), whose error messages say what it expected and where the
  construct began ("expected ',' or '}', but got ':' (while parsing a flow mapping at line 1)"). A
  duplicate key keeps its first value, and every duplicate and every key that is a list or a
  mapping is reported (`YamlDocument.key_problems`), so the policy reader can name them all at
  their `file:line:col`.

Scalars follow YAML 1.2's core schema: `true`/`false`, `null`/`~`/empty, integers (also `0x`/`0o`)
and floats; everything else is a string (so `yes` stays "yes", and a misspelt boolean in the policy
is an error rather than a silent `true`; timestamps stay the strings they were written as, so
`2026-13-01` reaches the policy schema's date check with a position). Kubernetes decodes manifests as
YAML 1.1 (sigs.k8s.io/yaml over yaml.v2), where a plain `yes`/`on` is true, so its rules read
booleans through `kubernetes.common.is_true`/`is_false` rather than comparing with True.
Merge keys (`<<: *defaults`, common in compose files) are applied; a merged key points at the line
where it is written (inside the anchored mapping), which is where a fix goes.

Hostile input is reported, not processed: a manifest larger than the `manifest-bytes` limit (the
policy file is bounded by `policy-bytes` when it is read), or a document that nests deeper than
`nesting-depth` or whose aliases would add more than `yaml-nodes` nodes (a "billion laughs" bomb, a
recursive alias) raises `YamlTooComplexError` naming the limit; the bounds are checked on the event
stream (`structured.check_yaml`) before the composer, which recurses, sees the document. libyaml
looks first in both ways: it is linear, where the pure-Python scanner spends quadratic time on a
million open brackets before its parser reaches the depth limit. A syntax error raises
`YamlSyntaxError` with its line and column.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ci_security import limits
from ci_security.structured import check_yaml, safe_parser

Path = tuple[str | int, ...]
Mark = tuple[int, int]  # 1-based line and column

_INT = re.compile(r"[-+]?[0-9][0-9_]*\Z")
_HEX = re.compile(r"0x[0-9a-fA-F_]+\Z")
_OCT = re.compile(r"0o[0-7_]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf")}


class YamlSyntaxError(Exception):
    """The file is not valid YAML; `line` and `column` are 1-based. `message` is the parser's problem
    (or its context when it has none); `context` says what was being parsed, starting at
    `context_line`, when the parser knows.
    """

    def __init__(
        self, line: int, message: str, *, column: int = 1, context: str = "", context_line: int | None = None
    ) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message
        self.context = context
        self.context_line = context_line


class YamlTooComplexError(Exception):
    """The file is past one of the limits (too large, nested too deeply, aliases expanding too far);
    the message names the limit, `error` is the limit error itself (naming the document).
    """

    def __init__(self, error: limits.LimitExceededError) -> None:
        super().__init__(str(error).removeprefix(f"{error.where}: "))  # the finding names the file
        self.error = error


@dataclass(frozen=True, slots=True)
class KeyProblem:
    """A mapping key a configuration file must not have: one written twice (`first_line` is where it
    was first), or one that is a list or a mapping (`kind` says which).
    """

    line: int
    column: int
    kind: Literal["duplicate", "list", "mapping"]
    key: str = ""
    first_line: int = 0


@dataclass(frozen=True, slots=True)
class Positions:
    """Where the keys, items and values of one document are written: `keys` has the 1-based (line,
    column) of each mapping entry's key and of each sequence item, `values` where each value starts
    (for a scalar, the scalar; for a block collection, its first entry), `start` where the document's
    root starts.
    """

    keys: dict[Path, Mark]
    values: dict[Path, Mark]
    start: Mark

    @property
    def start_line(self) -> int:
        return self.start[0]

    def line(self, path: Sequence[str | int]) -> int:
        """The line of `path`, or of its nearest existing parent, or the document's first line."""
        key = tuple(path)
        while key:
            found = self.keys.get(key)
            if found is not None:
                return found[0]
            key = key[:-1]
        return self.start[0]

    def exact(self, path: Sequence[str | int]) -> int | None:
        found = self.keys.get(tuple(path))
        return found[0] if found is not None else None

    def value(self, path: Sequence[str | int]) -> Mark:
        """Where the value at `path` starts, or that of its nearest existing parent, or the root."""
        key = tuple(path)
        while key:
            found = self.values.get(key)
            if found is not None:
                return found
            key = key[:-1]
        return self.start

    def key(self, path: Sequence[str | int]) -> Mark:
        """Where the key (or item) at `path` is written; the value of its nearest parent when it is
        missing.
        """
        return self.keys.get(tuple(path)) or self.value(path)


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """One document of a YAML stream: `index` is 0-based, `data` plain Python data."""

    index: int
    data: Any
    positions: Positions
    key_problems: tuple[KeyProblem, ...] = ()


def _scalar(value: str, tag: str, plain: bool) -> Any:
    if not plain or tag.endswith(":str"):
        return value
    lowered = value.lower()
    if lowered in ("", "~", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    if _INT.match(value):
        return int(value.replace("_", ""))
    if _HEX.match(lowered):
        return int(lowered[2:].replace("_", ""), 16)
    if _OCT.match(lowered):
        return int(lowered[2:].replace("_", ""), 8)
    if lowered in _INF:
        return _INF[lowered]
    if lowered == ".nan":
        return float("nan")
    if _FLOAT.match(value) and any(ch.isdigit() for ch in value):
        return float(value.replace("_", ""))
    return value


def _mark(node: Any) -> Mark:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Converter:
    def __init__(self, first_wins: bool) -> None:
        self.keys: dict[Path, Mark] = {}
        self.values: dict[Path, Mark] = {}
        self.problems: list[KeyProblem] = []
        self.first_wins = first_wins

    def convert(self, node: Any, path: Path) -> Any:
        from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

        if isinstance(node, ScalarNode):
            return _scalar(str(node.value), str(node.tag), node.style in (None, ""))
        if isinstance(node, SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                child = (*path, index)
                mark = _mark(item)
                self.keys.setdefault(child, mark)
                self.values.setdefault(child, mark)
                items.append(self.convert(item, child))
            return items
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        return None

    def _apart(self, node: Any, path: Path) -> tuple[Any, dict[Path, Mark], dict[Path, Mark]]:
        """Convert `node` without recording its positions: a value that is not kept (a duplicate's,
        or a merge source's before its keys are chosen) must leave no paths behind.
        """
        own, self.keys, self.values = (self.keys, self.values), {}, {}
        try:
            return self.convert(node, path), self.keys, self.values
        finally:
            self.keys, self.values = own

    def _mapping(self, node: Any, path: Path) -> dict[Any, Any]:
        from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

        result: dict[Any, Any] = {}
        merges: list[tuple[Any, Mark]] = []
        written: dict[str, int] = {}  # a key as written -> its first line (first_wins)
        for key_node, value_node in node.value:
            mark = _mark(key_node)
            if str(key_node.tag).endswith(":merge") or (key_node.value == "<<" and not key_node.style):
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                merges.extend((source, mark) for source in sources if isinstance(source, MappingNode))
                continue
            if self.first_wins:
                if not isinstance(key_node, ScalarNode):
                    kind: Literal["list", "mapping"] = (
                        "list" if isinstance(key_node, SequenceNode) else "mapping"
                    )
                    self.problems.append(KeyProblem(*mark, kind))
                    self._apart(value_node, path)  # its value is not kept, but its own problems are
                    continue
                as_written = str(key_node.value)
                if as_written in written:
                    self.problems.append(KeyProblem(*mark, "duplicate", as_written, written[as_written]))
                else:
                    written[as_written] = mark[0]
            key = self.convert(key_node, path)
            if not isinstance(key, str | int | float | bool) and key is not None:
                key = str(key)
            child = (*path, key)
            if key in result and self.first_wins:
                self._apart(value_node, child)
                continue
            self.keys[child] = mark
            self.values[child] = _mark(value_node)
            result[key] = self.convert(value_node, child)
        depth = len(path)
        for source, mark in merges:
            # The source's positions are collected apart and kept only for the keys it contributes:
            # a key the mapping overrides keeps its own, and its subtree gains no phantom paths.
            merged, source_keys, source_values = self._apart(source, path)
            added = {key for key in merged if key not in result}
            for child, child_mark in source_keys.items():
                if len(child) > depth and child[depth] in added:
                    self.keys.setdefault(child, child_mark)
            for child, child_mark in source_values.items():
                if len(child) > depth and child[depth] in added:
                    self.values.setdefault(child, child_mark)
            for key in added:
                result[key] = merged[key]
                self.keys.setdefault((*path, key), mark)
                self.values.setdefault((*path, key), mark)
        return result


def _document(index: int, node: Any, first_wins: bool) -> YamlDocument:
    converter = _Converter(first_wins)
    data = converter.convert(node, ())
    # An anchored mapping is converted once per alias to it: its problems are reported once.
    problems = tuple(sorted(set(converter.problems), key=lambda p: (p.line, p.column)))
    return YamlDocument(index, data, Positions(converter.keys, converter.values, _mark(node)), problems)


def _syntax_error(exc: Exception) -> YamlSyntaxError:
    from ruamel.yaml.error import MarkedYAMLError

    if not isinstance(exc, MarkedYAMLError):
        return YamlSyntaxError(1, str(exc))
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    context_line = exc.context_mark.line + 1 if exc.context_mark is not None else None
    return YamlSyntaxError(
        line,
        f"{exc.problem or exc.context or 'invalid YAML'}",
        column=column,
        context=(exc.context or "") if exc.problem else "",
        context_line=context_line,
    )


@contextlib.contextmanager
def _reading(where: str) -> Iterator[None]:
    """Turn what the parser and the bounds raise into this module's two errors."""
    from ruamel.yaml.error import YAMLError

    try:
        yield
    except YAMLError as exc:
        raise _syntax_error(exc) from None
    except limits.LimitExceededError as exc:
        raise YamlTooComplexError(exc) from None
    except RecursionError:  # only when the nesting-depth limit was raised past what Python can convert
        error = limits.LimitExceededError(where, "nesting_depth", "nested too deeply to convert")
        raise YamlTooComplexError(error) from None


def load_documents(text: str, *, where: str = "") -> list[YamlDocument]:
    """Every document of manifest `text` (named `where` in limit errors); see the module docstring
    for what raises.
    """
    from ruamel.yaml import YAML

    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.active().manifest_bytes:
        raise YamlTooComplexError(limits.LimitExceededError(where, "manifest_bytes", f"{size:,} bytes"))
    documents = []
    with _reading(where):
        check_yaml(safe_parser(), text, where)
        for index, node in enumerate(YAML(typ="safe", pure=False).compose_all(text)):
            if node is not None:
                documents.append(_document(index, node, first_wins=False))
    return documents


def load_config(text: str, *, where: str) -> YamlDocument | None:
    """The one document of configuration `text` (None when it is empty), named `where` in limit
    errors; see the module docstring for how it differs from `load_documents`. The caller bounds the
    text's size.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    parser = YAML(typ="rt")  # composing only: the round-trip scanner's messages, nothing constructed
    with _reading(where):
        with contextlib.suppress(YAMLError):  # libyaml first (linear); its syntax errors are not ours
            check_yaml(safe_parser(), text, where)
        check_yaml(parser, text, where)
        node = parser.compose(text)
        return None if node is None else _document(0, node, first_wins=True)


def walk(data: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every (path, value) below `data`, depth first, the root included."""
    yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from walk(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from walk(value, (*path, index))
