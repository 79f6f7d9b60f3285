"""Unpack an image's filesystem into a private directory for the sandbox, as the container would see it.

The layers are read once each, from the top layer down, with the tar walker every scan uses
(`image.tarwalk`: digests verified, names normalised, absolute names and `..` escapes refused, every
size bounded). Each layer's `LayerIndex` is built as it is read, so when a lower layer is read the
indexes of all layers above it are complete: an entry is written only if no upper layer has an
entry at the same path or hides it (a whiteout of the path or of a parent, an opaque parent, a
parent replaced by a non-directory). That is the OCI merge `image.fsview.MergedView` computes for
the scan, applied without ever deleting anything from disk. The merged view of all layers is kept
(`Rootfs.view`) so paths the image's processes used can be resolved exactly as they were.

What is written, and what is not:
- regular files with their permission bits, setuid and setgid included: they stay inside the
  private directory (mode 0700), which no other user of the host can enter;
- directories (mode 0755: layers carry no directory modes through the walker) and symbolic links
  with their targets as written. A link's target is only ever followed inside the sandbox, whose
  root is this directory;
- hard links, after all layers, to the file now visible at their target;
- no device nodes, fifos or sockets (a container runtime would create them; the sandbox's `/dev` is
  its own);
- nothing through a symlink: every path is created component by component with `O_NOFOLLOW`
  relative to the directory above it, so a layer that plants `a -> /etc` and then writes `a/passwd`
  writes nothing outside: the file is skipped and counted. (When the link is in a lower layer and
  the file in an upper one, the upper layer is unpacked first, its file goes into a real folder `a`,
  and the link is the entry left out and counted.)

Bytes written are charged to the image's `spool_bytes` budget (the same bound as every other file
the scan writes to its temp dir). The mount points the sandbox needs (`proc`, `dev`, `tmp`, `run`,
`var/tmp`) are created when the image lacks them, as container runtimes do.
"""

from __future__ import annotations

import contextlib
import errno
import os
import posixpath
import shutil
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ci_security.errors import LayerError
from ci_security.image.base import Image
from ci_security.image.fsview import LayerIndex, MergedView
from ci_security.image.tarwalk import DIR, FILE, HARDLINK, OTHER, SYMLINK, LayerWalker

MOUNT_POINTS = ("proc", "dev", "tmp", "run", "var/tmp")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_COPY_CHUNK = 1 << 20


class UnsafePathError(Exception):
    """A path component on disk is not a real directory (a symlink, a file): nothing is written there."""


@dataclass(slots=True)
class UnpackStats:
    """What the unpacking did: entries written, and entries left out and why."""

    files: int = 0
    directories: int = 0
    symlinks: int = 0
    hardlinks: int = 0
    bytes: int = 0
    special: int = 0  # device nodes, fifos, sockets: never created
    unsafe: int = 0  # under a parent that is a symlink or a file on disk
    dangling_hardlinks: int = 0


@dataclass(slots=True)
class Rootfs:
    """An unpacked image filesystem: its directory, the merged view of its layers, and statistics."""

    path: Path
    view: MergedView
    stats: UnpackStats = field(default_factory=UnpackStats)

    def real_path(self, path: str) -> str | None:
        """`path` (absolute or root-relative, as a process in the sandbox named it) with every symlink
        resolved inside the image, as a root-relative path; None when nothing is there. Paths created
        at run time (in /tmp) are not in the image and resolve to None.
        """
        normal = posixpath.normpath("/" + path).lstrip("/")
        if not normal or normal == ".":
            return None
        try:
            found = self.view.resolve(normal)
        except LayerError:
            return None  # a symlink loop: the path leads nowhere
        return found[1] if found is not None else None

    def read_head(self, path: str, size: int) -> bytes | None:
        """Up to `size` bytes from the start of the regular file at root-relative `path` (no symlink
        is followed on disk: resolve with `real_path` first); None when it is not a regular file.
        """
        try:
            with _DirFd(self.path) as root:
                parent, base = root.walk(path, create=False)
                try:
                    fd = os.open(
                        base, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=parent
                    )
                finally:
                    if parent != root.fd:
                        os.close(parent)
                try:
                    if not stat.S_ISREG(os.fstat(fd).st_mode):
                        return None
                    return os.read(fd, size)
                finally:
                    os.close(fd)
        except (OSError, UnsafePathError):
            return None


class _DirFd:
    """A directory opened as the root of component-by-component walks that never follow symlinks."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, _DIR_FLAGS)

    def __enter__(self) -> _DirFd:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def walk(self, path: str, *, create: bool, owner: tuple[int, int] | None = None) -> tuple[int, str]:
        """The directory holding root-relative `path` (an fd the caller closes unless it is `self.fd`)
        and the last component. With `create`, missing directories are made (mode 0755, `owner`).
        A component that exists but is not a directory raises `UnsafePathError`.
        """
        parts = [p for p in path.split("/") if p]
        if not parts:
            raise UnsafePathError(path)
        current = self.fd
        try:
            for part in parts[:-1]:
                if part in (".", ".."):
                    raise UnsafePathError(path)
                try:
                    child = os.open(part, _DIR_FLAGS, dir_fd=current)
                except FileNotFoundError:
                    if not create:
                        raise
                    os.mkdir(part, 0o755, dir_fd=current)
                    if owner is not None:
                        os.chown(part, *owner, dir_fd=current, follow_symlinks=False)
                    child = os.open(part, _DIR_FLAGS, dir_fd=current)
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise UnsafePathError(path) from None
                    raise
                if current != self.fd:
                    os.close(current)
                current = child
        except BaseException:
            if current != self.fd:
                os.close(current)
            raise
        return current, parts[-1]


class _Writer:
    """Creates entries under the root directory, each relative to its parent's fd. The fds of the
    last few parent folders are kept open (layers list a folder's entries together): a folder, once
    made, is never removed or replaced, so a kept fd always names the right one.
    """

    _KEEP = 32

    def __init__(self, root: _DirFd, stats: UnpackStats, owner: tuple[int, int] | None, image: Image) -> None:
        self.root = root
        self.stats = stats
        self.owner = owner
        self.image = image
        self._parents: dict[str, int] = {}

    def close(self) -> None:
        for fd in self._parents.values():
            os.close(fd)
        self._parents.clear()

    def _chown(self, base: str, parent: int) -> None:
        if self.owner is not None:
            os.chown(base, *self.owner, dir_fd=parent, follow_symlinks=False)

    @contextlib.contextmanager
    def _parent(self, path: str) -> Iterator[tuple[int, str]]:
        folder, _, base = path.rpartition("/")
        kept = self._parents.get(folder)
        if kept is not None:
            yield kept, base
            return
        parent, base = self.root.walk(path, create=True, owner=self.owner)
        if parent != self.root.fd:
            if len(self._parents) >= self._KEEP:
                oldest = next(iter(self._parents))
                os.close(self._parents.pop(oldest))
            self._parents[folder] = parent
        yield parent, base

    def directory(self, path: str) -> None:
        with self._parent(path) as (parent, base):
            try:
                os.mkdir(base, 0o755, dir_fd=parent)
            except FileExistsError:
                return
            self._chown(base, parent)
            self.stats.directories += 1

    def symlink(self, path: str, target: str) -> None:
        with self._parent(path) as (parent, base):
            _replace_non_directory(base, parent)
            os.symlink(target, base, dir_fd=parent)
            self._chown(base, parent)
            self.stats.symlinks += 1

    def file(self, path: str, mode: int, size: int, stream: BinaryIO, label: str) -> None:
        self.image.budget.charge_spool(size, label)
        with self._parent(path) as (parent, base):
            _replace_non_directory(base, parent)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(base, flags, 0o600, dir_fd=parent)
            try:
                with os.fdopen(fd, "wb", closefd=False) as out:
                    shutil.copyfileobj(stream, out, _COPY_CHUNK)
                if self.owner is not None:
                    os.fchown(fd, *self.owner)
                # Set last: a setuid bit would be cleared by the chown. It stays inside the 0700 dir.
                os.fchmod(fd, mode & 0o7777)
            finally:
                os.close(fd)
        self.stats.files += 1
        self.stats.bytes += size

    def hardlink(self, path: str, target: str) -> bool:
        src_parent, src_base = self.root.walk(target, create=False)
        try:
            try:
                info = os.stat(src_base, dir_fd=src_parent, follow_symlinks=False)
            except FileNotFoundError:
                return False
            if not stat.S_ISREG(info.st_mode):
                return False
            with self._parent(path) as (parent, base):
                _replace_non_directory(base, parent)
                os.link(src_base, base, src_dir_fd=src_parent, dst_dir_fd=parent, follow_symlinks=False)
        finally:
            if src_parent != self.root.fd:
                os.close(src_parent)
        self.stats.hardlinks += 1
        return True


def _replace_non_directory(base: str, parent: int) -> None:
    """Remove what a duplicate entry of the same layer wrote earlier (the later entry wins in a tar);
    a directory is never removed.
    """
    try:
        info = os.stat(base, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        os.unlink(base, dir_fd=parent)


def unpack(image: Image, dest: Path, *, owner: tuple[int, int] | None = None) -> Rootfs:
    """Unpack `image` into the empty directory `dest` (see the module docstring); `owner` is the
    uid and gid every entry is given (the sandbox's own, when it runs as another user than us).
    """
    count = len(image.layers)
    indexes: list[LayerIndex] = [LayerIndex() for _ in range(count)]
    view = MergedView(indexes)
    stats = UnpackStats()
    hardlinks: list[tuple[str, str]] = []
    with _DirFd(dest) as root, contextlib.closing(_Writer(root, stats, owner, image)) as writer:
        for position in range(count - 1, -1, -1):
            layer = image.layers[position]
            label = f"{image.reference}: layer {layer.digest}"
            index = indexes[position]
            with LayerWalker(image.blobs[position], label, None, image.budget) as walker:
                for member in walker:
                    index.add(member)
                    path = member.path
                    if member.kind == OTHER:
                        stats.special += 1
                        continue
                    if not path or member.kind not in (FILE, DIR, SYMLINK, HARDLINK):
                        continue  # the root itself, whiteouts and opaque markers: index only
                    if view.covered_above(path, position):
                        continue
                    try:
                        if member.kind == DIR:
                            writer.directory(path)
                        elif member.kind == SYMLINK:
                            writer.symlink(path, member.link or "")
                        elif member.kind == HARDLINK:
                            hardlinks.append((path, member.link or ""))
                        else:
                            writer.file(path, member.mode, member.size, walker.open_member(), label)
                    except UnsafePathError:
                        stats.unsafe += 1
                    except FileExistsError:
                        stats.unsafe += 1  # a directory where this layer puts a file: the upper entry stays
        for path, target in hardlinks:
            try:
                if not writer.hardlink(path, target):
                    stats.dangling_hardlinks += 1
            except (UnsafePathError, FileNotFoundError, FileExistsError):
                stats.unsafe += 1
        for mount_point in MOUNT_POINTS:
            # Where a mount point cannot be made, the sandbox's mount fails and says so.
            with contextlib.suppress(UnsafePathError):
                writer.directory(mount_point)
    if owner is not None:
        os.chown(dest, *owner)
    return Rootfs(dest, view, stats)


def remove(path: Path) -> None:
    """Remove an unpacked filesystem, whatever the image's processes did to its permissions."""

    def retry(function: Callable[..., object], failed: str, exc: BaseException) -> None:
        # A directory the image made unreadable (chmod 000) belongs to us or to the sandbox's uid:
        # give it back its permissions and try again; symlinks are never followed (rmdir, unlink).
        where = Path(failed)
        with contextlib.suppress(OSError):
            where.parent.chmod(0o700)
        with contextlib.suppress(OSError):
            if where.is_dir() and not where.is_symlink():
                where.chmod(0o700)
                shutil.rmtree(where, ignore_errors=True)
            else:
                where.unlink()

    if not path.exists():
        return
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=retry)
    else:
        shutil.rmtree(path, onerror=lambda function, failed, info: retry(function, failed, info[1]))
