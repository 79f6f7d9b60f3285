"""The image's filesystem as the container would see it, computed from per-layer indexes.

Each layer contributes a `LayerIndex` (every entry it writes, its whiteouts and opaque directories),
built during the single walk. `MergedView` answers "which layer's entry is visible at this path" by
looking from the top layer down, applying the OCI rules: an entry in a layer hides the same path
below it; a whiteout `.wh.NAME` deletes NAME and everything under it from lower layers; an opaque
marker `.wh..wh..opq` hides a directory's lower contents; a non-directory written over a directory
cuts off everything below it. `resolve` follows symlinks inside the image root (never the host's),
clamping `..` at the root and giving up after `MAX_SYMLINK_HOPS` links, as Linux does with ELOOP.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import NamedTuple

from ci_security.errors import LayerError
from ci_security.image.tarwalk import DIR, FILE, HARDLINK, OPAQUE, SYMLINK, WHITEOUT, Member

MAX_SYMLINK_HOPS = 40


class SymlinkLoopError(LayerError):
    """Resolving a path took more than `MAX_SYMLINK_HOPS` symlinks."""


class Entry(NamedTuple):
    """What one layer holds at one path: the entry kind and, for links, the target."""

    kind: str
    link: str | None


def _ancestors(path: str) -> list[str]:
    out = []
    pos = path.find("/")
    while pos >= 0:
        out.append(path[:pos])
        pos = path.find("/", pos + 1)
    return out


class LayerIndex:
    """Everything one layer writes, keyed by root-relative path.

    The kind of each entry and the targets of its links are two plain dicts rather than an object
    per entry: a layer has tens of thousands of entries, and the index is cached.
    """

    __slots__ = ("kinds", "links", "opaque", "whiteouts")

    def __init__(self) -> None:
        self.kinds: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.whiteouts: set[str] = set()
        self.opaque: set[str] = set()

    def add(self, member: Member) -> None:
        kind = member.kind
        if kind == WHITEOUT:
            self.whiteouts.add(member.path)
        elif kind == OPAQUE:
            self.opaque.add(member.path)
        elif member.path:
            self.kinds[member.path] = kind
            if member.link is not None:
                self.links[member.path] = member.link

    def entry(self, path: str) -> Entry | None:
        kind = self.kinds.get(path)
        return None if kind is None else Entry(kind, self.links.get(path))

    def hides_below(self, path: str, ancestors: Sequence[str]) -> bool:
        """True if this layer makes `path` from lower layers invisible (it does not look at an entry
        this layer itself writes at `path`).
        """
        if path in self.whiteouts:
            return True
        for anc in ancestors:
            if anc in self.whiteouts or anc in self.opaque:
                return True
            kind = self.kinds.get(anc)
            if kind is not None and kind != DIR:
                return True
        return False


class MergedView:
    """The squashed filesystem of a stack of layers (index 0 is the base)."""

    def __init__(self, layers: Sequence[LayerIndex]) -> None:
        self.layers = layers

    def lookup(self, path: str, top: int | None = None) -> tuple[int, Entry] | None:
        """The visible entry at `path` (no symlink following) and the layer that wrote it, as the
        filesystem is after layer `top` (default: the whole image).
        """
        ancestors = _ancestors(path)
        start = len(self.layers) - 1 if top is None else top
        for index in range(start, -1, -1):
            layer = self.layers[index]
            entry = layer.entry(path)
            if entry is not None:
                return index, entry
            if layer.hides_below(path, ancestors):
                return None
        return None

    def resolve(self, path: str, top: int | None = None) -> tuple[int, str, Entry] | None:
        """Follow symlinks in every component of `path`; return the layer, the real path and the
        entry it ends at, or None when something on the way does not exist. Absolute link targets
        start again at the image root and `..` never climbs above it.
        """
        pending = deque(part for part in path.split("/") if part)
        resolved: list[str] = []
        hops = 0
        while pending:
            part = pending.popleft()
            if part == ".":
                continue
            if part == "..":
                if resolved:
                    resolved.pop()
                continue
            candidate = "/".join([*resolved, part])
            hit = self.lookup(candidate, top)
            if hit is None:
                if not pending:
                    return None
                # Tars may omit parent directories; they exist implicitly if anything lies below.
                resolved.append(part)
                continue
            entry = hit[1]
            if entry.kind == SYMLINK and entry.link is not None:
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    raise SymlinkLoopError(f"too many levels of symbolic links resolving /{path}")
                if entry.link.startswith("/"):
                    resolved = []
                pending.extendleft(reversed([p for p in entry.link.split("/") if p]))
                continue
            if pending and entry.kind != DIR:
                return None
            resolved.append(part)
        if not resolved:
            return None
        real = "/".join(resolved)
        final = self.lookup(real, top)
        if final is None:
            return None
        return final[0], real, final[1]

    def content_location(self, path: str) -> tuple[int, str] | None:
        """Where the bytes of the regular file visible at `path` live: (layer, member path).
        Symlinks are followed and hard links point at the member they share data with.
        """
        found = self.resolve(path)
        if found is None:
            return None
        layer, real, entry = found
        if entry.kind == FILE:
            return layer, real
        if entry.kind == HARDLINK and entry.link is not None:
            return layer, entry.link
        return None

    def deleted_between(self, path: str, low: int, high: int) -> bool:
        """True if some layer strictly between `low` and `high` removes or replaces `path`."""
        ancestors = _ancestors(path)
        for index in range(low + 1, high):
            layer = self.layers[index]
            kind = layer.kinds.get(path)
            if kind is not None and kind != FILE:
                return True
            if layer.hides_below(path, ancestors):
                return True
        return False
