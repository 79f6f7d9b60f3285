"""`package.json`: `dependencies`, `devDependencies` and `optionalDependencies`.

A constraint is bumped when it is a version with an optional operator (`1.2.3`, `=1.2.3`, `^1.2.3`,
`~1.2.3`, `>=1.2.3`, a leading `v` allowed): the operator stays and the version becomes the fixed
one. Ranges with spaces or `||`, x-ranges (`4.x`), tags (`latest`), URLs, paths and workspace
protocols are left for a person, with the reason. The edit replaces the `"name": "constraint"` text
in place and reads the file back with `json`: the only difference must be that constraint.

`package.json` is not what npm installs from when there is a lockfile: after the bump,
`package-lock.json` (or `npm-shrinkwrap.json`, `yarn.lock`, `pnpm-lock.yaml`) must be regenerated
(`npm install`, `yarn`, `pnpm install`), which the plan and the pull request say.
"""

from __future__ import annotations

import json
import re
from copy import deepcopy
from typing import Any, ClassVar

from ci_security.fix.deps.base import EditError, Entry

SECTIONS = ("dependencies", "devDependencies", "optionalDependencies")
_SIMPLE = re.compile(r"(\^|~|>=|=)?\s*v?(\d+)\.(\d+)\.(\d+)([-+][0-9A-Za-z.+-]*)?")


def _load(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EditError(f"not valid JSON: line {exc.lineno}: {exc.msg}") from None
    if not isinstance(data, dict):
        raise EditError("not a JSON object")
    return data


def _triple(version: str) -> tuple[int, int, int] | None:
    found = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?", version)
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def admits(constraint: str, version: str) -> bool:
    """Npm's meaning of a simple constraint (see the module docstring) for `version`."""
    found = _SIMPLE.fullmatch(constraint.strip())
    wanted = _triple(version)
    if found is None or wanted is None:
        return False
    op, base = found[1] or "=", (int(found[2]), int(found[3]), int(found[4]))
    if op == "=":
        return wanted == base
    if op == ">=":
        return wanted >= base
    if op == "~":
        return base <= wanted < (base[0], base[1] + 1, 0)
    # caret: the left-most non-zero number stays
    if base[0]:
        upper = (base[0] + 1, 0, 0)
    elif base[1]:
        upper = (0, base[1] + 1, 0)
    else:
        upper = (0, 0, base[2] + 1)
    return base <= wanted < upper


class PackageJson:
    name: ClassVar[str] = "package.json"
    package_type: ClassVar[str] = "npm"
    after: ClassVar[str] = (
        "regenerate the lockfile (npm install, yarn, pnpm install): npm installs what package-lock.json says"
    )

    def matches(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] == "package.json"

    def entries(self, text: str, path: str) -> list[Entry]:
        data = _load(text)
        found = []
        for section in SECTIONS:
            declared = data.get(section)
            if not isinstance(declared, dict):
                continue
            for name, constraint in declared.items():
                if not isinstance(constraint, str):
                    continue
                at = re.search(rf"\"{re.escape(name)}\"\s*:\s*\"{re.escape(constraint)}\"", text)
                line = text.count("\n", 0, at.start()) + 1 if at else 1
                simple = _SIMPLE.fullmatch(constraint.strip())
                pinned = None
                if simple and (simple[1] or "=") == "=":
                    pinned = f"{simple[2]}.{simple[3]}.{simple[4]}{simple[5] or ''}"
                found.append(
                    Entry(
                        file=path,
                        line=line,
                        name=name,
                        key=name.lower(),
                        spec=constraint,
                        pinned=pinned,
                        where=section,
                        written=f'"{name}": "{constraint}"',
                    )
                )
        return found

    def admits(self, entry: Entry, version: str) -> bool:
        return admits(entry.spec, version)

    def bump(self, text: str, entry: Entry, installed: str, version: str) -> str:
        found = _SIMPLE.fullmatch(entry.spec.strip())
        if found is None:
            raise EditError(
                f"the constraint {entry.spec!r} is a range npm reads its own way; edit it by hand"
            )
        if _triple(version) is None:
            raise EditError(f"{version} is not a version npm can be given")
        op = found[1] or ""
        prefix = entry.spec[: len(entry.spec) - len(entry.spec.lstrip())]
        v = "v" if "v" in entry.spec.lstrip().removeprefix(op).lstrip()[:1] else ""
        new_constraint = f"{prefix}{op}{v}{version}"
        if not admits(new_constraint, version):
            raise EditError(f"{version} would not satisfy {new_constraint!r}")
        if admits(new_constraint, installed):
            raise EditError(f"the edited constraint would still allow {installed}")
        data = _load(text)
        pattern = re.compile(rf"(\"{re.escape(entry.name)}\"\s*:\s*\"){re.escape(entry.spec)}\"")
        hits = list(pattern.finditer(text))
        section = data.get(entry.where)
        if len(hits) != 1 or not isinstance(section, dict):
            raise EditError(f'"{entry.name}": "{entry.spec}" is written {len(hits)} times; edit it by hand')
        hit = hits[0]
        new_text = text[: hit.end(1)] + new_constraint + text[hit.end() - 1 :]
        expected = deepcopy(data)
        expected[entry.where][entry.name] = new_constraint
        if _load(new_text) != expected:
            raise EditError(
                "the edit would change more than the constraint (the file reads back differently)"
            )
        return new_text
