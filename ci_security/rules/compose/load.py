"""Docker Compose files with the line of every key.

A compose file is a YAML mapping with a `services` mapping (the Compose Specification; the legacy
`version:` key is optional and ignored). Only the first document counts, as `docker compose` reads
it. `services()` yields each service with its path, so a rule can point at `services.db.privileged`
or, when a key is missing, at the service itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ci_security.rules.yamldoc import Path, Positions, YamlDocument, load_documents


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    data: dict[str, Any]
    path: Path  # ("services", name)


@dataclass(frozen=True, slots=True)
class ComposeFile:
    path: str  # repository-relative file path
    data: dict[str, Any]
    positions: Positions

    def line(self, *path: str | int) -> int:
        """Line of `path`, or of its nearest existing parent."""
        return self.positions.line(path)

    def exact(self, *path: str | int) -> int | None:
        return self.positions.exact(path)

    def services(self) -> Iterator[Service]:
        services = self.data.get("services")
        if not isinstance(services, dict):
            return
        for name, data in services.items():
            if isinstance(data, dict):
                yield Service(str(name), data, ("services", name))


def is_compose(documents: Sequence[YamlDocument]) -> bool:
    if not documents:
        return False
    data = documents[0].data
    return isinstance(data, dict) and isinstance(data.get("services"), dict) and "kind" not in data


def compose_from(path: str, documents: Sequence[YamlDocument]) -> ComposeFile | None:
    """The compose file in already loaded documents, or None when it is not one."""
    if not is_compose(documents):
        return None
    return ComposeFile(path, documents[0].data, documents[0].positions)


def load_compose(text: str, path: str) -> ComposeFile | None:
    """The compose file in `text`, or None (see `yamldoc.load_documents` for what raises)."""
    return compose_from(path, load_documents(text))
