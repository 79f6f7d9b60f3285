"""Find the manifests to check under the paths given to `--manifests`.

Dockerfiles are found by name (`Dockerfile`, `Containerfile`, `*.Dockerfile`, `Dockerfile.*`), YAML
files by extension and then by content: a quick text test (`apiVersion:` and `kind:`, or
`services:`) decides whether a file is worth parsing, so a repository full of CI and tool
configuration does not pay for a YAML parse of each.

What is skipped, and why:
- files git ignores, when the path is inside a git work tree (`git ls-files --cached --others
  --exclude-standard` lists exactly what the repository holds); elsewhere, `.git` itself;
- vendored trees (`vendor/`, `node_modules/`, `third_party/`, `.terraform/`): their manifests are
  somebody else's, and their findings would drown the repository's own;
- Helm chart templates (files under `templates/` of a directory with `Chart.yaml`): they are Go
  templates, not YAML, until `helm template` renders them; checking the rendered output is how to
  cover them (`helm template … > rendered.yaml`, then `--manifests rendered.yaml`).

A path given explicitly as a file is always checked, whatever its name or whether git ignores it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ci_security.errors import UsageError
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


def _git_files(directory: Path) -> list[Path] | None:
    """The files git holds or would hold under `directory`, or None when it is not a git work tree."""
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    names = [n for n in done.stdout.decode("utf-8", "surrogateescape").split("\0") if n]
    return [directory / n for n in names]


def _walk(directory: Path) -> Iterator[Path]:
    for current, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in VENDORED)
        for name in sorted(files):
            yield Path(current) / name


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


def _candidates(directory: Path) -> Iterator[Path]:
    listed = _git_files(directory)
    files = listed if listed is not None else list(_walk(directory))
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
            files: Iterable[Path] = _candidates(given)
        elif given.is_file():
            files = [given]
        else:
            raise UsageError(f"--manifests {given}: no such file or directory")
        for path in files:
            shown = _shown(path, root)
            found.setdefault(shown, Manifest(path, shown))
    return [found[k] for k in sorted(found)]
