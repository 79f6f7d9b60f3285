r"""pip requirements files: `requirements*.txt` anywhere, and `*.txt` in a `requirements/` folder.

Lines are read as pip reads them: `#` comments (at the start or after whitespace), `\` continuations,
option lines (`-r`, `-c`, `-e`, `--index-url`) skipped, per-requirement options (`--hash=…`) after
the requirement. A requirement whose line carries `--hash` belongs to a hash-pinned lock
(`pip-compile --generate-hashes`, `uv pip compile --generate-hashes`): changing its version without
the new files' hashes would break `pip install --require-hashes`, so it is reported as needing a
re-lock, never rewritten. Everything else is rewritten in place (`pep508.raise_to`); the requirement
must sit on one physical line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from ci_security.fix.deps import pep508
from ci_security.fix.deps.base import EditError, Entry

_COMMENT = re.compile(r"(^|\s)#.*$")


@dataclass(frozen=True, slots=True)
class _Logical:
    line: int  # first physical line, 1-based
    lines: int  # physical lines it spans
    text: str  # comment removed, continuations joined
    start: int  # offset of its first physical line in the file
    end: int  # offset after its first physical line's content (before the line end)


def _logical_lines(text: str) -> list[_Logical]:
    out: list[_Logical] = []
    physical = text.split("\n")
    offset = 0
    index = 0
    while index < len(physical):
        first = index
        start = offset
        raw = physical[index].removesuffix("\r")
        end = start + len(raw)
        parts = []
        while True:
            content = _COMMENT.sub("", physical[index].removesuffix("\r"))
            offset += len(physical[index]) + 1
            index += 1
            if content.rstrip().endswith("\\") and index < len(physical):
                parts.append(content.rstrip()[:-1])
                continue
            parts.append(content)
            break
        out.append(_Logical(first + 1, index - first, " ".join(parts), start, end))
    return out


def _requirement_text(logical: str) -> str:
    """The requirement before per-requirement options (` --hash=…`)."""
    found = re.search(r"(^|\s)--?[A-Za-z]", logical)
    return logical[: found.start()].strip() if found else logical.strip()


class Requirements:
    name: ClassVar[str] = "requirements"
    package_type: ClassVar[str] = "pypi"
    after: ClassVar[str] = ""

    def matches(self, path: str) -> bool:
        parts = path.lower().split("/")
        base = parts[-1]
        in_folder = len(parts) > 1 and parts[-2] == "requirements" and base.endswith(".txt")
        return (base.startswith("requirements") and base.endswith(".txt")) or in_folder

    def entries(self, text: str, path: str) -> list[Entry]:
        found = []
        for logical in _logical_lines(text):
            stripped = logical.text.strip()
            if not stripped or stripped.startswith("-"):
                continue
            text_of = _requirement_text(stripped)
            requirement = pep508.parse(text_of)
            if requirement is None or requirement.url:
                continue
            found.append(
                Entry(
                    file=path,
                    line=logical.line,
                    name=requirement.name,
                    key=pep508.key(requirement.name),
                    spec=str(requirement.specifier),
                    pinned=pep508.pinned(requirement),
                    hashed="--hash" in logical.text,
                    written=text_of,
                )
            )
        return found

    def admits(self, entry: Entry, version: str) -> bool:
        requirement = pep508.parse(f"{entry.name}{entry.spec}")
        return requirement is not None and pep508.admits(requirement, version)

    def bump(self, text: str, entry: Entry, installed: str, version: str) -> str:
        if entry.hashed:
            raise EditError(
                f"pinned with --hash: re-lock the file with {entry.name}>={version} "
                "(pip-compile --generate-hashes, uv pip compile --generate-hashes); not rewritten"
            )
        logical = next((lg for lg in _logical_lines(text) if lg.line == entry.line), None)
        if logical is None:
            raise EditError("the line is gone")
        raw = text[logical.start : logical.end]
        comment = _COMMENT.search(raw)
        body = raw[: comment.start()] if comment else raw
        requirement = _requirement_text(body)
        if logical.lines > 1 or not requirement or requirement not in body:
            raise EditError("the requirement is written across lines; edit it by hand")
        at = logical.start + body.index(requirement)
        new = pep508.raise_to(requirement, installed, version)
        return text[:at] + new + text[at + len(requirement) :]
