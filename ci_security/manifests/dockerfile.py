r"""Parse a Dockerfile into stages and instructions with exact 1-based line spans.

The grammar follows what BuildKit's Dockerfile frontend accepts, as its reference documents it:

* Parser directives (`# syntax=`, `# escape=`, `# check=`; key case-insensitive, whitespace around `=`
  allowed) are recognised only in the leading block of lines that all look like known directives. The
  first line that is not one (blank line, comment, unknown directive, instruction) ends the block; a
  known directive repeated inside the block is an issue and the first value wins. `escape` accepts
  only a backslash and a backtick; anything else is an issue and the backslash stays.
* A physical line whose first non-blank character is `#` is a comment, also inside a continuation;
  `#` anywhere else is an argument. Blank lines and comment lines inside a continuation are skipped,
  as Docker does, so they do not end the instruction.
* A line ends in a continuation when its last non-blank (space/tab) character is the escape
  character. The escape character and the line break are removed and the next line is appended
  as is (its indentation included), which is exactly the text BuildKit records in the image history.
  A continuation still open at end of file is an issue on the last line that had content.
* The first word of an instruction is its keyword (case-insensitive); leading `--name[=value]` words
  are its flags (quotes inside a flag are removed, a bare `--` ends the flags). `args` is the rest of
  the line as written. A flag given without value is stored with the value `""`; repeated flags
  (`RUN --mount=... --mount=...`) keep their last value in `flags` and all values in `flag_list`.
* Heredocs: for RUN, COPY and ADD (also behind ONBUILD) every word of the joined line of the form
  `[n]<<[-]WORD` opens a here-document, in order. Its body is the following physical lines up to a
  line equal to the (unquoted) WORD; with `<<-` leading tabs are stripped from the body and from the
  candidate terminator. A quoted WORD (any part) disables expansion (`expand=False`). Body lines are
  never comments and never continuations. A missing terminator is an issue on the instruction's line.
* Exec form: for the instructions that accept a JSON array (RUN, CMD, ENTRYPOINT, SHELL, COPY, ADD,
  VOLUME) `form` is "exec" when the arguments are exactly a JSON array of strings (`json_args` holds
  it), and "shell" otherwise, as BuildKit falls back to shell form for invalid JSON. `form` is None
  for every other instruction.
* Stages: `FROM [--platform=p] image [AS name]`; the stage name is lower-cased (stage names are
  case-insensitive). `base` is `base_raw` with the global ARGs (those before the first FROM)
  substituted; a reference to a variable that is not known (an ARG without default, the automatic
  platform ARGs) is kept literally rather than expanded to "", so `golang:${GO}` stays recognisable.
  `platform` is the flag as written. `Stage.instructions` are the instructions after the FROM.
* Problems are data: unknown keywords, instructions other than ARG before the first FROM, a FROM with
  the wrong number of words, duplicate or invalid stage names, a blank base, a non-JSON SHELL,
  missing arguments and a file without FROM each give a `ParseIssue`; parsing never raises.

Variable substitution (`substitute`, `split_words`) implements the Dockerfile rules: `$VAR`,
`${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`, `${VAR:?word}`,
`${VAR#pat}`, `${VAR##pat}`, `${VAR%pat}`, `${VAR%%pat}`, `${VAR/pat/repl}`, `${VAR//pat/repl}`;
single quotes are literal, double quotes expand, and the escape character makes the next character
literal (inside double quotes only before `"`, `$` and itself). An unset variable expands to "" unless
the caller passes `on_unset`. `scope_at` gives the variables an instruction sees.

A Dockerfile comes from a pull request, so it is hostile input and every step is bounded work (see
`ci_security.limits`); past a limit parsing raises `DockerfileLimitError`, which the rules runner
reports as MAN001 ("could not be analysed") for that file:

* a physical line and an instruction with its continuations are at most `line_bytes`, and an
  instruction has at most `continuation_lines` continuation lines;
* no regular expression that can backtrack is run on the file's text: parser directives are read by
  hand (a `# syntax=` padded with blanks cost quadratic time), and `#`/`%`/`/` patterns are matched
  as glob segments placed left to right with `str.find` (the former regex per prefix was cubic in the
  value's length for `${X//a/b}`);
* one expansion produces at most `expansion_bytes`, the ARG and ENV values of a file hold at most
  `expansion_bytes` together (an `ARG` that repeats the previous one four times, nested, turned 500
  bytes into 4.3 GB), and the values substituted by all expansions of one analysis (opened with
  `expansion_budget`) at most 16 times that; `${...}` nests at most `nesting_depth` deep (and
  never past 100 levels, what the interpreter's stack allows);
* `scope_at` answers from a table built once per file (per-name histories, looked up by bisection),
  so asking for every instruction's scope is not quadratic in the number of ARG/ENV instructions.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from ci_security import limits

KEYWORDS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)
T = TypeVar("T")

HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
JSON_KEYWORDS = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"})
DIRECTIVES = frozenset({"syntax", "escape", "check"})
DOCKERFILE_NAMES = ("Dockerfile", "Containerfile", "docker/Dockerfile")

_HEREDOC_WORD = re.compile(r"(\d*)<<(-?)([^<]*)", re.S)
_KEYWORD = re.compile(r"(\S+)\s*(.*)", re.S)
_STAGE_NAME = re.compile(r"[a-z][a-z0-9_.-]*")
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_BLANK = " \t\r\n\f\v"


class DockerfileLimitError(limits.LimitExceededError):
    """A Dockerfile went past a limit; `line` is where, when it is known."""

    def __init__(self, line: int | None, limit: str, detail: str = "") -> None:
        super().__init__(f"line {line}" if line else "Dockerfile", limit, detail)
        self.line = line
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ParseIssue:
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class Comment:
    line: int
    text: str  # without the leading `#`, stripped


@dataclass(frozen=True, slots=True)
class Heredoc:
    """One here-document: `start_line` is its first body line (the terminator's line when the body is
    empty), `end_line` the terminator's line (the last line of the file when unterminated).
    """

    name: str
    body: str
    start_line: int
    end_line: int
    chomp: bool = False
    expand: bool = True


@dataclass(frozen=True, slots=True)
class Instruction:
    """One instruction. `original` is the whole joined line (keyword, flags and arguments)."""

    keyword: str
    args: str
    flags: dict[str, str] = field(hash=False)
    start_line: int
    end_line: int
    stage_index: int | None
    heredocs: tuple[Heredoc, ...] = ()
    form: str | None = None
    json_args: tuple[str, ...] | None = None
    original: str = ""
    flag_list: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Stage:
    index: int
    name: str | None
    base: str
    base_raw: str
    platform: str | None
    from_line: int
    instructions: tuple[Instruction, ...]


@dataclass(frozen=True, slots=True)
class Dockerfile:
    path: str
    directives: dict[str, str] = field(hash=False)
    stages: tuple[Stage, ...]
    instructions: tuple[Instruction, ...]
    errors: tuple[ParseIssue, ...]
    comments: tuple[Comment, ...] = ()
    # What is derived from the file once and asked for often (stage names, scopes, parsed scripts).
    cache: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def escape(self) -> str:
        value = self.directives.get("escape", "\\")
        return value if value in ("\\", "`") else "\\"

    @property
    def final_stage(self) -> Stage | None:
        """The last stage: the one `docker build` produces without `--target`."""
        return self.stages[-1] if self.stages else None

    def stage(self, ref: str, *, before: int | None = None) -> Stage | None:
        """The stage a `FROM` or `COPY --from` names: by name (case-insensitive) or by index; only
        stages with an index below `before` when it is given, since a stage can only use earlier ones.
        """
        count = len(self.stages) if before is None else min(before, len(self.stages))
        index = number(ref)
        if index is not None:
            return self.stages[index] if index < count else None
        named = self.cache.get("stage names")
        if named is None:
            named = {}
            for stage in self.stages:
                if stage.name is not None:
                    named.setdefault(stage.name, []).append(stage.index)
            self.cache["stage names"] = named
        indexes = named.get(ref.lower(), ())
        position = bisect.bisect_left(indexes, count)
        return self.stages[indexes[position - 1]] if position else None

    def parent_of(self, stage: Stage) -> Stage | None:
        """The earlier stage that `stage` is built FROM, or None when its base is an image."""
        if stage.base.isdigit():
            return None  # FROM takes stage names only; a number is an image name
        return self.stage(stage.base, before=stage.index)


def number(text: str, cap: int = 1 << 31) -> int | None:
    """`text` as a number when it is ASCII digits only, else None; at most `cap`. A run of digits
    longer than any real port, stage index or count is `cap`: `int()` refuses more than 4,300 digits
    with an exception, and `str.isdigit()` accepts characters (`²`) that `int()` does not.
    """
    if not text or not text.isascii() or not text.isdigit():
        return None
    digits = text.lstrip("0") or "0"
    return cap if len(digits) > len(str(cap)) else min(int(digits), cap)


def find_dockerfile(root: Path) -> Path | None:
    """The build file of a repository: `Dockerfile`, then `Containerfile` (podman/buildah's name) at
    the root, then `docker/Dockerfile`. Anything else must be named explicitly by the caller.
    """
    for name in DOCKERFILE_NAMES:
        candidate = root / name
        if candidate.is_file():
            return candidate
    return None


# --- variable substitution ---------------------------------------------------------------------


_ANY = None  # a `?` in a glob segment


class _Segment:
    """A run of a glob between two `*`: literal characters and `?`, so always one fixed length.

    Found with `str.find` when it is all literal (linear); a segment with `?` is a regular
    expression without any quantifier, which cannot backtrack but costs up to its length at each
    position, so that work is bounded before it is started.
    """

    __slots__ = ("_regex", "_reversed", "length", "literal", "tokens")

    def __init__(self, tokens: list[str | None]) -> None:
        self.tokens = tokens
        self.length = len(tokens)
        self.literal: str | None = None if _ANY in tokens else "".join(t for t in tokens if t is not None)
        self._regex: re.Pattern[str] | None = None
        self._reversed: _Segment | None = None

    def reversed(self) -> _Segment:
        if self._reversed is None:
            self._reversed = _Segment(self.tokens[::-1])
        return self._reversed

    def _compiled(self, haystack: int) -> re.Pattern[str]:
        if self._regex is None:
            if self.length * haystack > _GLOB_WORK:
                raise DockerfileLimitError(
                    None,
                    "expansion_bytes",
                    f"a pattern of {self.length:,} characters with `?` against {haystack:,} characters",
                )
            self._regex = re.compile(
                "".join("." if t is None else re.escape(t) for t in self.tokens), re.DOTALL
            )
        return self._regex

    def find(self, value: str, start: int) -> int:
        """The first position from `start` where the segment matches `value`, or -1."""
        if self.literal is not None:
            return value.find(self.literal, start)
        found = self._compiled(len(value)).search(value, start)
        return found.start() if found else -1

    def at(self, value: str, position: int) -> bool:
        if self.literal is not None:
            return value.startswith(self.literal, position)
        return self._compiled(len(value)).match(value, position) is not None


# Characters compared by `?`-segment searches per expansion; far above any real pattern.
_GLOB_WORK = 1 << 26


class _Glob:
    """A shell pattern of the substitution operators: `*`, `?`, a backslash that makes the next
    character literal, and literal characters, as segments separated by `*` (no `[...]` classes,
    like the regex it replaces).
    """

    def __init__(self, pattern: str) -> None:
        segments: list[list[str | None]] = [[]]
        i = 0
        while i < len(pattern):
            c = pattern[i]
            if c == "\\" and i + 1 < len(pattern):
                segments[-1].append(pattern[i + 1])
                i += 2
                continue
            if c == "*":
                segments.append([])
            else:
                segments[-1].append(_ANY if c == "?" else c)
            i += 1
        self.segments = [_Segment(tokens) for tokens in segments]

    def reversed(self) -> _Glob:
        mirror = _Glob("")
        mirror.segments = [segment.reversed() for segment in reversed(self.segments)]
        return mirror

    def _middle(self, value: str, start: int) -> int | None:
        """Place the segments between the first and the last leftmost from `start`; the end of the
        last one placed, or None. Leftmost placement leaves the most room to what follows, so if
        it fails every placement fails.
        """
        position = start
        for segment in self.segments[1:-1]:
            found = segment.find(value, position)
            if found < 0:
                return None
            position = found + segment.length
        return position

    def prefix(self, value: str, longest: bool) -> int | None:
        """The length of the shortest (or longest) prefix of `value` the pattern matches, or None."""
        first, last = self.segments[0], self.segments[-1]
        if len(self.segments) == 1:
            return first.length if first.length <= len(value) and first.at(value, 0) else None
        if first.length > len(value) or not first.at(value, 0):
            return None
        position = self._middle(value, first.length)
        if position is None:
            return None
        if not longest:
            found = last.find(value, position)
            return None if found < 0 else found + last.length
        return self._last_end(value, position)

    def _last_end(self, value: str, position: int) -> int | None:
        """The end of the last segment's rightmost occurrence that starts at `position` or later."""
        last = self.segments[-1]
        if last.length == 0:
            return len(value)
        mirrored = value[::-1]
        found = last.reversed().find(mirrored, 0)
        start = len(value) - found - last.length if found >= 0 else -1
        return start + last.length if start >= position else None

    def match_from(self, value: str, start: int) -> tuple[int, int] | None:
        """The leftmost non-empty match at or after `start` and its longest end, as (begin, end)."""
        first = self.segments[0]
        begin = first.find(value, start)
        if begin < 0:
            return None
        if len(self.segments) == 1:
            return (begin, begin + first.length) if first.length else None
        # The first segment's leftmost occurrence is the only candidate: from a later one the
        # remaining segments have less room, so if they do not fit here they fit nowhere.
        position = self._middle(value, begin + first.length)
        if position is None:
            return None
        end = self._last_end(value, position)
        return (begin, end) if end is not None and end > begin else None


def _remove(value: str, op: str, pattern: str) -> str:
    glob = _Glob(pattern)
    if op in ("#", "##"):
        cut = glob.prefix(value, longest=op == "##")
        return value if cut is None else value[cut:]
    cut = glob.reversed().prefix(value[::-1], longest=op == "%%")
    return value if cut is None else value[: len(value) - cut]


def _replace(value: str, pattern: str, repl: str, every: bool, room: int | None = None) -> str:
    """`value` with the first (or every) match of `pattern` replaced by `repl`; an output larger than
    `room` stops with `DockerfileLimitError` before it is built (one character replaced by a long
    `repl` everywhere multiplies the value).
    """
    if not pattern:
        return value
    glob = _Glob(pattern)
    out: list[str] = []
    size = 0
    position = 0
    while position <= len(value):
        found = glob.match_from(value, position)
        if found is None:
            break
        begin, end = found
        out.append(value[position:begin])
        out.append(repl)
        size += begin - position + len(repl)
        if room is not None and size > room:
            raise DockerfileLimitError(None, "expansion_bytes", "one variable expansion")
        position = end
        if not every:
            break
    out.append(value[position:])
    return "".join(out)


class _Budget:
    """Bytes that variable values may still add to the expansions of one analysis."""

    __slots__ = ("left",)

    def __init__(self, total: int) -> None:
        self.left = total

    def take(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise DockerfileLimitError(
                None, "expansion_bytes", "variable values substituted in this file, 16 times the limit"
            )


_BUDGET: ContextVar[_Budget | None] = ContextVar("dockerfile_expansion_budget", default=None)


@contextmanager
def expansion_budget() -> Iterator[None]:
    """Bound the values substituted by every expansion inside the block, together, to 16 times
    `expansion_bytes`: each expansion is bounded on its own, but a thousand instructions each
    expanding a large value a thousand times would still be a billion bytes of work.
    """
    token = _BUDGET.set(_Budget(16 * limits.active().expansion_bytes))
    try:
        yield
    finally:
        _BUDGET.reset(token)


_MAX_BRACE_NESTING = 100
_SPLIT_BLANKS = re.compile(f"([{re.escape(_BLANK)}]+)")


class _Lexer:
    """Expands variables in `text`; in `raw` mode quotes and escapes are kept as written.

    What variables add to the output is counted: past `expansion_bytes` the expansion stops with
    `DockerfileLimitError`, and so does `${...}` nested deeper than `nesting_depth` (each level is
    a few Python frames).
    """

    def __init__(
        self,
        text: str,
        variables: Mapping[str, str | None],
        escape: str,
        raw: bool,
        on_unset: Callable[[str], str] | None,
    ) -> None:
        self.s = text
        self.i = 0
        self.vars = variables
        self.esc = escape
        self.raw = raw
        self.on_unset = on_unset or (lambda _ref: "")
        bounds = limits.active()
        self.room = bounds.expansion_bytes
        self.depth = 0
        # Each level of `${...}` is five Python frames; past 100 levels the interpreter's own
        # recursion limit would end the expansion first, so that is the most a raised limit gives.
        self.max_depth = min(bounds.nesting_depth, _MAX_BRACE_NESTING)
        self.budget = _BUDGET.get()

    def _value(self, text: str) -> str:
        """Text taken from a variable's value entering the output. Only these are counted: the rest
        of the output is the input's own characters, at most once each.
        """
        self.room -= len(text)
        if self.room < 0:
            raise DockerfileLimitError(None, "expansion_bytes", "one variable expansion")
        if self.budget is not None and text:
            self.budget.take(len(text))
        return text

    def until(self, stops: str) -> str:
        out: list[str] = []
        s = self.s
        while self.i < len(s) and s[self.i] not in stops:
            out.append(self._token())
        return "".join(out)

    def words(self) -> list[str]:
        words: list[str] = []
        buf: list[str] = []
        started = False
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c == "$":
                chars = self._dollar()  # unquoted expansions are split on whitespace, like a shell
            elif c in _BLANK:
                chars = c
                self.i += 1
            else:
                buf.append(self._token())
                started = True
                continue
            # Split with the regex engine, not character by character: the value may be large.
            for piece in _SPLIT_BLANKS.split(chars):
                if not piece:
                    continue
                if piece[0] in _BLANK:
                    if started:
                        words.append("".join(buf))
                        buf, started = [], False
                else:
                    buf.append(piece)
                    started = True
        if started:
            words.append("".join(buf))
        return words

    def _token(self) -> str:
        c = self.s[self.i]
        if c == self.esc:
            return self._escaped()
        if c == "'":
            return self._single()
        if c == '"':
            return self._double()
        if c == "$":
            return self._dollar()
        self.i += 1
        return c

    def _escaped(self) -> str:
        s, i = self.s, self.i
        if i + 1 >= len(s):
            self.i += 1
            return s[i] if self.raw else ""
        self.i += 2
        return s[i : i + 2] if self.raw else s[i + 1]

    def _single(self) -> str:
        s, start = self.s, self.i
        end = s.find("'", start + 1)
        end = len(s) if end < 0 else end
        self.i = min(end + 1, len(s))
        return s[start : self.i] if self.raw else s[start + 1 : end]

    def _double(self) -> str:
        s = self.s
        self.i += 1
        out: list[str] = []
        while self.i < len(s) and s[self.i] != '"':
            c = s[self.i]
            if c == self.esc and self.i + 1 < len(s) and s[self.i + 1] in ('"', "$", self.esc):
                out.append(s[self.i : self.i + 2] if self.raw else s[self.i + 1])
                self.i += 2
            elif c == "$":
                out.append(self._dollar())
            else:
                out.append(c)
                self.i += 1
        closed = self.i < len(s)
        if closed:
            self.i += 1
        text = "".join(out)
        return ('"' + text + ('"' if closed else "")) if self.raw else text

    def _dollar(self) -> str:
        s, start = self.s, self.i
        if start + 1 < len(s) and s[start + 1] == "{":
            return self._braced(start)
        j = start + 1
        if j < len(s) and s[j] in _NAME_START:
            while j < len(s) and s[j] in _NAME_CHARS:
                j += 1
            self.i = j
            return self._lookup(s[start + 1 : j], s[start:j])
        self.i += 1
        return "$"

    def _literal_to_brace(self, start: int) -> str:
        end = self.s.find("}", start)
        self.i = len(self.s) if end < 0 else end + 1
        return self.s[start : self.i]

    def _braced(self, start: int) -> str:
        self.depth += 1
        if self.depth > self.max_depth:
            raise DockerfileLimitError(None, "nesting_depth", "`${...}` nested in a variable expansion")
        try:
            return self._braced_at(start)
        finally:
            self.depth -= 1

    def _braced_at(self, start: int) -> str:
        s = self.s
        j = start + 2
        while j < len(s) and s[j] in _NAME_CHARS:
            j += 1
        name = s[start + 2 : j]
        self.i = j
        if not name or j >= len(s):
            return self._literal_to_brace(start)
        if s[j] == "}":
            self.i = j + 1
            return self._lookup(name, s[start : self.i])
        op = next((o for o in (":-", ":+", ":?", "##", "%%", "//") if s.startswith(o, j)), None)
        if op is None and s[j] in "-+?#%/":
            op = s[j]
        if op is None:
            return self._literal_to_brace(start)
        self.i = j + len(op)
        repl = ""
        if op in ("/", "//"):
            word = self.until("/}")
            if self.i < len(s) and s[self.i] == "/":
                self.i += 1
                repl = self.until("}")
        else:
            word = self.until("}")
        if self.i >= len(s):
            return s[start:]  # no closing brace: Docker rejects it, we keep it literally
        self.i += 1
        return self._apply(name, op, word, repl, s[start : self.i])

    def _lookup(self, name: str, ref: str) -> str:
        value = self.vars.get(name)
        return self.on_unset(ref) if value is None else self._value(value)

    def _apply(self, name: str, op: str, word: str, repl: str, ref: str) -> str:
        # `word` and `repl` were expanded (and counted) already; what comes from the variable's
        # value is counted here, once.
        value = self.vars.get(name)
        if op == ":-":
            return self._value(value) if value else word
        if op == "-":
            return word if value is None else self._value(value)
        if op == ":+":
            return word if value else ""
        if op == "+":
            return "" if value is None else word
        if op == ":?":
            return self._value(value) if value else self.on_unset(ref)
        if value is None:
            return self.on_unset(ref)
        if op in ("#", "##", "%", "%%"):
            return self._value(_remove(value, op, word))
        return self._value(_replace(value, word, repl, op == "//", self.room))


def substitute(
    text: str,
    variables: Mapping[str, str | None],
    *,
    escape: str = "\\",
    raw: bool = False,
    on_unset: Callable[[str], str] | None = None,
) -> str:
    """Expand variables in `text` as one word (whitespace kept). Quotes and escapes are removed unless
    `raw`. A variable mapped to None counts as declared but unset. `on_unset` receives the reference
    as written (`$X`, `${X}`, `${X#p}`) when its value is unknown and returns the replacement.
    """
    return _Lexer(text, variables, escape, raw, on_unset).until("")


def split_words(
    text: str,
    variables: Mapping[str, str | None],
    *,
    escape: str = "\\",
    on_unset: Callable[[str], str] | None = None,
) -> list[str]:
    """Expand and split `text` into words the way COPY/ADD/EXPOSE/VOLUME arguments are split:
    unquoted whitespace (also inside expanded values) separates words; quotes are removed.
    """
    return _Lexer(text, variables, escape, False, on_unset).words()


def raw_words(text: str, escape: str = "\\") -> list[str]:
    """Split on unquoted whitespace without expanding; quotes and escapes stay as written."""
    words: list[str] = []
    buf: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(text):
        c = text[i]
        if quote is None and c in _BLANK:
            if buf:
                words.append("".join(buf))
                buf = []
        elif c == escape and quote != "'" and i + 1 < len(text):
            buf.append(text[i : i + 2])
            i += 1
        else:
            if quote is None and c in "'\"":
                quote = c
            elif c == quote:
                quote = None
            buf.append(c)
        i += 1
    if buf:
        words.append("".join(buf))
    return words


def variable_assignments(instruction: Instruction, escape: str = "\\") -> list[tuple[str, str | None]]:
    """The (name, raw value) pairs an ARG or ENV declares, values not yet expanded nor unquoted.
    `ARG NAME` without default gives None. ENV's legacy `ENV NAME value with spaces` form is supported.
    """
    words = raw_words(instruction.args, escape)
    if not words:
        return []
    if instruction.keyword == "ENV" and "=" not in words[0]:
        rest = instruction.args.strip()[len(words[0]) :].strip()
        return [(words[0], rest)]
    pairs: list[tuple[str, str | None]] = []
    for word in words:
        name, eq, value = word.partition("=")
        pairs.append((name, value if eq else None))
    return pairs


_ABSENT: Any = object()


class _EnvChain:
    """A stage's ENV values at its end: its own over those of the stage it is built FROM.

    Looked up through the chain of parents, which is flattened into one mapping every 32 stages so
    that a lookup stays short however long the chain (copying a whole mapping per stage instead is
    quadratic in a file of thousands of chained stages).
    """

    __slots__ = ("depth", "own", "parent")
    depth: int
    own: dict[str, str]
    parent: _EnvChain | None

    def __init__(self, own: dict[str, str], parent: _EnvChain | None) -> None:
        if parent is not None and parent.depth >= 32:
            merged = parent.flat()
            merged.update(own)
            own, parent = merged, None
        self.own = own
        self.parent = parent
        self.depth = 0 if parent is None else parent.depth + 1

    def get(self, name: str) -> Any:
        chain: _EnvChain | None = self
        while chain is not None:
            value = chain.own.get(name, _ABSENT)
            if value is not _ABSENT:
                return value
            chain = chain.parent
        return _ABSENT

    def flat(self) -> dict[str, str]:
        layers: list[dict[str, str]] = []
        chain: _EnvChain | None = self
        while chain is not None:
            layers.append(chain.own)
            chain = chain.parent
        merged: dict[str, str] = {}
        for layer in reversed(layers):
            merged.update(layer)
        return merged


_History = dict[str, tuple[list[int], list[Any]]]  # name -> (sequence numbers, values), ascending


def _record(history: _History, name: str, seq: int, value: Any) -> None:
    seqs, values = history.setdefault(name, ([], []))
    seqs.append(seq)
    values.append(value)


def _before(history: _History, name: str, seq: int) -> Any:
    """The value last given to `name` before point `seq`, or `_ABSENT`."""
    found = history.get(name)
    if found is None:
        return _ABSENT
    position = bisect.bisect_left(found[0], seq)
    return found[1][position - 1] if position else _ABSENT


class _Scopes:
    """Every ARG and ENV value of a file, computed once, in order, with the same rules `scope_at`
    documents; each assignment has a sequence number, and an instruction sees those before its own.
    """

    def __init__(self, dockerfile: Dockerfile) -> None:
        self.dockerfile = dockerfile
        escape = dockerfile.escape
        self.start: dict[int, int] = {}  # id(instruction) -> first sequence number it would take
        self.globals: _History = {}
        self.env: list[_History] = []
        self.args: list[_History] = []
        self.env_end: list[_EnvChain] = []
        room = limits.active().expansion_bytes
        seq = 0

        def expand(raw: str, view: _View, inst: Instruction) -> str:
            nonlocal room
            value = at_line(inst, lambda: substitute(raw, view, escape=escape))
            room -= len(value)
            if room < 0:
                raise DockerfileLimitError(inst.start_line, "expansion_bytes", "ARG and ENV values together")
            return value

        for inst in dockerfile.instructions:
            if inst.stage_index is not None:
                break
            self.start[id(inst)] = seq + 1
            if inst.keyword != "ARG":
                continue
            for name, raw in variable_assignments(inst, escape):
                seq += 1
                if raw is not None:
                    _record(self.globals, name, seq, expand(raw, _View(self, None, seq), inst))
                elif _before(self.globals, name, seq) is _ABSENT:
                    _record(self.globals, name, seq, None)
        final = _View(self, None, seq + 1)
        for stage in dockerfile.stages:
            parent = dockerfile.parent_of(stage)
            env: _History = {}
            args: _History = {}
            self.env.append(env)
            self.args.append(args)
            for inst in stage.instructions:
                self.start[id(inst)] = seq + 1
                if inst.keyword not in ("ARG", "ENV"):
                    continue
                for name, raw in variable_assignments(inst, escape):
                    seq += 1
                    view = _View(self, stage.index, seq, parent)
                    if inst.keyword == "ENV":
                        _record(env, name, seq, expand(raw or "", view, inst))
                    elif raw is not None:
                        _record(args, name, seq, expand(raw, view, inst))
                    else:
                        _record(args, name, seq, final.get(name))
            own = {name: values[-1] for name, (_, values) in env.items()}
            self.env_end.append(_EnvChain(own, self.env_end[parent.index] if parent is not None else None))
        self.final_seq = seq + 1


class _View(Mapping[str, "str | None"]):
    """The variables one point of a file sees (see `scope_at`), looked up in `_Scopes` on demand."""

    __slots__ = ("parent", "scopes", "seq", "stage")

    def __init__(self, scopes: _Scopes, stage: int | None, seq: int, parent: Stage | None = None) -> None:
        self.scopes = scopes
        self.stage = stage
        self.seq = seq
        self.parent = parent

    def _find(self, name: str) -> Any:
        scopes = self.scopes
        if self.stage is None:
            return _before(scopes.globals, name, self.seq)
        value = _before(scopes.env[self.stage], name, self.seq)
        if value is _ABSENT and self.parent is not None:
            value = scopes.env_end[self.parent.index].get(name)
        if value is _ABSENT:
            value = _before(scopes.args[self.stage], name, self.seq)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        value = self._find(key)
        return default if value is _ABSENT else value

    def __getitem__(self, key: str) -> str | None:
        value = self._find(key)
        if value is _ABSENT:
            raise KeyError(key)
        return value  # type: ignore[no-any-return]

    def _names(self) -> set[str]:
        scopes = self.scopes
        if self.stage is None:
            histories = [scopes.globals]
        else:
            histories = [scopes.env[self.stage], scopes.args[self.stage]]
        names = {name for history in histories for name in history}
        if self.stage is not None and self.parent is not None:
            names.update(scopes.env_end[self.parent.index].flat())
        return {name for name in names if self._find(name) is not _ABSENT}

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._names()))

    def __len__(self) -> int:
        return len(self._names())


def at_line(inst: Instruction, work: Callable[[], T]) -> T:
    """`work()`, with a limit error that does not know its line located at `inst`."""
    try:
        return work()
    except DockerfileLimitError as exc:
        if exc.line is not None:
            raise
        raise DockerfileLimitError(inst.start_line, exc.limit, exc.detail) from None


def scope_at(dockerfile: Dockerfile, instruction: Instruction) -> Mapping[str, str | None]:
    """The variables `instruction` can use, with Docker's rules: before the first FROM the global
    ARGs declared above it; in a stage the ENV values inherited from the stages it is built FROM and
    the ARG/ENV declared above it in its own stage (ENV wins over ARG; `ARG X` without default takes
    the global default). Variables from the base image's config are unknown and therefore absent.

    The values are computed once per file (`_Scopes`); the mapping returned looks them up.
    """
    scopes = dockerfile.cache.get("scopes")
    if scopes is None:
        scopes = dockerfile.cache["scopes"] = _Scopes(dockerfile)
    seq = scopes.start.get(id(instruction), scopes.final_seq)
    if instruction.stage_index is None or instruction.keyword == "FROM":
        return _View(scopes, None, seq if instruction.stage_index is None else scopes.final_seq)
    stage = dockerfile.stages[instruction.stage_index]
    return _View(scopes, stage.index, seq, dockerfile.parent_of(stage))


# --- parsing -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Raw:
    keyword: str
    rest: str
    original: str
    start: int
    end: int
    heredocs: tuple[Heredoc, ...]


def _trim_continuation(line: str, escape: str) -> tuple[str, bool]:
    stripped = line.rstrip(" \t")
    if stripped.endswith(escape):
        return stripped[: -len(escape)], True
    return line, False


def _split_flags(text: str) -> tuple[list[tuple[str, str]], str]:
    flags: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _BLANK:
            i += 1
        if not text.startswith("--", i):
            break
        word: list[str] = []
        quote: str | None = None
        while i < n and (quote is not None or text[i] not in _BLANK):
            c = text[i]
            if quote is None and c in "'\"":
                quote = c
            elif c == quote:
                quote = None
            else:
                word.append(c)
            i += 1
        flag = "".join(word)
        if flag == "--":
            break
        name, _, value = flag[2:].partition("=")
        flags.append((name, value))
    return flags, text[i:].strip()


def _json_array(text: str) -> tuple[str, ...] | None:
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: `[[[[…` nested past the C stack's depth
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def parse_heredoc_word(word: str) -> tuple[str, bool, bool] | None:
    """(name, chomp, expand) when a raw word (quotes kept) opens a here-document, else None."""
    m = _HEREDOC_WORD.fullmatch(word)
    if m is None or not m[3]:
        return None
    names = split_words(m[3], {})
    if len(names) != 1:
        return None
    raw = raw_words(m[3])
    quoted = raw[0].count("'") + raw[0].count('"') != names[0].count("'") + names[0].count('"')
    return names[0], m[2] == "-", not quoted


def _keep(ref: str) -> str:
    return ref


def _directive(line: str) -> tuple[str, str] | None:
    """(key, value) when `line` has the shape of a parser directive, `# key = value`.

    Read by hand: the regex it replaces (a lazy value followed by optional blanks) took quadratic
    time on a directive padded with blanks.
    """
    text = line.strip()
    if not text.startswith("#"):
        return None
    rest = text[1:].lstrip()
    end = 0
    while end < len(rest) and (rest[end].isascii() and rest[end].isalnum()):
        end += 1
    key = rest[:end]
    if not key or not key[0].isalpha():
        return None
    after = rest[end:].lstrip()
    if not after.startswith("="):
        return None
    value = after[1:].strip()
    return (key, value) if value else None


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        bounds = limits.active()
        self.line_bytes = bounds.line_bytes
        self.continuation_lines = bounds.continuation_lines
        text = text.removeprefix("\ufeff")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self.lines = [line.removesuffix("\r") for line in lines]
        for number, line in enumerate(self.lines, 1):
            if len(line) > self.line_bytes:
                raise DockerfileLimitError(number, "line_bytes")
        self.path = path
        self.issues: list[ParseIssue] = []
        self.comments: list[Comment] = []
        self.directives: dict[str, str] = {}
        self.directive_lines: dict[str, int] = {}
        self.escape = "\\"

    def issue(self, line: int, message: str) -> None:
        self.issues.append(ParseIssue(line, message))

    def parse(self) -> Dockerfile:
        pos = self._directives()
        raws: list[_Raw] = []
        while pos < len(self.lines):
            pos, raw = self._next(pos)
            if raw is not None:
                raws.append(raw)
        instructions, stages = self._assemble(raws)
        self.issues.sort(key=lambda issue: issue.line)
        return Dockerfile(
            path=self.path,
            directives=self.directives,
            stages=stages,
            instructions=instructions,
            errors=tuple(self.issues),
            comments=tuple(self.comments),
        )

    def _directives(self) -> int:
        pos = 0
        while pos < len(self.lines):
            found = _directive(self.lines[pos])
            if found is None or found[0].lower() not in DIRECTIVES:
                break
            key = found[0].lower()
            if key in self.directives:
                self.issue(pos + 1, f"only one {key} parser directive can be used")
            else:
                self.directives[key] = found[1]
                self.directive_lines[key] = pos + 1
            pos += 1
        escape = self.directives.get("escape")
        if escape is not None:
            if escape in ("\\", "`"):
                self.escape = escape
            else:
                message = f"invalid escape character {escape!r}: must be a backslash or a backtick"
                self.issue(self.directive_lines["escape"], message)
        return pos

    def _comment(self, pos: int) -> bool:
        stripped = self.lines[pos].lstrip()
        if stripped.startswith("#"):
            self.comments.append(Comment(pos + 1, stripped[1:].strip()))
            return True
        return False

    def _next(self, pos: int) -> tuple[int, _Raw | None]:
        lines = self.lines
        if self._comment(pos) or not lines[pos].strip():
            return pos + 1, None
        start = end = pos + 1
        part, more = _trim_continuation(lines[pos].lstrip(), self.escape)
        parts = [part]
        size = len(part)
        pos += 1
        while more:
            if pos >= len(lines):
                self.issue(end, "line continuation at end of file")
                break
            if pos - start >= self.continuation_lines:
                raise DockerfileLimitError(start, "continuation_lines")
            if self._comment(pos) or not lines[pos].strip():
                pos += 1
                continue
            part, more = _trim_continuation(lines[pos], self.escape)
            parts.append(part)
            size += len(part)
            if size > self.line_bytes:
                raise DockerfileLimitError(start, "line_bytes", "an instruction with its continuation lines")
            pos += 1
            end = pos
        original = "".join(parts).strip()
        if not original:
            return pos, None
        head = _KEYWORD.match(original)
        assert head is not None  # `original` is stripped and not empty
        keyword, rest = head[1].upper(), head[2]
        heredocs: list[Heredoc] = []
        inner = rest.split(None, 1)[0].upper() if keyword == "ONBUILD" and rest.split() else ""
        if (keyword in HEREDOC_KEYWORDS or inner in HEREDOC_KEYWORDS) and "<<" in original:
            for word in raw_words(original):
                opened = parse_heredoc_word(word)
                if opened is None:
                    continue
                pos, heredoc = self._heredoc(pos, start, *opened)
                heredocs.append(heredoc)
                end = heredoc.end_line
        return pos, _Raw(keyword, rest.strip(), original, start, end, tuple(heredocs))

    def _heredoc(self, pos: int, start: int, name: str, chomp: bool, expand: bool) -> tuple[int, Heredoc]:
        lines = self.lines
        first = pos + 1 if pos < len(lines) else max(len(lines), 1)
        body: list[str] = []
        while pos < len(lines):
            line = lines[pos]
            pos += 1
            if (line.lstrip("\t") if chomp else line) == name:
                text = "".join((b.lstrip("\t") if chomp else b) + "\n" for b in body)
                return pos, Heredoc(name, text, first, pos, chomp, expand)
            body.append(line)
        self.issue(start, f"unterminated heredoc {name}: no line {name!r} before end of file")
        text = "".join((b.lstrip("\t") if chomp else b) + "\n" for b in body)
        return pos, Heredoc(name, text, first, max(len(lines), first), chomp, expand)

    def _instruction(self, raw: _Raw, stage_index: int | None) -> Instruction:
        flag_list, args = _split_flags(raw.rest)
        json_args = _json_array(args) if raw.keyword in JSON_KEYWORDS else None
        form = None
        if raw.keyword in JSON_KEYWORDS:
            form = "exec" if json_args is not None else "shell"
        return Instruction(
            keyword=raw.keyword,
            args=args,
            flags=dict(flag_list),
            start_line=raw.start,
            end_line=raw.end,
            stage_index=stage_index,
            heredocs=raw.heredocs,
            form=form,
            json_args=json_args,
            original=raw.original,
            flag_list=tuple(flag_list),
        )

    def _assemble(self, raws: list[_Raw]) -> tuple[tuple[Instruction, ...], tuple[Stage, ...]]:
        instructions: list[Instruction] = []
        stage_heads: list[tuple[Instruction, str | None, str, str]] = []
        members: list[list[Instruction]] = []
        global_args: dict[str, str | None] = {}
        names: set[str | None] = set()
        room = limits.active().expansion_bytes
        for raw in raws:
            stage_index = len(stage_heads) if raw.keyword == "FROM" else (len(stage_heads) - 1)
            inst = self._instruction(raw, stage_index if stage_index >= 0 else None)
            instructions.append(inst)
            self._check(inst)
            if inst.keyword == "FROM":
                name, base_raw = self._from(inst, names)
                names.add(name)
                base = at_line(
                    inst, partial(substitute, base_raw, global_args, escape=self.escape, on_unset=_keep)
                )
                if base_raw and not base.strip():
                    self.issue(inst.start_line, f"base image name {base_raw!r} is blank after substitution")
                stage_heads.append((inst, name, base, base_raw))
                members.append([])
            elif members:
                members[-1].append(inst)
            elif inst.keyword == "ARG":
                for name, value in variable_assignments(inst, self.escape):
                    if value is not None:
                        expanded = at_line(inst, partial(substitute, value, global_args, escape=self.escape))
                        room -= len(expanded)
                        if room < 0:
                            raise DockerfileLimitError(
                                inst.start_line, "expansion_bytes", "ARG values together"
                            )
                        global_args[name] = expanded
                    else:
                        global_args.setdefault(name, None)
            elif inst.keyword in KEYWORDS:
                self.issue(inst.start_line, f"{inst.keyword} before the first FROM: only ARG may precede it")
        if not stage_heads:
            self.issue(1, "no FROM instruction: a Dockerfile must define at least one stage")
        stages = tuple(
            Stage(
                index=i,
                name=name,
                base=base,
                base_raw=base_raw,
                platform=head.flags.get("platform"),
                from_line=head.start_line,
                instructions=tuple(members[i]),
            )
            for i, (head, name, base, base_raw) in enumerate(stage_heads)
        )
        return tuple(instructions), stages

    def _check(self, inst: Instruction) -> None:
        if inst.keyword not in KEYWORDS:
            self.issue(inst.start_line, f"unknown instruction: {inst.keyword}")
            return
        if not inst.args and not inst.heredocs:
            self.issue(inst.start_line, f"{inst.keyword} requires at least one argument")
        elif inst.keyword == "SHELL" and inst.json_args is None:
            self.issue(inst.start_line, "SHELL requires the arguments to be in JSON form")

    def _from(self, inst: Instruction, earlier: set[str | None]) -> tuple[str | None, str]:
        words = inst.args.split()
        name: str | None = None
        if len(words) == 3 and words[1].lower() == "as":
            name = words[2].lower()
            if not _STAGE_NAME.fullmatch(name):
                self.issue(inst.start_line, f"invalid stage name {words[2]!r}")
            elif name in earlier:
                self.issue(inst.start_line, f"duplicate stage name {words[2]!r}")
        elif len(words) != 1 and inst.args:
            self.issue(inst.start_line, "FROM requires either one or three arguments (image [AS name])")
        return name, words[0] if words else ""


def parse_dockerfile(text: str, path: str) -> Dockerfile:
    """Parse Dockerfile `text`; `path` is recorded as given (repository-relative by convention)."""
    return _Parser(text, path).parse()
