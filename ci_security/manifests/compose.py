"""Docker Compose files with the line of every key.

A compose file is a YAML mapping with a `services` mapping (the Compose Specification; the legacy
`version:` key is optional and ignored). A file named like a compose file (`compose.yaml`,
`docker-compose.prod.yml`, `app.compose.yaml`, …) needs nothing more; any other YAML file must also
have only the top-level keys the specification allows (`services`, `networks`, `volumes`, `x-…`, …),
so a Helm `values.yaml` or an Ansible file that happens to have a `services:` mapping is not taken
for one. A document with `apiVersion` and `kind` is Kubernetes, never compose.

Every document of the file counts: `docker compose` (compose-go, since 2023) reads a multi-document
stream as layers merged in order, as if each document were one more `-f` file, so a `privileged: true`
in a second document is applied and must be checked. `services()` yields every definition of every
layer; `setting()` answers which definition decides a key of a service (the last layer that sets it,
then, for `inherit=True`, the in-file service it `extends`), so a value overridden by a later layer
is not reported and a missing key is looked up where compose would find it.

Each `Service` carries its document's positions, so a rule points at `services.db.privileged` or,
when a key is missing, at the service itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ci_security.manifests.yamldoc import Path, Positions, YamlDocument, load_documents

# The Compose Specification's top-level elements; `x-` extensions are allowed besides.
TOP_LEVEL_KEYS = frozenset(
    {"version", "name", "services", "networks", "volumes", "secrets", "configs", "include", "models"}
)
_COMPOSE_NAME = re.compile(r"(?:^|[._-])compose(?:[._-]|$)")


@dataclass(frozen=True, slots=True)
class Service:
    """One definition of a service in one document (layer) of the file."""

    name: str
    data: dict[str, Any]
    path: Path  # ("services", name) inside its document
    positions: Positions
    document: int  # 0-based index of the document in the YAML stream

    @property
    def resource(self) -> str:
        return f"service {self.name}"

    def line(self, *keys: str | int) -> int:
        """Line of `keys` below the service, or of its nearest existing parent."""
        return self.positions.line((*self.path, *keys))

    def exact(self, *keys: str | int) -> int | None:
        return self.positions.exact((*self.path, *keys))

    def get(self, *keys: str | int) -> Any:
        """The value at `keys` below the service, or None."""
        value: Any = self.data
        for key in keys:
            if isinstance(value, dict):
                value = value.get(key)
            elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
                value = value[key]
            else:
                return None
        return value


@dataclass(frozen=True, slots=True)
class NamedVolume:
    """One definition of a top-level named volume (`volumes.<name>`)."""

    name: str
    data: dict[str, Any]
    path: Path  # ("volumes", name)
    positions: Positions

    @property
    def resource(self) -> str:
        return f"volume {self.name}"

    def line(self, *keys: str | int) -> int:
        return self.positions.line((*self.path, *keys))


@dataclass(frozen=True, slots=True)
class ComposeFile:
    """A compose file: its compose documents, in order (compose merges them as layers)."""

    path: str  # repository-relative file path
    documents: tuple[YamlDocument, ...]
    _definitions: dict[str, list[Service]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        definitions: dict[str, list[Service]] = {}
        for doc in self.documents:
            services = doc.data.get("services")
            if not isinstance(services, dict):
                continue
            for name, data in services.items():
                if isinstance(data, dict):
                    service = Service(str(name), data, ("services", name), doc.positions, doc.index)
                    definitions.setdefault(service.name, []).append(service)
        object.__setattr__(self, "_definitions", definitions)

    def line(self, *path: str | int) -> int:
        """Line of `path` (from the top of a document): in the first document that has it, else of its
        nearest existing parent in the first document. Rules use `Service.line`, which knows its layer.
        """
        found = self.exact(*path)
        return found if found is not None else self.documents[0].positions.line(path)

    def exact(self, *path: str | int) -> int | None:
        for doc in self.documents:
            found = doc.positions.exact(path)
            if found is not None:
                return found
        return None

    def services(self) -> Iterator[Service]:
        """Every service definition of every layer, grouped by service, in order of appearance."""
        for definitions in self._definitions.values():
            yield from definitions

    def names(self) -> list[str]:
        return list(self._definitions)

    def definitions(self, name: str) -> list[Service]:
        """The definitions of service `name`, one per layer that has it, in layer order."""
        return list(self._definitions.get(name, ()))

    def chain(self, name: str) -> list[Service]:
        """Where compose looks up a key of service `name`, highest precedence first: its own layers,
        last first, then those of the service it `extends` in this file, and so on. `extends` of
        another file cannot be followed and ends the chain.
        """
        found: list[Service] = []
        seen: set[str] = set()
        current: str | None = name
        while current is not None and current not in seen:
            seen.add(current)
            own = self._definitions.get(current, [])
            found.extend(reversed(own))
            current = _extended(own)
        return found

    def setting(self, name: str, key: str, *, inherit: bool = False) -> tuple[Service, Any] | None:
        """The definition that decides `key` of service `name`, and its value, or None when no
        layer sets it (with `inherit`, the services it extends are searched too).
        """
        candidates = self.chain(name) if inherit else list(reversed(self._definitions.get(name, [])))
        for service in candidates:
            if key in service.data:
                return service, service.data[key]
        return None

    def named_volumes(self) -> Iterator[NamedVolume]:
        """Every definition of a top-level named volume, in every layer."""
        for doc in self.documents:
            volumes = doc.data.get("volumes")
            if not isinstance(volumes, dict):
                continue
            for name, data in volumes.items():
                if isinstance(data, dict):
                    yield NamedVolume(str(name), data, ("volumes", name), doc.positions)


def _extended(definitions: Sequence[Service]) -> str | None:
    """The in-file service the last layer's `extends` names, if any."""
    for service in reversed(definitions):
        extends = service.data.get("extends")
        if isinstance(extends, str):
            return extends
        if isinstance(extends, dict):
            target = extends.get("service")
            if extends.get("file") or not isinstance(target, str):
                return None
            return target
    return None


def is_compose_name(path: str) -> bool:
    """Whether the file name says compose: `compose.yaml`, `docker-compose.override.yml`, `x.compose.yml`."""
    name = path.rsplit("/", 1)[-1].lower()
    stem = name.rsplit(".", 1)[0] if name.endswith((".yaml", ".yml")) else name
    return bool(_COMPOSE_NAME.search(stem))


def _is_kubernetes(data: dict[Any, Any]) -> bool:
    return isinstance(data.get("apiVersion"), str) and isinstance(data.get("kind"), str)


def _only_compose_keys(data: dict[Any, Any]) -> bool:
    return all(isinstance(key, str) and (key in TOP_LEVEL_KEYS or key.startswith("x-")) for key in data)


def compose_layers(documents: Sequence[YamlDocument], path: str = "") -> list[YamlDocument] | None:
    """The documents compose would merge, or None when the file is not a compose file.

    A compose-named file keeps its mapping documents; any other file is compose only when every
    document is a mapping of compose top-level keys. Either way one layer must have `services`.
    """
    named = is_compose_name(path)
    layers = [
        doc
        for doc in documents
        if isinstance(doc.data, dict)
        and not _is_kubernetes(doc.data)
        and (named or _only_compose_keys(doc.data))
    ]
    if not named and len(layers) != len(documents):
        return None
    if not any(isinstance(doc.data.get("services"), dict) for doc in layers):
        return None
    return layers


def is_compose(documents: Sequence[YamlDocument], path: str = "") -> bool:
    return compose_layers(documents, path) is not None


def compose_from(path: str, documents: Sequence[YamlDocument]) -> ComposeFile | None:
    """The compose file in already loaded documents, or None when it is not one."""
    layers = compose_layers(documents, path)
    if layers is None:
        return None
    return ComposeFile(path, tuple(layers))


def load_compose(text: str, path: str) -> ComposeFile | None:
    """The compose file in `text`, or None (see `yamldoc.load_documents` for what raises)."""
    return compose_from(path, load_documents(text))
