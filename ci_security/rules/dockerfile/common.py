"""Shared helpers for the Dockerfile rules: the scripts a RUN executes, the stages, package managers.

The shell code itself is read by `ci_security.manifests.shell` (`parse_shell`, `Command`, `Script`).

`stage_runs` and `all_runs` give the RUNs of a stage or a file, each with the scripts it executes:
its shell-form text (nothing when the stage's SHELL is PowerShell or cmd), the `sh -c` script of an
exec-form RUN (or the exec-form command itself), and each here-document that is a script: one no
command consumes (`RUN <<EOF`) or one fed to a shell (`RUN bash -e <<EOF`), unless its `#!` line
names another interpreter. `ONBUILD RUN` is read the same way.

A RUN's scripts are parsed once per file (kept in `Dockerfile.cache`, not in a process-wide cache,
so scanning many large Dockerfiles does not keep every parsed script alive), and the rules each ask
for them without re-parsing. Facts a stage passes on to the stages built FROM it (its shell, a
setting made in a RUN) are computed once per file with `carried`, in stage order, rather than by
walking every stage's ancestors again (quadratic in a long chain of stages).

The text is hostile: nothing here runs a regular expression that can backtrack on it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from ci_security.manifests.dockerfile import (
    Dockerfile,
    Instruction,
    Stage,
    scope_at,
    split_words,
    substitute,
    variable_assignments,
)
from ci_security.manifests.shell import (
    SHELLS,
    Command,
    Options,
    Script,
    basename,
    command_of,
    parse_options,
    parse_shell,
)
from ci_security.rules.base import Hit

FETCHERS = frozenset({"curl", "wget", "fetch"})
_NON_POSIX_SHELLS = frozenset({"powershell", "pwsh", "cmd"})
_PYTHON = re.compile(r"python(?:\d+(?:\.\d+)*)?")
_PIP = re.compile(r"pip(?:\d+(?:\.\d+)*)?")
_VARIABLE = re.compile(r"\$(?:\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)")
T = TypeVar("T")


# --- RUN instructions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    """A RUN (or `ONBUILD RUN`) with the scripts it executes and its `--mount` flags parsed."""

    instruction: Instruction
    scripts: tuple[Script, ...]
    mounts: tuple[dict[str, str], ...] = field(hash=False)
    onbuild: bool = False

    def commands(self) -> Iterator[Command]:
        for script in self.scripts:
            yield from script.all_commands()

    def pipelines(self) -> Iterator[tuple[Command, ...]]:
        for script in self.scripts:
            yield from script.all_pipelines()

    def caches(self, path: str) -> bool:
        """Whether a `--mount=type=cache` covers `path` (so nothing there lands in the layer)."""
        for mount in self.mounts:
            target = mount.get("target") or mount.get("dst") or mount.get("destination") or ""
            if mount.get("type") == "cache" and target and path.startswith(target.rstrip("/")):
                return True
        return False


def _mount(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in value.split(","):
        key, _, val = part.partition("=")
        out[key.strip().lower()] = val.strip().strip("'\"")
    return out


def _shebang(body: str) -> str | None:
    if not body.startswith("#!"):
        return None
    words = body[2:].split("\n", 1)[0].split()
    if not words:
        return None
    name = basename(words[0])
    if name == "env":
        rest = [w for w in words[1:] if not w.startswith("-")]
        return basename(rest[0]) if rest else None
    return name


def _stdin_script(command: Command) -> bool:
    return command.name in SHELLS and command.inner is None


def _scripts(dockerfile: Dockerfile, inst: Instruction, posix: bool) -> tuple[Script, ...]:
    cache: dict[tuple[int, bool], tuple[Script, ...]] = dockerfile.cache.setdefault("scripts", {})
    key = (id(inst), posix)
    found = cache.get(key)
    if found is None:
        found = cache[key] = _parse_scripts(inst, posix)
    return found


def _parse_scripts(inst: Instruction, posix: bool) -> tuple[Script, ...]:
    args, json_args = inst.args, inst.json_args
    if inst.keyword == "ONBUILD":
        args = _onbuild_run(args)[1]
        json_args = None
        if args.startswith("["):
            try:
                value = json.loads(args)
            except (ValueError, RecursionError):
                value = None
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                json_args = tuple(value)
    scripts: list[Script] = []
    consumers: dict[str, Command] = {}
    if json_args is not None:
        command = command_of(json_args)
        if command is not None:
            scripts.append(Script(((command,),)))
    elif posix:
        script = parse_shell(args)
        scripts.append(script)
        for command in script.all_commands():
            for name in command.heredocs:
                if command.name:
                    consumers.setdefault(name, command)
    if not posix and json_args is None:
        return tuple(scripts)
    for heredoc in inst.heredocs:
        consumer = consumers.get(heredoc.name)
        interpreter = _shebang(heredoc.body)
        if interpreter is not None and interpreter not in SHELLS:
            continue
        if consumer is None or _stdin_script(consumer):
            scripts.append(parse_shell(heredoc.body))
    return tuple(scripts)


def _posix_shell(inst: Instruction) -> bool | None:
    """For a SHELL instruction: whether it selects a POSIX shell; None for anything else."""
    if inst.keyword != "SHELL" or not inst.json_args:
        return None
    name = basename(inst.json_args[0].replace("\\", "/")).lower().removesuffix(".exe")
    return name not in _NON_POSIX_SHELLS


def carried(dockerfile: Dockerfile, key: str, initial: T, step: Callable[[Stage, T], T]) -> list[T]:
    """Per stage (by index), the value a fact has when the stage starts: `initial` for a stage
    built FROM an image, else what its parent stage ended with; `step(stage, value at its start)`
    gives what a stage ends with. Computed once per file and `key` (stages come after their
    parents, so one pass in order does it).
    """
    found: list[T] | None = dockerfile.cache.get(key)
    if found is None:
        starts: list[T] = []
        ends: list[T] = []
        for stage in dockerfile.stages:
            parent = dockerfile.parent_of(stage)
            start = ends[parent.index] if parent is not None else initial
            starts.append(start)
            ends.append(step(stage, start))
        found = dockerfile.cache[key] = starts
    return found


def _posix_through(stage: Stage, posix: bool) -> bool:
    for inst in stage.instructions:
        posix = p if (p := _posix_shell(inst)) is not None else posix
    return posix


def stage_runs(dockerfile: Dockerfile, stage: Stage) -> Iterator[Run]:
    """The RUN and `ONBUILD RUN` instructions of `stage`, in order, with their scripts. A SHELL
    instruction holds for the rest of its stage and for the stages built FROM it.
    """
    posix = carried(dockerfile, "posix shell", True, _posix_through)[stage.index]
    for inst in stage.instructions:
        selected = _posix_shell(inst)
        if selected is not None:
            posix = selected
            continue
        parts = inst.args.split(None, 1)
        onbuild = inst.keyword == "ONBUILD" and bool(parts) and parts[0].upper() == "RUN"
        if inst.keyword != "RUN" and not onbuild:
            continue
        flags = _onbuild_run(inst.args)[0] if onbuild else inst.flag_list
        mounts = tuple(_mount(value) for name, value in flags if name == "mount")
        yield Run(inst, _scripts(dockerfile, inst, posix), mounts, onbuild)


def _onbuild_run(args: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """(flags, command text) of the RUN an `ONBUILD RUN …` registers; the parser leaves it unsplit."""
    parts = args.split(None, 1)
    rest = parts[1] if len(parts) > 1 else ""
    flags: list[tuple[str, str]] = []
    while rest.startswith("--"):
        word, _, rest = rest.partition(" ")
        name, _, value = word[2:].partition("=")
        flags.append((name, value))
        rest = rest.lstrip()
    return tuple(flags), rest


def all_runs(dockerfile: Dockerfile) -> Iterator[tuple[Stage, Run]]:
    for stage in dockerfile.stages:
        for run in stage_runs(dockerfile, stage):
            yield stage, run


# --- stages ---------------------------------------------------------------------------------------


def lineage(dockerfile: Dockerfile, stage: Stage) -> list[Stage]:
    """`stage` and the stages it is built FROM, nearest first."""
    chain: list[Stage] = []
    current: Stage | None = stage
    while current is not None:  # parent_of only looks at earlier stages, so this ends
        chain.append(current)
        current = dockerfile.parent_of(current)
    return chain


def final_lineage(dockerfile: Dockerfile) -> list[Stage]:
    """The final stage and its ancestors: the stages whose layers end up in the built image."""
    final = dockerfile.final_stage
    return [] if final is None else lineage(dockerfile, final)


def stage_label(stage: Stage) -> str:
    return f"stage {stage.name}" if stage.name else f"stage {stage.index}"


def resource_of(dockerfile: Dockerfile, inst: Instruction) -> str:
    if inst.stage_index is None:
        return "global ARG"
    return stage_label(dockerfile.stages[inst.stage_index])


def unquote(value: str, dockerfile: Dockerfile, variables: Mapping[str, str | None] | None = None) -> str:
    """An ARG/ENV value with quotes removed; known variables are expanded, unknown ones kept as written."""
    return substitute(value, variables or {}, escape=dockerfile.escape, on_unset=lambda ref: ref)


# --- package managers -----------------------------------------------------------------------------

_APT_WITH_VALUE = frozenset("octa") | {
    "option",
    "config-file",
    "target-release",
    "default-release",
    "host-architecture",
}


_APT_SIMULATE = ("s", "simulate", "just-print", "dry-run", "recon", "no-act")
_APT_SIMULATE_SETTING = re.compile(r"APT::Get::Simulate\s*[=\s]\s*[\"']?(?:true|1|yes)\b", re.I)


def apt_options(command: Command) -> Options | None:
    """The parsed arguments of an `apt-get`/`apt` command (first positional = the action); None for
    any other command and for a simulation (`-s`, `--simulate`, `--just-print`, `--dry-run`,
    `--recon`, `--no-act`, `-o APT::Get::Simulate=true`), which only prints what apt would do: no rule
    about installs applies to it (`if apt-get install -s pkg >/dev/null; then …` probes for a package).
    """
    if command.name not in ("apt-get", "apt"):
        return None
    options = parse_options(command.args, _APT_WITH_VALUE)
    if options.has(*_APT_SIMULATE):
        return None
    if any(_APT_SIMULATE_SETTING.search(v.replace("=", " ")) for v in options.values("o", "option")):
        return None
    return options


def apt_action(command: Command) -> str | None:
    options = apt_options(command)
    return options.positionals[0] if options is not None and options.positionals else None


_APK_WITH_VALUE = frozenset("Xpt") | {"repository", "root", "virtual", "keys-dir", "arch", "cache-dir"}


def apk_options(command: Command) -> Options | None:
    """The parsed arguments of an `apk` command; None for any other command and for a simulation
    (`-s`, `--simulate`), which changes nothing. `--no-network` is kept: such a command installs, but
    from packages already on disk, which `no_network()` tells the rules about fetching.
    """
    if command.name != "apk":
        return None
    options = parse_options(command.args, _APK_WITH_VALUE)
    return None if options.has("s", "simulate") else options


def no_network(options: Options) -> bool:
    """Whether an apk command runs with `--no-network`: it downloads nothing, so there is no package
    index or cache to clean up (`apk add --no-network --virtual .rundeps $deps` after a build).
    """
    return options.has("no-network")


_PIP_WITH_VALUE = frozenset("rcetifb") | {
    "requirement",
    "constraint",
    "editable",
    "target",
    "index-url",
    "extra-index-url",
    "find-links",
    "trusted-host",
    "root",
    "prefix",
    "src",
    "platform",
    "python-version",
    "implementation",
    "abi",
    "upgrade-strategy",
    "progress-bar",
    "proxy",
    "no-binary",
    "only-binary",
    "cache-dir",
    "build",
    "log",
    "timeout",
    "retries",
    "cert",
    "client-cert",
    "config-settings",
    "global-option",
    "python",
    "report",
}


def pip_args(command: Command) -> tuple[str, ...] | None:
    """The words after `pip` for `pip`, `pip3.12`, `python -m pip` and `uv pip`; None otherwise."""
    args = command.args
    if _PIP.fullmatch(command.name):
        return args
    if _PYTHON.fullmatch(command.name):
        for k, word in enumerate(args):
            if word == "-m" and args[k + 1 : k + 2] == ("pip",):
                return args[k + 2 :]
            if word.startswith("-m") and word[2:] == "pip":
                return args[k + 1 :]
            if not word.startswith("-"):
                return None
        return None
    if command.name == "uv" and args[:1] == ("pip",):
        return args[1:]
    return None


def pip_install(command: Command) -> Options | None:
    """The parsed arguments after `install` of a pip install command, or None."""
    args = pip_args(command)
    if args is None:
        return None
    options = parse_options(args, _PIP_WITH_VALUE)
    if not options.positionals or options.positionals[0] != "install":
        return None
    return Options(options.flags, options.positionals[1:])


def rpm_manager(command: Command) -> str | None:
    """`yum`, `dnf`, `microdnf`, `tdnf` or `zypper` when the command runs one of them."""
    if command.name in ("yum", "dnf", "dnf5", "microdnf", "tdnf", "zypper"):
        return "dnf" if command.name == "dnf5" else command.name
    return None


_RPM_WITH_VALUE = frozenset("cdeRxr") | {
    "config",
    "installroot",
    "releasever",
    "setopt",
    "enablerepo",
    "disablerepo",
    "exclude",
    "repo",
    "repoid",
    "repofrompath",
    "downloaddir",
    "destdir",
    "root",
}


def rpm_options(command: Command) -> Options | None:
    if rpm_manager(command) is None:
        return None
    return parse_options(command.args, _RPM_WITH_VALUE)


def is_variable(text: str) -> bool:
    """Whether `text` is exactly one variable reference (`$X`, `${X}`, `${X:-default}`)."""
    return bool(_VARIABLE.fullmatch(text))


# --- images and sources ---------------------------------------------------------------------------


def split_image(ref: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) of an image reference; tag and digest None when absent."""
    name, _, digest = ref.partition("@")
    tag: str | None = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest or None


def image_base(dockerfile: Dockerfile, stage: Stage) -> str | None:
    """The image reference `stage` is built FROM, or None for `scratch`, another stage, or a reference
    still holding a variable nobody set (its value is only known at build time).
    """
    base = stage.base.strip()
    if not base or "$" in base or base.lower() == "scratch" or dockerfile.parent_of(stage) is not None:
        return None
    return base


def source_words(dockerfile: Dockerfile, inst: Instruction) -> list[str]:
    """The sources of a COPY/ADD (every word but the destination), variables expanded."""
    if inst.json_args is not None:
        words = list(inst.json_args)
    else:
        words = split_words(
            inst.args, scope_at(dockerfile, inst), escape=dockerfile.escape, on_unset=lambda ref: ref
        )
    return words[:-1]


def is_remote(source: str) -> bool:
    lowered = source.lower()
    return lowered.startswith(("http://", "https://", "git@", "git://", "ssh://"))


_USERINFO = re.compile(r"(://)[^/@\s]+@")


def redact(url: str) -> str:
    """`url` without the credentials it may carry (`https://user:token@host` → `https://***@host`)."""
    return _USERINFO.sub(r"\1***@", url)


def verification_hits(
    dockerfile: Dockerfile,
    what: str,
    variable_problem: Callable[[str, str], str | None],
    command_problems: Callable[[Command], Iterable[str]],
    text_patterns: Iterable[tuple[str, re.Pattern[str]]],
    *,
    setting_what: str | None = None,
) -> Iterator[Hit]:
    """Hits for a verification turned off (`what`, e.g. "TLS verification"; `setting_what` words
    it for ENV/ARG when it differs): ENV/ARG settings `variable_problem` recognises, then RUN
    commands (`command_problems`) and RUN text, heredoc bodies included (`text_patterns`), one hit
    per instruction naming every way found.
    """
    patterns = tuple(text_patterns)
    for inst in dockerfile.instructions:
        if inst.keyword not in ("ENV", "ARG"):
            continue
        found = []
        for name, raw in variable_assignments(inst, dockerfile.escape):
            if raw is not None and (problem := variable_problem(name, unquote(raw, dockerfile))):
                found.append(problem)
        if found:
            message = f"{inst.keyword} disables {setting_what or what}: {', '.join(found)}"
            yield Hit(inst.start_line, message, resource_of(dockerfile, inst))
    for stage, run in all_runs(dockerfile):
        problems: list[str] = []
        for command in run.commands():
            problems.extend(p for p in command_problems(command) if p not in problems)
        texts = [run.instruction.original, *(h.body for h in run.instruction.heredocs)]
        for label, pattern in patterns:
            if label not in problems and any(pattern.search(t) for t in texts):
                problems.append(label)
        if problems:
            message = f"RUN disables {what}: {', '.join(problems)}"
            yield Hit(run.instruction.start_line, message, stage_label(stage))
