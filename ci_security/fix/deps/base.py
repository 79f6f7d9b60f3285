"""The contract of a dependency manifest format `ci-security fix` can bump: which files it is, the
entries it declares (each with its line and, when it pins one, the exact version), and the edit that
raises one entry to a version, in place, byte for byte, checked by reading the file back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol


class EditError(Exception):
    """The entry cannot be changed in place; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One declared dependency: `name` as written, `key` as matched (normalised), `spec` the
    constraint as written ("" for none), `pinned` the exact version it pins (None for a range), and
    `hashed` when the line carries `--hash` options (a lock: bumping it means re-locking). `where`
    is the format's own locator (the TOML table, the JSON section), `written` the declaration as
    people read it (`requests==2.19.0`, `"lodash": "^4.17.15"`, `golang.org/x/text v0.3.5`).
    """

    file: str
    line: int
    name: str
    key: str
    spec: str
    pinned: str | None = None
    hashed: bool = False
    where: str = ""
    written: str = ""


class ManifestFormat(Protocol):
    """One kind of dependency manifest (requirements files, pyproject.toml, package.json, go.mod)."""

    name: ClassVar[str]
    package_type: ClassVar[str]  # the Package-URL type its entries are: pypi, npm, golang
    # What a person still has to do after the edit ("" when nothing): regenerate a lockfile.
    after: ClassVar[str]

    def matches(self, path: str) -> bool:
        """Whether the repository file `path` is one of these manifests."""
        ...

    def entries(self, text: str, path: str) -> list[Entry]:
        """The dependencies `text` declares; `EditError` when the file cannot be read as one."""
        ...

    def admits(self, entry: Entry, version: str) -> bool:
        """Whether the entry's constraint allows `version` (so this entry put it there)."""
        ...

    def bump(self, text: str, entry: Entry, installed: str, version: str) -> str:
        """`text` with `entry` raised to `version` at least, nothing else changed; `EditError` when
        that cannot be done exactly, or when the constraint would still allow `installed`.
        """
        ...
