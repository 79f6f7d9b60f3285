"""The image's filesystem as the container would see it, computed from per-layer indexes.

Each layer contributes a `LayerIndex` (every entry it writes, its whiteouts and opaque directories),
built during the single walk. `MergedView` answers "which layer's entry is visible at this path" by
looking from the top layer down, applying the OCI rules: an entry in a layer hides the same path
below it; a whiteout `.wh.NAME` deletes NAME and everything under it from lower layers; an opaque
marker `.wh..wh..opq` hides a directory's lower contents; a non-directory written over a directory
cuts off everything below it. `resolve` follows symlinks inside the image root (never the host's),
clamping `..` at the root and giving up after `symlink_hops` links (the limit; 40 like Linux's ELOOP).

Resolution is linear in the components it visits: what hides a path from lower layers is carried
down the path as it is walked, so a symlink target of thousands of components (bounded by
`symlink_target_bytes`) costs one lookup per component, not one per component and ancestor. A path
longer than `path_bytes` or `path_components` cannot exist in a layer (the walker refuses such
names), so resolution stops there.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import NamedTuple

from ci_security import limits
from ci_security.errors import LayerError
from ci_security.image.tarwalk import DIR, FILE, HARDLINK, OPAQUE, SYMLINK, WHITEOUT, Member


class SymlinkLoopError(LayerError):
    """Resolving a path took more than `symlink_hops` symlinks."""


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

    def _step(self, path: str, above: int, top: int) -> tuple[int | None, int]:
        """One component of a walk: the layer whose entry is visible at `path` (None if none), and
        the layer below which everything under `path` is hidden. `above` is that bound for the
        parent, so the ancestors need not be looked at again.
        """
        entry_layer = -1
        whiteout = -1
        below = above
        for index in range(top, -1, -1):
            layer = self.layers[index]
            kind = layer.kinds.get(path)
            if kind is not None:
                if entry_layer < 0:
                    entry_layer = index
                if kind != DIR and below < index:
                    below = index
            if path in layer.whiteouts:
                if whiteout < 0:
                    whiteout = index
                if below < index:
                    below = index
            if below < index and path in layer.opaque:
                below = index
            if index <= above:
                break  # nothing lower is visible: an ancestor hides it
        visible = entry_layer if entry_layer >= 0 and entry_layer >= max(above, whiteout) else None
        return visible, below

    def resolve(self, path: str, top: int | None = None) -> tuple[int, str, Entry] | None:
        """Follow symlinks in every component of `path`; return the layer, the real path and the
        entry it ends at, or None when something on the way does not exist. Absolute link targets
        start again at the image root and `..` never climbs above it.
        """
        active = limits.active()
        top = len(self.layers) - 1 if top is None else top
        pending = deque(part for part in path.split("/") if part)
        # (path so far, layer below which its contents are hidden); the root hides nothing.
        frames: list[tuple[str, int]] = [("", -1)]
        hops = 0
        while pending:
            part = pending.popleft()
            if part == ".":
                continue
            if part == "..":
                if len(frames) > 1:
                    frames.pop()
                continue
            parent, above = frames[-1]
            candidate = f"{parent}/{part}" if parent else part
            if len(frames) > active.path_components or len(candidate) > active.path_bytes:
                return None  # longer than any path a layer may hold
            visible, below = self._step(candidate, above, top)
            if visible is None:
                if not pending:
                    return None
                # Tars may omit parent directories; they exist implicitly if anything lies below.
                frames.append((candidate, below))
                continue
            layer = self.layers[visible]
            kind = layer.kinds[candidate]
            if kind == SYMLINK:
                link = layer.links.get(candidate)
                if link is None:
                    return None
                hops += 1
                if hops > active.symlink_hops:
                    raise SymlinkLoopError(f"too many levels of symbolic links resolving /{path[:200]}")
                if len(link) > active.symlink_target_bytes:
                    raise SymlinkLoopError(f"symbolic link /{candidate[:200]} has an implausibly long target")
                if link.startswith("/"):
                    del frames[1:]
                pending.extendleft(reversed([p for p in link.split("/") if p]))
                continue
            if pending and kind != DIR:
                return None
            frames.append((candidate, below))
        real = frames[-1][0]
        if not real:
            return None
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

    def covered_above(self, path: str, layer: int) -> bool:
        """True when a layer above `layer` holds an entry at `path` or hides it from the layers below,
        so what `layer` has at `path` is not what the merged filesystem shows. Needs only the indexes
        of the layers above `layer` (the sandbox unpacks from the top layer down).
        """
        ancestors = _ancestors(path)
        for index in range(len(self.layers) - 1, layer, -1):
            upper = self.layers[index]
            if upper.entry(path) is not None or upper.hides_below(path, ancestors):
                return True
        return False

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
