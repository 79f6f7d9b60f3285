"""DF006: a RUN executes a script it downloads (`curl … | sh`) without verifying it.

Flagged, in every script a RUN executes (its command line, `sh -c` strings, shell here-documents,
`ONBUILD RUN`):
- a pipeline where curl/wget/fetch feeds, directly or through other commands (`| tee`, `| gunzip`),
  an interpreter that reads its program from stdin: a shell without `-c` (or with `-s`), python,
  perl, ruby, node or php without an inline program, or `source /dev/stdin`;
- an interpreter or `source`/`.` given a process substitution of a download: `bash <(curl …)`;
- a command whose program is the output of a download: `sh -c "$(curl …)"`, `eval "$(wget -O- …)"`;
- a shell fed a here-string holding a download: `bash <<< "$(curl …)"`.
No peer tool has this check (Hadolint's DL4006 only asks for `set -o pipefail`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.manifests.shell import SHELLS, Command, Script, Word, parse_options
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import FETCHERS, all_runs, stage_label

_INTERPRETER = re.compile(r"(?:python|pypy)\d*(?:\.\d+)?|perl|ruby|node|nodejs|php\d*|bun|deno")
# options that take a value, and options that give the program inline (so stdin is data, not code)
_SHELL_OPTS = (frozenset("oO") | {"rcfile", "init-file"}, frozenset("c"))
_INTERPRETER_OPTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "python": (frozenset("WXQ"), frozenset("cm")),
    "perl": (frozenset("IMmx"), frozenset("eE")),
    "ruby": (frozenset("IrCEKx"), frozenset("e")),
    "node": (frozenset("r") | {"require", "import"}, frozenset("ep") | {"eval", "print"}),
    "php": (frozenset("cdz"), frozenset("rRBEF")),
}
_STDIN = ("-", "/dev/stdin", "/proc/self/fd/0")


def _family(name: str) -> str | None:
    if name in SHELLS:
        return "shell"
    if not _INTERPRETER.fullmatch(name):
        return None
    for family in ("python", "pypy", "perl", "ruby", "node", "php"):
        if name.startswith(family):
            return "python" if family == "pypy" else family
    return "node"  # bun and deno run JavaScript from stdin the way node does


def _reads_stdin(command: Command) -> bool:
    """Whether `command` runs as a program whatever it reads on stdin."""
    if command.name in ("source", ".") and command.args[:1] and command.args[0] in _STDIN:
        return True
    family = _family(command.name)
    if family is None:
        return False
    with_value, inline = _SHELL_OPTS if family == "shell" else _INTERPRETER_OPTS[family]
    options = parse_options(command.args, with_value, stop_at_positional=True)
    if options.has(*inline):
        return False
    if family == "shell" and options.has("s"):
        return True
    return not options.positionals or options.positionals[0] in _STDIN


def _downloads(scripts: tuple[Script, ...]) -> str | None:
    for script in scripts:
        for command in script.all_commands():
            if command.name in FETCHERS:
                return command.name
    return None


def _substituted(word: Word) -> str | None:
    return _downloads(word.subs)


def _problems(command: Command, pipeline: tuple[Command, ...], position: int) -> Iterator[str]:
    if position > 0 and _reads_stdin(command):
        fetcher = next((c.name for c in pipeline[:position] if c.name in FETCHERS), None)
        if fetcher is not None:
            yield f"pipes {fetcher} output into {command.name}"
    program = command.program_word
    if program is not None and (fetcher := _substituted(program)) is not None:
        yield f"runs the output of {fetcher} as a command"
    if command.name in ("source", ".") or _family(command.name) is not None:
        for word in command.arg_words:
            if word.raw.startswith("<(") and (fetcher := _substituted(word)) is not None:
                yield f"runs {command.name} on a process substitution of {fetcher}"
                break
    if command.name in SHELLS or _family(command.name) is not None:
        for word in command.herestrings:
            if (fetcher := _substituted(word)) is not None:
                yield f"feeds {fetcher} output to {command.name} as a here-string"
                break


class Df006PipeToShell:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF006",
        kind="dockerfile",
        title="Downloaded script executed without verification",
        severity=Severity.HIGH,
        rationale="`curl … | sh` runs whatever the server returns, with the build's privileges and "
        "secrets: a compromised download host, a hijacked domain or a truncated transfer becomes code "
        "execution in every build, and nothing records what actually ran.",
        remediation="Download to a file, verify it against a pinned checksum (`echo '<sha256>  "
        "install.sh' | sha256sum -c -`) or signature, then run it; better, install a pinned package or "
        "copy the binary from a digest-pinned image.",
        references=("https://docs.docker.com/build/building/best-practices/#run",),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage, run in all_runs(dockerfile):
            found: list[str] = []
            for pipeline in run.pipelines():
                for position, command in enumerate(pipeline):
                    found.extend(p for p in _problems(command, pipeline, position) if p not in found)
            if found:
                message = f"RUN {'; '.join(found)}"
                yield Hit(run.instruction.start_line, message, stage_label(stage))
