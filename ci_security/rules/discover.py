"""Find the manifests to check under the paths given to `--manifests`.

Dockerfiles are found by name (`Dockerfile`, `Containerfile`, `*.Dockerfile`, `Dockerfile.*`), YAML
files by extension and then by content: a quick text test (`apiVersion:` and `kind:`, or
`services:`) decides whether a file is worth parsing, so a repository full of CI and tool
configuration does not pay for a YAML parse of each.

What is skipped, and why:
- files that a `.gitignore` ignores (in the directory walked, the directories above it up to the
  repository root, and below it) and the repository's `.git/info/exclude`: build output and local
  files are not the repository's. The patterns are read and matched here (`gitignore.py`), and git
  is never run: git in a directory a pull request controls runs what that directory configures
  (a committed bare-repository layout whose `config` sets `core.fsmonitor` is enough), and the
  plugin image has no git. `.git` itself is never entered;
- vendored trees (`vendor/`, `node_modules/`, `third_party/`, `.terraform/`): their manifests are
  somebody else's, and their findings would drown the repository's own;
- Helm chart templates (files under `templates/` of a directory with `Chart.yaml`): they are Go
  templates, not YAML, until `helm template` renders them; checking the rendered output is how to
  cover them (`helm template … > rendered.yaml`, then `--manifests rendered.yaml`).

A path given explicitly as a file is always checked, whatever its name or whether git ignores it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ci_security.errors import UsageError
from ci_security.rules import gitignore
from ci_security.rules.runner import manifest_kind

VENDORED = frozenset({"vendor", "node_modules", "third_party", ".terraform", ".git"})
_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Manifest:
    """A file to check: its path on disk and as reports show it (relative to the repository root)."""

    path: Path
    shown: str


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _inherited(directory: Path, root: Path) -> tuple[list[gitignore.IgnoreFile], tuple[str, ...]]:
    """The ignore files that apply to `directory` from above it: the repository's `info/exclude`
    and the `.gitignore` of the root and of every directory down to `directory`'s parent, with
    `directory`'s path relative to the root. A directory outside the root starts afresh.
    """
    try:
        relative = directory.resolve().relative_to(root.resolve()).parts
    except (ValueError, OSError):
        return [], ()
    files: list[gitignore.IgnoreFile] = []
    git_dir = root / ".git"
    try:
        real_git_dir = stat.S_ISDIR(git_dir.lstat().st_mode)
    except OSError:
        real_git_dir = False
    if real_git_dir:  # never a `.git` file's `gitdir:` pointer, never a symlink
        exclude = gitignore.read(git_dir / "info" / "exclude", ())
        if exclude is not None:
            files.append(exclude)
    for depth in range(len(relative)):
        base = relative[:depth]
        found = gitignore.read(root.joinpath(*base, ".gitignore"), base)
        if found is not None:
            files.append(found)
    return files, relative


def _walk(directory: Path, root: Path) -> Iterator[Path]:
    """Regular files under `directory` (never through a symlink), skipping what is vendored or
    ignored; iterative, so a deep tree cannot exhaust the stack.
    """
    inherited, start = _inherited(directory, root)
    stack: list[tuple[Path, tuple[str, ...], list[gitignore.IgnoreFile]]] = [(directory, start, inherited)]
    while stack:
        current, parts, files = stack.pop()
        own = gitignore.read(current / ".gitignore", parts)
        if own is not None:
            files = [*files, own]
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file(follow_symlinks=False)
            except OSError:
                continue
            if entry.name == ".git" or not (is_dir or is_file):
                continue  # a `.git` directory or `gitdir:` file is git's, never the repository's content
            if gitignore.ignored(files, (*parts, entry.name), is_dir):
                continue
            if is_dir:
                if entry.name not in VENDORED:
                    subdirs.append((Path(entry.path), (*parts, entry.name), files))
            else:
                yield Path(entry.path)
        stack.extend(reversed(subdirs))


def files_under(directory: Path, root: Path) -> list[Path]:
    """Every regular file under `directory` the walk above keeps (ignored and vendored trees left
    out, symlinks never followed), in a stable order: what other readers of a repository (the
    dependency manifests `ci-security fix` edits) look at, by the same rules.
    """
    return sorted(path for path in _walk(directory, root) if not _vendored(path.relative_to(directory)))


def _vendored(relative: Path) -> bool:
    return any(part in VENDORED for part in relative.parts[:-1])


def _helm_template(path: Path, charts: set[Path]) -> bool:
    parents = path.parents
    for index, parent in enumerate(parents):
        if parent.name == "templates" and index + 1 < len(parents) and parents[index + 1] in charts:
            return True
    return False


def _worth_parsing(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return True  # let the runner report why it cannot be read
    return (b"apiVersion" in head and b"kind" in head) or b"services" in head


def _candidates(directory: Path, root: Path) -> Iterator[Path]:
    files = list(_walk(directory, root))
    charts = {f.parent for f in files if f.name == "Chart.yaml"}
    for path in sorted(files):
        relative = path.relative_to(directory)
        if _vendored(relative) or not path.is_file() or path.is_symlink():
            continue
        kind = manifest_kind(path.name)
        yaml_manifest = kind == "yaml" and not _helm_template(path, charts) and _worth_parsing(path)
        if kind == "dockerfile" or yaml_manifest:
            yield path


def discover(paths: Sequence[Path], root: Path) -> list[Manifest]:
    """The manifests under `paths` (files or directories), each once, sorted by shown path."""
    found: dict[str, Manifest] = {}
    for given in paths:
        if given.is_dir():
            files: Iterable[Path] = _candidates(given, root)
        elif given.is_file():
            files = [given]
        else:
            raise UsageError(f"--manifests {given}: no such file or directory")
        for path in files:
            shown = _shown(path, root)
            found.setdefault(shown, Manifest(path, shown))
    return [found[k] for k in sorted(found)]
