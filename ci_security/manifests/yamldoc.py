"""YAML documents as plain Python data plus the line of every key, for manifest rules.

ruamel.yaml's C composer (libyaml through ruamel.yaml.clib) builds the node tree with marks, about
six times faster than ruamel's round-trip loader. The tree is converted here into dicts, lists and
scalars, and each path (`("spec", "containers", 0, "image")`) is mapped to the 1-based line of its
key (for a mapping entry) or item (for a sequence entry). `Positions.line` answers with the nearest
existing parent when the path is missing, so a "missing resources" finding points at the container.

Scalars follow YAML 1.2's core schema: `true`/`false`, `null`/`~`/empty, integers (also `0x`/`0o`)
and floats; everything else is a string (so `yes` stays "yes"). Kubernetes decodes manifests as YAML
1.1 (sigs.k8s.io/yaml over yaml.v2), where a plain `yes`/`on` is true, so its rules read booleans
through `kubernetes.common.is_true`/`is_false` rather than comparing with True.
Merge keys (`<<: *defaults`, common in compose files) are applied; a merged key points at the line
where it is written (inside the anchored mapping), which is where a fix goes. A duplicate key keeps
its last value, as Kubernetes' decoder does.

Hostile input is reported, not processed: a file larger than the `manifest-bytes` limit, or one that
nests deeper than `nesting-depth` or whose aliases would add more than `yaml-nodes` nodes (a "billion
laughs" bomb, a recursive alias) raises `YamlTooComplexError` naming the limit; the bounds are
checked on the event stream (`structured.check_yaml`) before the C composer, which recurses, sees
the document. A syntax error raises `YamlSyntaxError` with its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ci_security import limits
from ci_security.structured import check_yaml

Path = tuple[str | int, ...]

_INT = re.compile(r"[-+]?[0-9][0-9_]*\Z")
_HEX = re.compile(r"0x[0-9a-fA-F_]+\Z")
_OCT = re.compile(r"0o[0-7_]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf")}


class YamlSyntaxError(Exception):
    """The file is not valid YAML; `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class YamlTooComplexError(Exception):
    """The file is past one of the limits (too large, nested too deeply, aliases expanding too far);
    the message names the limit.
    """


@dataclass(frozen=True, slots=True)
class Positions:
    """Line numbers of the keys and items of one document."""

    lines: dict[Path, int]
    start_line: int

    def line(self, path: Sequence[str | int]) -> int:
        """The line of `path`, or of its nearest existing parent, or the document's first line."""
        key = tuple(path)
        while key:
            found = self.lines.get(key)
            if found is not None:
                return found
            key = key[:-1]
        return self.start_line

    def exact(self, path: Sequence[str | int]) -> int | None:
        return self.lines.get(tuple(path))


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """One document of a YAML stream: `index` is 0-based, `data` plain Python data."""

    index: int
    data: Any
    positions: Positions


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


class _Converter:
    def __init__(self) -> None:
        self.lines: dict[Path, int] = {}

    def convert(self, node: Any, path: Path) -> Any:
        from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

        if isinstance(node, ScalarNode):
            return _scalar(str(node.value), str(node.tag), node.style in (None, ""))
        if isinstance(node, SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                child = (*path, index)
                self.lines.setdefault(child, item.start_mark.line + 1)
                items.append(self.convert(item, child))
            return items
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        return None

    def _mapping(self, node: Any, path: Path) -> dict[Any, Any]:
        from ruamel.yaml.nodes import MappingNode, SequenceNode

        result: dict[Any, Any] = {}
        merges: list[tuple[Any, int]] = []
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if str(key_node.tag).endswith(":merge") or (key_node.value == "<<" and not key_node.style):
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                merges.extend((source, line) for source in sources if isinstance(source, MappingNode))
                continue
            key = self.convert(key_node, path)
            if not isinstance(key, str | int | float | bool) and key is not None:
                key = str(key)
            child = (*path, key)
            self.lines[child] = line
            result[key] = self.convert(value_node, child)
        depth = len(path)
        for source, line in merges:
            # The source's lines are collected apart and kept only for the keys it contributes: a key
            # the mapping overrides keeps its own line, and its subtree gains no phantom paths.
            own_lines, self.lines = self.lines, {}
            try:
                merged = self.convert(source, path)
            finally:
                source_lines, self.lines = self.lines, own_lines
            added = {key for key in merged if key not in result}
            for child, child_line in source_lines.items():
                if len(child) > depth and child[depth] in added:
                    self.lines.setdefault(child, child_line)
            for key in added:
                result[key] = merged[key]
                self.lines.setdefault((*path, key), line)
        return result


def load_documents(text: str) -> list[YamlDocument]:
    """Every document of `text`; see the module docstring for what raises."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.active().manifest_bytes:
        raise YamlTooComplexError(_reason(limits.LimitExceededError("", "manifest_bytes", f"{size:,} bytes")))
    documents = []
    try:
        check_yaml(YAML(typ="safe", pure=False), text, "")
        for index, node in enumerate(YAML(typ="safe", pure=False).compose_all(text)):
            if node is None:
                continue
            converter = _Converter()
            data = converter.convert(node, ())
            documents.append(YamlDocument(index, data, Positions(converter.lines, node.start_mark.line + 1)))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlSyntaxError(line, f"{exc.problem or exc.context or 'invalid YAML'}") from None
    except YAMLError as exc:
        raise YamlSyntaxError(1, str(exc)) from None
    except limits.LimitExceededError as exc:
        raise YamlTooComplexError(_reason(exc)) from None
    except RecursionError:  # only when the nesting-depth limit was raised past what Python can convert
        raise YamlTooComplexError("nested too deeply to convert") from None
    return documents


def _reason(exc: limits.LimitExceededError) -> str:
    """The limit error's text without its `where: ` prefix: the finding already names the file."""
    return str(exc).removeprefix(f"{exc.where}: ")


def walk(data: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every (path, value) below `data`, depth first, the root included."""
    yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from walk(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from walk(value, (*path, index))
