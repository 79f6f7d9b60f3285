r"""Anchor image findings to the Dockerfile line that introduced them.

The image config's history records, for each non-empty layer, the build step that created it
(`LayerInfo.created_by`). The image is the product of the final stage (the last FROM), so its layers
are, from the top down, the layers of that stage's RUN/COPY/ADD/WORKDIR instructions from the last one
up, then those of the stage it is built FROM when that is another stage of the same Dockerfile, then
the base image's. The walk goes from the top layer down with a cursor on those instructions (last
first): each layer is compared with the instructions from the cursor upwards and the nearest one that
matches takes it; instructions may be passed over because a step that changed no file leaves no layer
(BuildKit marks it `empty_layer`). The first layer that matches nothing ends the walk: it and every
layer below it belong to the base image and point at the FROM line of the stage the cursor is in (the
final stage's FROM in the usual single-parent case). A mismatch never guesses an instruction.

How a `created_by` string is read (whitespace is collapsed on both sides before comparing, since
BuildKit joins continuation lines without a separator and heredoc bodies keep their newlines):

* BuildKit: a trailing ` # buildkit` is dropped, then `KEYWORD rest`. WORKDIR is recorded bare
  (`WORKDIR /app`).
* Classic builder and buildah: `<shell> #(nop) KEYWORD rest` for non-RUN steps (`/bin/sh -c #(nop)
  COPY file:4a3b... in /app `); anything else is a RUN recorded as the command itself.
* RUN: an optional build-arg prefix `|N NAME=value ...` (BuildKit and classic builder) is accepted,
  then the command must equal, after whitespace collapsing, the shell in effect (the last SHELL of the
  stage chain, else `/bin/sh -c` or `cmd /S /C`) followed by the instruction's command. The command
  variants are: the arguments as written; buildah's form, which keeps the flags (`--mount=...`) and
  appends the trimmed heredoc bodies; for a RUN that is only a heredoc, BuildKit's body run by the
  shell, or `/dev/pipes/NAME` when the body starts with `#!`; for a RUN with heredocs inside a longer
  command, BuildKit's reconstruction `command`, newline, `body NAME`. Exec form is recorded as its
  words joined by spaces, without a shell.
* COPY/ADD: BuildKit records the (expanded) sources then the destination, without `--from`; leading
  `--flag` words are ignored in case a builder records them. Heredoc sources are written `<<NAME`
  after the file sources. The classic builder records only a content hash and the destination
  (`file:<hash> in <dest>`), so only the destination is compared (a trailing `/` is not significant).
* WORKDIR: the path expanded and resolved against the previous WORKDIR, as BuildKit records it.

Variables in COPY/ADD/WORKDIR arguments come from ENV in the stage chain; an ARG (its value may be
overridden on the command line) or a variable of the base image matches any run of non-blank
characters, so the literal parts still have to agree.

Both sides are hostile (the Dockerfile comes with the pull request, the history with the image), so
no regular expression is built from them: after whitespace collapsing, a pattern is a list of words,
each a list of literal pieces between unknown variables. Since an unknown never spans a blank, the
history text must have exactly as many words, and each word must hold its pieces in order
(`str.startswith`/`find`/`endswith`): linear work, where the regex this replaced (a run of
non-blanks between the pieces) backtracked polynomially on crafted COPY and ARG text. The
Dockerfile's variable values are bounded like in the rules (`expansion_bytes`), and a limit error
leaves findings unanchored.

A finding whose package has no layer (an imported report) points at the final stage's FROM line; a
finding that already has a location keeps it; without a Dockerfile, or with one that has no stage,
locations stay unset and reporters fall back to the image reference.
"""

from __future__ import annotations

import posixpath
import re
from collections import ChainMap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from ci_security import limits
from ci_security.manifests.dockerfile import (
    Dockerfile,
    DockerfileLimitError,
    Instruction,
    Stage,
    at_line,
    parse_heredoc_word,
    raw_words,
    split_words,
    substitute,
    variable_assignments,
)
from ci_security.models import ImageTarget, LayerRef, Location, Vulnerability

_LAYER_KEYWORDS = frozenset({"RUN", "COPY", "ADD", "WORKDIR"})
# Anchored at the start, one choice point each, no nested repetition: linear on any text.
_RECORDED = re.compile(r"(RUN|COPY|ADD|WORKDIR)\s+(.*)", re.S)
_ARGS_PREFIX = re.compile(r"\|(\d{1,9})\s+(.*)", re.S)
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_BUILDKIT_SUFFIX = "# buildkit"
_DEFAULT_SHELLS = (("/bin/sh", "-c"), ("cmd", "/S", "/C"))
_UNKNOWN = "\x00"  # stands for a variable whose value the Dockerfile does not fix


def _norm(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class _Pattern:
    """A whitespace-collapsed text whose unknown variables match any run of non-blank characters:
    one tuple of literal pieces per word (one piece when the word has no unknown). `rooted` also
    accepts any absolute directory before the first word (a relative WORKDIR under an unknown one).
    """

    words: tuple[tuple[str, ...], ...]
    rooted: bool = False

    @classmethod
    def of(cls, text: str, *, rooted: bool = False) -> _Pattern:
        return cls(tuple(tuple(word.split(_UNKNOWN)) for word in _norm(text).split(" ")), rooted)

    def matches(self, words: Sequence[str]) -> bool:
        """Whether `words` (a whitespace-collapsed text split on its blanks) is this text."""
        if len(words) != len(self.words):
            return False
        for position, (pieces, word) in enumerate(zip(self.words, words, strict=True)):
            if position == 0 and self.rooted:
                # `(?:/\S*)?/` before the word: it starts with `/` and the rest follows some `/`.
                if not word.startswith("/") or not _word_matches(("", "/" + pieces[0], *pieces[1:]), word):
                    return False
            elif not _word_matches(pieces, word):
                return False
        return True


def _word_matches(pieces: tuple[str, ...], word: str) -> bool:
    """Whether `word` is `pieces` with any text (no blanks: `word` has none) between them.

    The classic glob match: the first piece is a prefix, the last a suffix, and the middle ones are
    placed leftmost in between, which fits whenever any placement does.
    """
    if len(pieces) == 1:
        return word == pieces[0]
    first, last = pieces[0], pieces[-1]
    if len(first) + len(last) > len(word) or not word.startswith(first) or not word.endswith(last):
        return False
    position, end = len(first), len(word) - len(last)
    for piece in pieces[1:-1]:
        found = word.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


@dataclass(frozen=True, slots=True)
class _Recorded:
    keyword: str  # RUN, COPY, ADD, WORKDIR, or "" for other steps
    text: str  # whitespace-collapsed
    classic: bool
    words: tuple[str, ...] = field(default=(), compare=False)


def _recorded(created_by: str) -> _Recorded:
    text = created_by.strip()
    if text.endswith(_BUILDKIT_SUFFIX):
        text = text[: -len(_BUILDKIT_SUFFIX)].rstrip()
    m = _RECORDED.fullmatch(text)
    if m:
        return _recorded_as(m[1], m[2], classic=False)
    head, nop, rest = text.partition("#(nop)")
    if nop and head.strip():
        m = _RECORDED.fullmatch(rest.strip())
        return _recorded_as(m[1], m[2], classic=True) if m else _Recorded("", _norm(rest), classic=True)
    return _recorded_as("RUN", text, classic=True)


def _recorded_as(keyword: str, text: str, *, classic: bool) -> _Recorded:
    normal = _norm(text)
    return _Recorded(keyword, normal, classic, tuple(normal.split(" ")))


def _classic_dest(words: Sequence[str]) -> str | None:
    """The destination of a classic builder's `[--flag ...] <source> in <dest>`, read as the regex
    this replaces did: as many leading `--flag` words as leave a source, ` in ` and a destination.
    """
    flags = 0
    while flags < len(words) and words[flags].startswith("--") and len(words[flags]) > 2:
        flags += 1
    for count in range(min(flags, len(words) - 3), -1, -1):
        if words[count] and words[count + 1] == "in":
            return " ".join(words[count + 2 :])
    return None


@dataclass(frozen=True, slots=True)
class _Step:
    """One layer-creating instruction with the patterns its history entry may take."""

    keyword: str
    line: int
    stage: Stage
    patterns: tuple[_Pattern, ...]
    dest: _Pattern | None = None

    def matches(self, rec: _Recorded) -> bool:
        if rec.keyword != self.keyword:
            return False
        words: Sequence[str] = rec.words
        if self.keyword == "RUN":
            prefix = _ARGS_PREFIX.fullmatch(rec.text)
            if prefix and int(prefix[1]) > 0:
                rest = tuple(_norm(prefix[2]).split(" "))
                return any(self._with_args(p, rest, int(prefix[1])) for p in self.patterns)
        elif self.keyword in ("COPY", "ADD"):
            if rec.classic:
                dest = _classic_dest(words)
                if dest is None or self.dest is None:
                    return False
                return self.dest.matches(_trim_slash(dest).split(" "))
            flags = 0
            while flags < len(words) and words[flags].startswith("--"):
                flags += 1
            words = words[flags:] or ("",)
        return any(p.matches(words) for p in self.patterns)

    @staticmethod
    def _with_args(pattern: _Pattern, words: tuple[str, ...], count: int) -> bool:
        # `NAME=value` pairs, then the command; a value may hold blanks, so the pairs are all the
        # words before the command's, and only at least `count` assignments are required.
        split = len(words) - len(pattern.words)
        if split < 1 or not pattern.matches(words[split:]):
            return False
        head = " ".join(words[:split])
        return _ASSIGNMENT.match(head) is not None and head.count("=") >= count


def _trim_slash(path: str) -> str:
    return path.rstrip("/") or "/"


class _StageWalker:
    """Follows a stage chain root first, tracking what history strings depend on: ENV, SHELL, WORKDIR."""

    def __init__(self, escape: str) -> None:
        self.escape = escape
        self.env: dict[str, str | None] = {}
        self.args: dict[str, str | None] = {}
        self.shell: tuple[str, ...] | None = None
        self.workdir: str | None = None  # None: inherited from the base image, unknown
        self.room = limits.active().expansion_bytes  # for all ENV values together

    def scope(self) -> Mapping[str, str | None]:
        # ENV wins over ARG; a view, not a merged copy (one per expansion would be quadratic).
        return ChainMap(self.env, self.args)

    def expand(self, text: str) -> str:
        return substitute(text, self.scope(), escape=self.escape, on_unset=lambda _ref: _UNKNOWN)

    def steps(self, stage: Stage) -> list[_Step]:
        self.args = {}
        out: list[_Step] = []
        for inst in stage.instructions:
            if inst.keyword == "ARG":
                for name, _ in variable_assignments(inst, self.escape):
                    self.args[name] = None
            elif inst.keyword == "ENV":
                for name, value in variable_assignments(inst, self.escape):
                    expanded = at_line(inst, lambda v=value: self.expand(v or ""))  # type: ignore[misc]
                    self.room -= len(expanded)
                    if self.room < 0:
                        raise DockerfileLimitError(inst.start_line, "expansion_bytes", "ENV values together")
                    self.env[name] = expanded
            elif inst.keyword == "SHELL" and inst.json_args:
                self.shell = inst.json_args
            elif inst.keyword in _LAYER_KEYWORDS:
                out.append(at_line(inst, lambda i=inst: self._step(i, stage)))  # type: ignore[misc]
        return out

    def _step(self, inst: Instruction, stage: Stage) -> _Step:
        if inst.keyword == "RUN":
            texts = dict.fromkeys(self._run_texts(inst))
            return _Step("RUN", inst.start_line, stage, tuple(_Pattern.of(t) for t in texts))
        if inst.keyword == "WORKDIR":
            return _Step("WORKDIR", inst.start_line, stage, (self._workdir(inst),))
        sources, dest = self._copy_words(inst)
        heredocs = [f"<<{h.name}" for h in inst.heredocs]
        files = [s for s in sources if not s.startswith("<<")]
        orders = {" ".join([*files, *heredocs, dest]), " ".join([*sources, dest])}
        patterns = tuple(_Pattern.of(text) for text in sorted(orders))
        return _Step(inst.keyword, inst.start_line, stage, patterns, _Pattern.of(_trim_slash(dest)))

    def _run_texts(self, inst: Instruction) -> list[str]:
        if inst.json_args is not None:
            return [" ".join(inst.json_args)]
        command = inst.args
        keyword_and_rest = inst.original.split(None, 1)
        with_flags = keyword_and_rest[1] if len(keyword_and_rest) == 2 else ""
        commands = [command, with_flags]
        shebang_scripts: list[str] = []
        if inst.heredocs:
            commands = [
                command + "".join("\n" + h.body + h.name for h in inst.heredocs),
                with_flags + "".join("\n" + h.body.strip() for h in inst.heredocs),
            ]
            if len(inst.heredocs) == 1 and parse_heredoc_word(command.strip()) is not None:
                commands.append(inst.heredocs[0].body)
                if inst.heredocs[0].body.startswith("#!"):
                    shebang_scripts.append("/dev/pipes/" + inst.heredocs[0].name)
        shells = (self.shell,) if self.shell is not None else _DEFAULT_SHELLS
        texts = [" ".join([*shell, cmd]) for shell in shells for cmd in [*commands, *shebang_scripts]]
        return [*texts, *shebang_scripts]

    def _workdir(self, inst: Instruction) -> _Pattern:
        path = self.expand(inst.args)
        if path.startswith("/"):
            resolved = posixpath.normpath(path)
        elif self.workdir is not None:
            resolved = posixpath.normpath(posixpath.join(self.workdir, path))
        else:
            return _Pattern.of(posixpath.normpath(path), rooted=True)
        resolved = "/" + resolved.lstrip("/")
        self.workdir = resolved if _UNKNOWN not in resolved else None
        return _Pattern.of(resolved)

    def _copy_words(self, inst: Instruction) -> tuple[list[str], str]:
        words: list[str] = []
        if inst.json_args is not None:
            words = [self.expand(arg) for arg in inst.json_args]
        else:
            scope = self.scope()
            for word in raw_words(inst.args, self.escape):
                opened = parse_heredoc_word(word)
                if opened is not None:
                    words.append(f"<<{opened[0]}")
                    continue
                words.extend(split_words(word, scope, escape=self.escape, on_unset=lambda _ref: _UNKNOWN))
        if not words:
            return [], ""
        return words[:-1], words[-1]


def _chain(dockerfile: Dockerfile) -> list[Stage]:
    """The final stage, then the stages it is built FROM, nearest first."""
    chain: list[Stage] = []
    stage = dockerfile.final_stage
    while stage is not None:  # parent_of only looks at earlier stages, so this ends
        chain.append(stage)
        stage = dockerfile.parent_of(stage)
    return chain


def map_layers(target: ImageTarget, dockerfile: Dockerfile) -> dict[int, int]:
    """The Dockerfile line of each layer of `target`, by `LayerInfo.index` (see the module docstring).
    Empty when the Dockerfile has no stage.
    """
    chain = _chain(dockerfile)
    if not chain:
        return {}
    walker = _StageWalker(dockerfile.escape)
    per_stage = [walker.steps(stage) for stage in reversed(chain)]
    steps = [step for stage_steps in reversed(per_stage) for step in reversed(stage_steps)]

    lines: dict[int, int] = {}
    cursor = 0
    remaining = sorted(target.layers, key=lambda layer: layer.index, reverse=True)
    while remaining:
        layer = remaining[0]
        rec = _recorded(layer.created_by) if layer.created_by else None
        found = (
            None
            if rec is None
            else next((k for k in range(cursor, len(steps)) if steps[k].matches(rec)), None)
        )
        if found is None:
            break
        lines[layer.index] = steps[found].line
        cursor = found + 1
        remaining.pop(0)
    base_stage = steps[cursor].stage if cursor < len(steps) else chain[-1]
    for layer in remaining:
        lines[layer.index] = base_stage.from_line
    return lines


def _layer_index(ref: LayerRef, by_index: Mapping[int, str], by_diff: Mapping[str, int]) -> int | None:
    diff_id = by_index.get(ref.index)
    if diff_id is not None and (not ref.diff_id or diff_id == ref.diff_id):
        return ref.index
    return by_diff.get(ref.diff_id) if ref.diff_id else None


def anchor_vulnerabilities(
    vulns: Sequence[Vulnerability], target: ImageTarget, dockerfile: Dockerfile | None
) -> tuple[Vulnerability, ...]:
    """`vulns` with `location` set to the Dockerfile line that introduced each package's layer."""
    final = dockerfile.final_stage if dockerfile is not None else None
    if dockerfile is None or final is None:
        return tuple(vulns)
    lines = map_layers(target, dockerfile)
    by_index = {layer.index: layer.diff_id for layer in target.layers}
    by_diff: dict[str, int] = {}
    for layer in target.layers:
        by_diff.setdefault(layer.diff_id, layer.index)
    out: list[Vulnerability] = []
    for vuln in vulns:
        if vuln.location is not None:
            out.append(vuln)
            continue
        line = final.from_line
        if vuln.package.layer is not None:
            index = _layer_index(vuln.package.layer, by_index, by_diff)
            if index is not None:
                line = lines.get(index, final.from_line)
        out.append(replace(vuln, location=Location(path=dockerfile.path, line=line)))
    return tuple(out)


def entrypoint_location(dockerfile: Dockerfile) -> Location | None:
    """Where the image's command is set, for runtime findings: the last ENTRYPOINT of the final
    stage or of the stages it is built FROM in this file (nearest first), else the last CMD, else the
    final stage's FROM line (the command comes from the base image). None without a stage.
    """
    chain = _chain(dockerfile)
    if not chain:
        return None
    for keyword in ("ENTRYPOINT", "CMD"):
        for stage in chain:
            found = [inst for inst in stage.instructions if inst.keyword == keyword]
            if found:
                return Location(path=dockerfile.path, line=found[-1].start_line)
    return Location(path=dockerfile.path, line=chain[0].from_line)
