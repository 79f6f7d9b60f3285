import random
from collections import deque

import pytest

from ci_security import limits
from ci_security.image.fsview import LayerIndex, MergedView, SymlinkLoopError
from ci_security.image.tarwalk import DIR, FILE, HARDLINK, OPAQUE, SYMLINK, WHITEOUT, Member


def _layer(*members: tuple) -> LayerIndex:
    index = LayerIndex()
    for path, kind, *link in members:
        index.add(Member(path, kind, 1 if kind == FILE else 0, link[0] if link else None))
    return index


def test_upper_layer_replaces_and_whiteout_deletes():
    view = MergedView(
        [
            _layer(("etc", DIR), ("etc/a", FILE), ("etc/b", FILE), ("var", DIR), ("var/lib/x", FILE)),
            _layer(("etc/a", FILE), ("etc/b", WHITEOUT), ("var/lib", WHITEOUT)),
        ]
    )
    assert view.lookup("etc/a")[0] == 1
    assert view.lookup("etc/b") is None
    assert view.lookup("var/lib/x") is None
    assert view.lookup("etc")[0] == 0


def test_opaque_directory_hides_lower_contents_only():
    view = MergedView(
        [
            _layer(("app", DIR), ("app/old.txt", FILE), ("app/keep", FILE)),
            _layer(("app", DIR), ("app", OPAQUE), ("app/new.txt", FILE)),
        ]
    )
    assert view.lookup("app/old.txt") is None
    assert view.lookup("app/new.txt")[0] == 1
    assert view.lookup("app/keep") is None


def test_file_over_directory_cuts_off_children():
    view = MergedView([_layer(("opt/tool/bin", FILE)), _layer(("opt/tool", FILE))])
    assert view.lookup("opt/tool/bin") is None
    assert view.lookup("opt/tool")[0] == 1


def test_whiteout_then_recreate_in_a_later_layer():
    view = MergedView([_layer(("x", FILE)), _layer(("x", WHITEOUT)), _layer(("x", FILE))])
    assert view.lookup("x")[0] == 2
    assert view.deleted_between("x", 0, 2)
    assert not view.deleted_between("x", 1, 2)


def test_symlinks_resolve_inside_the_root():
    view = MergedView(
        [
            _layer(
                ("usr/lib/os-release", FILE),
                ("etc/os-release", SYMLINK, "../usr/lib/os-release"),
                ("lib", SYMLINK, "usr/lib"),
                ("etc/abs", SYMLINK, "/usr/lib/os-release"),
                ("etc/escape", SYMLINK, "../../../../usr/lib/os-release"),
                ("etc/hard", HARDLINK, "usr/lib/os-release"),
            ),
        ]
    )
    assert view.content_location("etc/os-release") == (0, "usr/lib/os-release")
    assert view.content_location("lib/os-release") == (0, "usr/lib/os-release")
    assert view.content_location("etc/abs") == (0, "usr/lib/os-release")
    # `..` above the root stays at the root (chroot semantics), it never reaches the host.
    assert view.content_location("etc/escape") == (0, "usr/lib/os-release")
    assert view.content_location("etc/hard") == (0, "usr/lib/os-release")


def test_dangling_symlink_is_none():
    view = MergedView([_layer(("etc/os-release", SYMLINK, "../nowhere"))])
    assert view.content_location("etc/os-release") is None


def test_symlink_loop_is_bounded():
    view = MergedView([_layer(("a", SYMLINK, "b"), ("b", SYMLINK, "a"))])
    with pytest.raises(SymlinkLoopError, match="too many levels"):
        view.resolve("a")


def test_lookup_at_an_earlier_layer():
    view = MergedView([_layer(("f", FILE)), _layer(("f", WHITEOUT))])
    assert view.lookup("f", top=0) == (0, view.layers[0].entry("f"))
    assert view.lookup("f") is None


# --- resolution is linear and bounded; it agrees with the direct definition -------------------------


def _reference_resolve(view: MergedView, path: str, top: int | None = None, max_hops: int = 40):
    """The definition, step by step: every component looked up from scratch (quadratic, obviously right)."""
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
        hit = view.lookup(candidate, top)
        if hit is None:
            if not pending:
                return None
            resolved.append(part)
            continue
        entry = hit[1]
        if entry.kind == SYMLINK and entry.link is not None:
            hops += 1
            if hops > max_hops:
                raise SymlinkLoopError("loop")
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
    final = view.lookup(real, top)
    return None if final is None else (final[0], real, final[1])


def _random_view(rng: random.Random) -> MergedView:
    names = ["a", "b", "c", "d"]
    layers = []
    for _ in range(rng.randint(1, 4)):
        members = []
        for _ in range(rng.randint(1, 12)):
            path = "/".join(rng.choice(names) for _ in range(rng.randint(1, 3)))
            kind = rng.choice([FILE, DIR, DIR, SYMLINK, SYMLINK, WHITEOUT, OPAQUE, HARDLINK])
            if kind == SYMLINK:
                target = "/".join(rng.choice([*names, "..", "."]) for _ in range(rng.randint(1, 3)))
                members.append((path, kind, ("/" if rng.random() < 0.3 else "") + target))
            elif kind == HARDLINK:
                members.append((path, kind, rng.choice(names)))
            else:
                members.append((path, kind))
        layers.append(_layer(*members))
    return MergedView(layers)


def test_resolve_agrees_with_the_definition():
    rng = random.Random(1107)
    names = ["a", "b", "c", "d", "..", "."]
    for _ in range(3000):
        view = _random_view(rng)
        path = "/".join(rng.choice(names) for _ in range(rng.randint(1, 4)))
        top = rng.choice([None, 0, len(view.layers) - 1])
        try:
            expected = _reference_resolve(view, path, top)
        except SymlinkLoopError:
            with pytest.raises(SymlinkLoopError):
                view.resolve(path, top)
            continue
        assert view.resolve(path, top) == expected, (path, top)


def test_long_targets_and_deep_layer_stacks_stay_cheap():
    # 40 hops through targets of 1,700 components each (under the 4 KiB bound; 250 deep, the most a
    # real path may be), over 20 layers: linear resolution visits each of the ~70,000 components
    # once; the definition would look up every ancestor of each in every layer, again and again.
    climb = "/".join(["x"] * 250 + [".."] * 250 + ["."] * 1200)
    chain = [(f"s{i}", SYMLINK, f"{climb}/s{i + 1}") for i in range(41)]
    layers = [_layer(("x", DIR)) for _ in range(19)] + [_layer(*chain)]
    view = MergedView(layers)
    with pytest.raises(SymlinkLoopError, match="too many levels"):
        view.resolve("s0")
    # Paths deeper than any layer may hold end the walk without looking further.
    assert view.resolve("/".join(["q"] * 300) + "/file") is None


def test_symlink_hops_follow_the_limit():
    chain = [(f"l{i}", SYMLINK, f"l{i + 1}") for i in range(5)] + [("l5", FILE)]
    view = MergedView([_layer(*chain)])
    assert view.content_location("l0") == (0, "l5")
    fewer = limits.with_overrides(limits.DEFAULTS, {"symlink_hops": "4"})
    with limits.use(fewer), pytest.raises(SymlinkLoopError):
        view.content_location("l0")
