import pytest

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
