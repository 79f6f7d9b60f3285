"""Packages in use: which packages had a file opened, mapped or executed during the dynamic run.

The run's `files_read` are real paths inside the image (symlinks resolved by the kernel or, for
executed paths, by the image's merged view). Each is mapped back to the packages whose files they
are, from what the catalogers know:

- OS packages (dpkg, apk, rpm): the file lists their databases hold (`Inventory.owners`). The
  listed paths are resolved through the image's view the same way (`/lib/x86_64-linux-gnu/libc.so.6`
  is `usr/lib/…` in a merged-/usr image), so both sides name the same file.
- A language package installed by an OS package (`python3-six`'s `six`) is in use when its OS
  package is.
- Python distributions: the files their `RECORD` lists (wheels, pip), else the top-level packages
  in `top_level.txt`; a compiled `__pycache__/NAME.cpython-311.pyc` counts as its `NAME.py`.
- npm packages: any file under the package's folder (not under its own `node_modules`).
- Java archives and Go or Rust binaries: the archive or binary itself.
- Ruby gems: any file under `gems/NAME-VERSION/` beside the gemspec's `specifications/`.

A package is `in_use` True when one of its files was read, False when its files are known and none
was, and None when they are not known (a lockfile-only package such as a .NET `deps.json` entry).
This is the evidence of one bounded run: code that is loaded later, or only on some requests, is
not seen (docs/dynamic.md).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from ci_security.models import Package
from ci_security.models.packagetype import is_os_type
from ci_security.sandbox.rootfs import Rootfs

_PYC = re.compile(r"^(.*)/__pycache__/([^/.]+)\.[^/]+\.pyc$")
_MAX_RECORD = 4 << 20
_ARCHIVES = frozenset({"maven"})
_BINARIES = frozenset({"golang", "cargo"})


class _Resolver:
    """Root-relative real paths, with the directory part of each path resolved once."""

    def __init__(self, rootfs: Rootfs) -> None:
        self.rootfs = rootfs
        self._dirs: dict[str, str | None] = {}

    def real(self, path: str) -> str | None:
        path = path.lstrip("/")
        directory, base = posixpath.split(path)
        if directory not in self._dirs:
            self._dirs[directory] = self.rootfs.real_path(directory) if directory else ""
        parent = self._dirs[directory]
        if parent is None:
            return None
        candidate = f"{parent}/{base}" if parent else base
        found = self.rootfs.view.lookup(candidate)
        if found is not None and found[1].kind == "l":
            return self.rootfs.real_path(candidate)
        return candidate


def _with_sources(paths: Iterable[str]) -> set[str]:
    """`paths` plus the source file of each compiled Python module among them."""
    out = set()
    for path in paths:
        out.add(path)
        match = _PYC.match(path)
        if match is not None:
            out.add(f"{match.group(1)}/{match.group(2)}.py")
    return out


def _python_files(pkg: Package, rootfs: Rootfs, resolver: _Resolver) -> list[str] | None:
    evidence = pkg.path.lstrip("/")
    if evidence.endswith(".dist-info/METADATA"):
        info_dir = posixpath.dirname(evidence)
        site = posixpath.dirname(info_dir)
        record = rootfs.read_head(resolver.real(f"{info_dir}/RECORD") or "", _MAX_RECORD)
        if record:
            files = []
            for line in record.decode("utf-8", "replace").splitlines():
                name = line.rsplit(",", 2)[0] if line.count(",") >= 2 else line
                if name and not name.startswith("/"):
                    files.append(posixpath.normpath(posixpath.join(site, name)))
            return files
        return _top_level(info_dir, site, rootfs, resolver)
    if evidence.endswith("/PKG-INFO"):
        info_dir = posixpath.dirname(evidence)
        return _top_level(info_dir, posixpath.dirname(info_dir), rootfs, resolver)
    return None


def _top_level(info_dir: str, site: str, rootfs: Rootfs, resolver: _Resolver) -> list[str] | None:
    names = rootfs.read_head(resolver.real(f"{info_dir}/top_level.txt") or "", 64 << 10)
    if not names:
        return None
    prefixes = []
    for name in names.decode("utf-8", "replace").split():
        if name and "/" not in name and name not in (".", ".."):
            prefixes += [f"{site}/{name}/", f"{site}/{name}.py"]
    return prefixes or None


def _prefix_used(prefixes: Sequence[str], read: set[str], resolver: _Resolver) -> bool:
    """True when a file of `prefixes` was read: a path ending in `/` stands for everything under it."""
    for prefix in prefixes:
        real = resolver.real(prefix.rstrip("/"))
        if real is None:
            continue
        if prefix.endswith("/"):
            if any(path.startswith(real + "/") for path in read):
                return True
        elif real in read:
            return True
    return False


def mark_in_use(
    packages: Sequence[Package], owners: Mapping[str, str], files_read: Iterable[str], rootfs: Rootfs
) -> tuple[Package, ...]:
    """`packages` with `in_use` set (see the module docstring)."""
    resolver = _Resolver(rootfs)
    read = _with_sources(path.lstrip("/") for path in files_read)
    listed: set[str] = set()
    used: set[str] = set()
    for path, owner in owners.items():
        listed.add(owner)
        if owner in used:
            continue
        real = resolver.real(path)
        if real is not None and real in read:
            used.add(owner)

    def os_state(name: str) -> bool | None:
        if name in used:
            return True
        return False if name in listed else None

    out = []
    for pkg in packages:
        state: bool | None
        if is_os_type(pkg.type) and pkg.found_by.startswith("os/"):
            state = os_state(pkg.name)
        elif pkg.installed_by:
            state = os_state(pkg.installed_by)
        elif pkg.type == "pypi":
            files = _python_files(pkg, rootfs, resolver)
            state = None if files is None else _prefix_used(files, read, resolver)
        elif pkg.type == "npm":
            folder = posixpath.dirname(pkg.path.lstrip("/"))
            real = resolver.real(folder)
            state = (
                None
                if real is None
                else any(p.startswith(real + "/") and "/node_modules/" not in p[len(real) :] for p in read)
            )
        elif pkg.type in _ARCHIVES or pkg.type in _BINARIES:
            outer = pkg.path.lstrip("/").split("!/", 1)[0]
            real = resolver.real(outer)
            state = None if real is None else real in read
        elif pkg.type == "gem" and "/specifications/" in pkg.path:
            base, _, spec = pkg.path.lstrip("/").rpartition("/specifications/")
            state = _prefix_used([f"{base}/gems/{spec.removesuffix('.gemspec')}/"], read, resolver)
        else:
            state = None
        out.append(replace(pkg, in_use=state))
    return tuple(out)
