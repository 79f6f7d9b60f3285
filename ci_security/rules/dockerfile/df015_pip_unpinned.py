"""DF015: `pip install` of packages without a version.

A package counts as pinned when it names a version (`==`, `>=`, `~=`, `<`, …), a direct reference
(`name @ https://…`, a VCS URL with `@ref`), a local path or archive (`.`, `./pkg`, `*.whl`,
`*.tar.gz`), or is a variable. Requirement files (`-r`) and editable installs are not packages; a
constraints file (`-c`, `--constraint`, `PIP_CONSTRAINT`) pins everything the command installs.
Covers `pip`, `pip3`, `pip3.12`, `python -m pip` and `uv pip`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.manifests.shell import Command
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import all_runs, pip_install, stage_label

_VERSION_MARKS = ("==", ">=", "<=", "~=", "!=", ">", "<", "@")
_VCS = ("git+", "hg+", "svn+", "bzr+")
_FILES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")


def _pinned(package: str) -> bool:
    if package.startswith("$"):
        return True
    lowered = package.lower()
    if lowered.startswith(_VCS):
        return "@" in lowered.split("://", 1)[-1].split("/", 1)[-1]
    if any(mark in package for mark in _VERSION_MARKS):
        return True
    return package.startswith((".", "/", "~")) or "/" in package or lowered.endswith(_FILES)


def _unpinned(command: Command) -> list[str]:
    options = pip_install(command)
    if options is None or options.has("c", "constraint"):
        return []
    if any(name == "PIP_CONSTRAINT" for name, _ in command.env):
        return []
    return [p for p in options.positionals if not _pinned(p)]


class Df015PipUnpinned:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF015",
        kind="dockerfile",
        title="pip install without pinned versions",
        severity=Severity.LOW,
        rationale="An unpinned `pip install` takes whatever version is newest at build time: builds "
        "are not reproducible, and a malicious or broken release is picked up without review.",
        remediation="Pin each package (`pip install flask==3.0.3`), or install from a lock file "
        "(`pip install -r requirements.txt` with `==` pins, ideally `--require-hashes`).",
        references=(
            "https://pip.pypa.io/en/stable/topics/repeatable-installs/",
            "https://github.com/hadolint/hadolint/wiki/DL3013",
        ),
        peers=(("hadolint", "DL3013"),),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage, run in all_runs(dockerfile):
            packages = [p for c in run.commands() for p in _unpinned(c)]
            if packages:
                shown = ", ".join(dict.fromkeys(packages))
                yield Hit(
                    run.instruction.start_line, f"RUN pip install of unpinned {shown}", stage_label(stage)
                )
