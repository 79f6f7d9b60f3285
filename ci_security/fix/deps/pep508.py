"""PEP 508 requirements (`requests[socks]>=2.19,<3; python_version >= "3.8"`) as requirements files
and `pyproject.toml` write them: the name, the specifier text where it stands, and the rewrite that
raises the lower bound to a fixed version.

The rewrite works on the text as written, clause by clause: `==`, `===`, `~=` and `>=` clauses get
the new version in place of theirs, a `>` clause becomes `>=` the new version, `!=`, `<` and `<=`
clauses stay; a requirement with no lower bound gets `>=VERSION`. The result is read back with
`packaging`: same name, extras and markers, the new version allowed, the vulnerable one no longer.
"""

from __future__ import annotations

import re

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ci_security.fix.deps.base import EditError

_HEAD = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*")
_CLAUSE = re.compile(r"(===|==|~=|>=|<=|!=|>|<)\s*([^\s,;]+)")


def parse(text: str) -> Requirement | None:
    """The requirement, or None for what is not one (a URL, a path, an option)."""
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def key(name: str) -> str:
    return canonicalize_name(name)


def pinned(requirement: Requirement) -> str | None:
    clauses = list(requirement.specifier)
    if len(clauses) == 1 and clauses[0].operator in ("==", "===") and "*" not in clauses[0].version:
        return clauses[0].version
    return None


def admits(requirement: Requirement, version: str) -> bool:
    try:
        return requirement.specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def spec_region(text: str) -> tuple[int, int]:
    """Where the specifier of requirement `text` is written: after the name and extras, before the
    markers (`;`); parentheses around it are part of it.
    """
    head = _HEAD.match(text)
    if head is None:
        raise EditError("the requirement's name cannot be read")
    end = text.find(";")
    end = len(text) if end < 0 else end
    return head.end(), end


def raise_to(text: str, installed: str, version: str) -> str:
    """Requirement `text` with its lower bound raised to `version` (see the module docstring)."""
    before = parse(text)
    if before is None:
        raise EditError("not a requirement packaging can read")
    start, end = spec_region(text)
    region = text[start:end]
    if "*" in region:
        raise EditError(f"the version is a wildcard ({region.strip()}); choose the new one by hand")
    out, cursor, lower = [], 0, False
    for clause in _CLAUSE.finditer(region):
        op = clause[1]
        out.append(region[cursor : clause.start()])
        if op in ("==", "===", "~=", ">="):
            out.append(f"{op}{region[clause.end(1) : clause.start(2)]}{version}")
            lower = True
        elif op == ">":
            out.append(f">={version}")
            lower = True
        else:
            out.append(clause[0])
        cursor = clause.end()
    out.append(region[cursor:])
    new_region = "".join(out)
    if not lower:
        stripped = new_region.rstrip()
        trailing = new_region[len(stripped) :]
        if stripped.endswith(")"):
            inner = stripped[:-1].rstrip()
            sep = "," if inner.strip("( ") else ""
            new_region = f"{inner}{sep}>={version}){trailing}"
        else:
            sep = "," if stripped.strip() else ""
            new_region = f"{stripped}{sep}>={version}{trailing}"
    new_text = text[:start] + new_region + text[end:]
    after = parse(new_text)
    if after is None:
        raise EditError("the edited requirement does not read back")
    if (key(after.name), after.extras, str(after.marker)) != (
        key(before.name),
        before.extras,
        str(before.marker),
    ):
        raise EditError("the edit would change more than the version")
    try:
        SpecifierSet(str(after.specifier))
    except InvalidSpecifier:
        raise EditError("the edited specifier is not valid") from None
    if not admits(after, version):
        raise EditError(f"{version} is outside the declared range ({region.strip()}); widen it by hand")
    if admits(after, installed):
        raise EditError(f"the edited range would still allow {installed}")
    return new_text
