"""`pyproject.toml`: PEP 621 (`[project] dependencies`, `[project.optional-dependencies]`) and Poetry
(`[tool.poetry.dependencies]`, `[tool.poetry.dev-dependencies]`, `[tool.poetry.group.<g>.dependencies]`).

The file is read with the standard library's `tomllib`; the edit is a byte-preserving replacement
of the one string literal that holds the constraint, found inside the table that declares it, and
the edited file is read again with `tomllib`: the only difference in the document must be that one
value, or nothing is written. That keeps comments, ordering, quoting and layout exactly as they were
without a round-trip TOML library (tomlkit) as one more dependency: a dependency bump never needs to
restructure a document, only to replace one string.

PEP 621 entries are PEP 508 requirements (`pep508.raise_to`). Poetry constraints keep their operator
and get the new version: `^2.19` becomes `^2.31.0`, `~2.19.0` becomes `~2.31.0`, `>=2.19,<3` becomes
`>=2.31.0,<3`; an exact `2.19.0` or `==2.19.0` becomes the new version. Poetry's caret and tilde are
read as Poetry defines them (`^1.2.3` is `>=1.2.3,<2.0.0`, `^0.2.3` is `>=0.2.3,<0.3.0`, `~1.2.3` is
`>=1.2.3,<1.3.0`) to tell whether a constraint admits a version.
"""

from __future__ import annotations

import re
import tomllib
from copy import deepcopy
from typing import Any, ClassVar

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ci_security.fix.deps import pep508
from ci_security.fix.deps.base import EditError, Entry

_TABLE = re.compile(r"^[ \t]*\[([^\[\]]+)\][ \t]*(?:#.*)?$", re.MULTILINE)
_ANY_TABLE = re.compile(r"^[ \t]*\[", re.MULTILINE)
_POETRY_CLAUSE = re.compile(r"\s*(\^|~=|~|>=|<=|==|!=|=|>|<)?\s*([0-9][0-9A-Za-z.+-]*)\s*")


def _load(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EditError(f"not valid TOML: {exc}") from None


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _set(data: Any, path: tuple[str | int, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _tables(text: str) -> dict[str, tuple[int, int]]:
    """Each `[table]` header's name (dotted, quotes and spaces removed) and the span of its body."""
    headers = [(m[1], m.end()) for m in _TABLE.finditer(text)]
    starts = [m.start() for m in _ANY_TABLE.finditer(text)]
    spans: dict[str, tuple[int, int]] = {}
    for name, body in headers:
        following = [s for s in starts if s > body]
        end = min(following) if following else len(text)
        dotted = ".".join(part.strip().strip('"').strip("'") for part in name.split("."))
        spans.setdefault(dotted, (body, end))
    return spans


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _literal(text: str, start: int, end: int, value: str, prefix: str | None) -> tuple[int, int]:
    """The span of the one string literal `value` in `text[start:end]`; with `prefix` (a regular
    expression), only a literal whose line reads `prefix` right before it.
    """
    hits = []
    for quote in ('"', "'"):
        literal = f"{quote}{value}{quote}"
        at = text.find(literal, start, end)
        while at >= 0:
            line_start = text.rfind("\n", 0, at) + 1
            if prefix is None or re.fullmatch(prefix, text[line_start:at]):
                hits.append((at + 1, at + 1 + len(value)))
            at = text.find(literal, at + 1, end)
    if len(hits) != 1:
        where = "not found" if not hits else f"written {len(hits)} times"
        raise EditError(f"the constraint {value!r} is {where} where it is declared; edit it by hand")
    return hits[0]


def _key_prefix(name: str, inline: bool) -> str:
    """What precedes a Poetry constraint on its line: `name = ` or `name = { …version = `."""
    key = rf"[ \t]*[\"']?{re.escape(name)}[\"']?[ \t]*=[ \t]*"
    return key + (r"\{.*\bversion[ \t]*=[ \t]*" if inline else "")


def poetry_specifier(constraint: str) -> SpecifierSet:
    """A Poetry constraint as a PEP 440 specifier set (caret and tilde expanded)."""
    parts = []
    for clause in constraint.split(","):
        found = _POETRY_CLAUSE.fullmatch(clause)
        if found is None:
            raise EditError(f"the Poetry constraint {constraint!r} cannot be read")
        op, version = found[1] or "==", found[2]
        try:
            release = Version(version).release
        except InvalidVersion:
            raise EditError(f"the Poetry constraint {constraint!r} cannot be read") from None
        if op == "^":
            first = next((i for i, n in enumerate(release) if n), len(release) - 1)
            upper = [*release[: first + 1]]
            upper[-1] += 1
            parts += [f">={version}", f"<{'.'.join(map(str, upper))}"]
        elif op == "~":
            upper = [*release[:2]]
            upper[-1] += 1
            parts += [f">={version}", f"<{'.'.join(map(str, upper))}"]
        else:
            parts.append(f"{'==' if op == '=' else op}{version}")
    try:
        return SpecifierSet(",".join(parts))
    except InvalidSpecifier:
        raise EditError(f"the Poetry constraint {constraint!r} cannot be read") from None


def _poetry_raise(constraint: str, installed: str, version: str) -> str:
    if "*" in constraint or "||" in constraint or "|" in constraint:
        raise EditError(f"the Poetry constraint {constraint!r} is a wildcard or a union; edit it by hand")
    out, lower = [], False
    for clause in constraint.split(","):
        found = _POETRY_CLAUSE.fullmatch(clause)
        if found is None:
            raise EditError(f"the Poetry constraint {constraint!r} cannot be read")
        op = found[1] or ""
        if op in ("", "^", "~", "~=", ">=", "==", "=", ">"):
            lower = True
            new_op = ">=" if op == ">" else op
            out.append(
                clause[: found.start(1) if found[1] else found.start(2)]
                + new_op
                + version
                + clause[found.end(2) :]
            )
        else:
            out.append(clause)
    new = ",".join(out) if lower else f"{constraint},>={version}" if constraint.strip() else f">={version}"
    spec = poetry_specifier(new)
    if not spec.contains(version, prereleases=True):
        raise EditError(f"{version} is outside the declared range ({constraint}); widen it by hand")
    if spec.contains(installed, prereleases=True):
        raise EditError(f"the edited constraint would still allow {installed}")
    return new


_POETRY_TABLES = ("tool.poetry.dependencies", "tool.poetry.dev-dependencies")


class PyProject:
    name: ClassVar[str] = "pyproject"
    package_type: ClassVar[str] = "pypi"
    after: ClassVar[str] = "regenerate the lockfile (poetry lock, uv lock, pdm lock) if the project has one"

    def matches(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] == "pyproject.toml"

    def entries(self, text: str, path: str) -> list[Entry]:
        data = _load(text)
        tables = _tables(text)
        found: list[Entry] = []
        project = data.get("project") if isinstance(data.get("project"), dict) else {}
        assert isinstance(project, dict)
        lists: list[tuple[str, tuple[str | int, ...], Any]] = [
            ("project", ("project", "dependencies"), project.get("dependencies"))
        ]
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for group, items in optional.items():
                lists.append(
                    ("project.optional-dependencies", ("project", "optional-dependencies", group), items)
                )
        for table, base, items in lists:
            if not isinstance(items, list):
                continue
            for index, item in enumerate(items):
                requirement = pep508.parse(item) if isinstance(item, str) else None
                if requirement is None or requirement.url:
                    continue
                span = tables.get(table, (0, len(text)))
                line = _line_of(text, max(text.find(item, *span), span[0]))
                found.append(
                    Entry(
                        file=path,
                        line=line,
                        name=requirement.name,
                        key=pep508.key(requirement.name),
                        spec=item,
                        pinned=pep508.pinned(requirement),
                        where="\0".join(map(str, (*base, index))),
                        written=item,
                    )
                )
        poetry_tables = [*_POETRY_TABLES] + [
            f"tool.poetry.group.{g}.dependencies"
            for g in (_get(data, ("tool", "poetry", "group")) or {})
            if isinstance(g, str)
        ]
        for table in poetry_tables:
            declared = _get(data, tuple(table.split(".")))
            if not isinstance(declared, dict):
                continue
            for name, value in declared.items():
                constraint = value.get("version") if isinstance(value, dict) else value
                if name.lower() == "python" or not isinstance(constraint, str):
                    continue
                span = tables.get(table, (0, len(text)))
                at = re.search(
                    rf"^[ \t]*[\"']?{re.escape(name)}[\"']?\s*=", text[span[0] : span[1]], re.MULTILINE
                )
                line = _line_of(text, span[0] + at.start()) if at else _line_of(text, span[0])
                exact = _POETRY_CLAUSE.fullmatch(constraint)
                pinned = (
                    exact[2]
                    if exact and (exact[1] or "==") in ("==", "=") and "," not in constraint
                    else None
                )
                found.append(
                    Entry(
                        file=path,
                        line=line,
                        name=name,
                        key=pep508.key(name),
                        spec=constraint,
                        pinned=pinned,
                        where=f"poetry\0{table}\0{name}",
                        written=f"{name} = {constraint!r}".replace("'", '"'),
                    )
                )
        return found

    def admits(self, entry: Entry, version: str) -> bool:
        try:
            if entry.where.startswith("poetry\0"):
                return poetry_specifier(entry.spec).contains(version, prereleases=True)
            requirement = pep508.parse(entry.spec)
            return requirement is not None and pep508.admits(requirement, version)
        except EditError:
            return False

    def bump(self, text: str, entry: Entry, installed: str, version: str) -> str:
        data = _load(text)
        tables = _tables(text)
        if entry.where.startswith("poetry\0"):
            _, table, name = entry.where.split("\0")
            value = _get(data, (*table.split("."), name))
            inline = isinstance(value, dict)
            new_constraint = _poetry_raise(entry.spec, installed, version)
            span = tables.get(table)
            if span is None:
                raise EditError(f"the table [{table}] is not written as a header; edit it by hand")
            start, end = _literal(text, *span, entry.spec, _key_prefix(name, inline))
            path: tuple[str | int, ...] = (
                (*table.split("."), name, "version") if inline else (*table.split("."), name)
            )
            new_value = new_constraint
        else:
            parts = entry.where.split("\0")
            path = (*parts[:-1], int(parts[-1]))
            table = "project.optional-dependencies" if parts[1] == "optional-dependencies" else "project"
            span = tables.get(table, (0, len(text)))
            start, end = _literal(text, *span, entry.spec, None)
            new_value = pep508.raise_to(entry.spec, installed, version)
        new_text = text[:start] + new_value + text[end:]
        expected = deepcopy(data)
        _set(expected, path, new_value)
        if _load(new_text) != expected:
            raise EditError(
                "the edit would change more than the constraint (the file reads back differently)"
            )
        return new_text
