"""`go.mod`: `require` directives, one-line (`require example.com/m v1.2.3`) or in a block.

The version token of the module's line is replaced (`v` + the fixed version), comments such as
`// indirect` stay, and the file is parsed again: the only difference must be that module's version.
A module with a `replace` directive is left alone (what is built is the replacement). `go.sum` must
be brought up to date afterwards (`go mod tidy`), which the plan and the pull request say.
"""

from __future__ import annotations

import re
from typing import ClassVar

from ci_security.fix.deps.base import EditError, Entry

_LINE = re.compile(r"^(?P<lead>\s*(?:require\s+)?)(?P<path>[^\s()]+)\s+(?P<version>v[^\s/]+)(?P<rest>.*)$")


def requires(text: str) -> dict[str, tuple[str, int, int, int]]:
    """Module path → (version, line, start and end offsets of the version) of every require."""
    out: dict[str, tuple[str, int, int, int]] = {}
    block = None
    offset = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        code = line.split("//", 1)[0].strip()
        if block is None and re.fullmatch(r"(require|replace|exclude|retract|tool|ignore)\s*\(", code):
            block = code.split()[0].split("(")[0]
        elif block is not None and code == ")":
            block = None
        elif (block == "require" and code) or (block is None and code.startswith("require ")):
            found = _LINE.match(line)
            if found:
                out.setdefault(
                    found["path"],
                    (
                        found["version"],
                        number,
                        offset + found.start("version"),
                        offset + found.end("version"),
                    ),
                )
        offset += len(raw) + 1
    return out


def replaced(text: str) -> set[str]:
    """Modules with a `replace` directive."""
    out = set()
    block = False
    for raw in text.split("\n"):
        code = raw.split("//", 1)[0].strip()
        if re.fullmatch(r"replace\s*\(", code):
            block = True
        elif block and code == ")":
            block = False
        elif block and code:
            out.add(code.split()[0])
        elif code.startswith("replace "):
            out.add(code.split()[1])
    return out


class GoMod:
    name: ClassVar[str] = "go.mod"
    package_type: ClassVar[str] = "golang"
    after: ClassVar[str] = "run go mod tidy to bring go.sum up to date"

    def matches(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] == "go.mod"

    def entries(self, text: str, path: str) -> list[Entry]:
        return [
            Entry(
                file=path,
                line=line,
                name=module,
                key=module,
                spec=version,
                pinned=version,
                written=f"{module} {version}",
            )
            for module, (version, line, _, _) in sorted(requires(text).items(), key=lambda item: item[1][1])
        ]

    def admits(self, entry: Entry, version: str) -> bool:
        return entry.spec.removeprefix("v") == version.removeprefix("v")

    def bump(self, text: str, entry: Entry, installed: str, version: str) -> str:
        if entry.name in replaced(text):
            raise EditError(f"{entry.name} has a replace directive: what is built is the replacement")
        found = requires(text).get(entry.name)
        if found is None:
            raise EditError("the require line is gone")
        new_version = version if version.startswith("v") else f"v{version}"
        if not re.fullmatch(r"v\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?", new_version):
            raise EditError(f"{version} is not a module version")
        _, _, start, end = found
        new_text = text[:start] + new_version + text[end:]
        before, after = requires(text), requires(new_text)
        expected = {k: v[0] for k, v in before.items()} | {entry.name: new_version}
        if {k: v[0] for k, v in after.items()} != expected:
            raise EditError("the edit would change more than the version")
        return new_text
