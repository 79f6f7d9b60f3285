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
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

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
HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
JSON_KEYWORDS = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"})
DIRECTIVES = frozenset({"syntax", "escape", "check"})
DOCKERFILE_NAMES = ("Dockerfile", "Containerfile", "docker/Dockerfile")

_DIRECTIVE = re.compile(r"#\s*([A-Za-z][A-Za-z0-9]*)\s*=\s*(.+?)\s*")
_HEREDOC_WORD = re.compile(r"(\d*)<<(-?)([^<]*)", re.S)
_KEYWORD = re.compile(r"(\S+)\s*(.*)", re.S)
_STAGE_NAME = re.compile(r"[a-z][a-z0-9_.-]*")
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_BLANK = " \t\r\n\f\v"


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
        candidates = self.stages if before is None else self.stages[:before]
        if ref.isdigit():
            index = int(ref)
            return candidates[index] if index < len(candidates) else None
        wanted = ref.lower()
        return next((s for s in reversed(candidates) if s.name == wanted), None)

    def parent_of(self, stage: Stage) -> Stage | None:
        """The earlier stage that `stage` is built FROM, or None when its base is an image."""
        if stage.base.isdigit():
            return None  # FROM takes stage names only; a number is an image name
        return self.stage(stage.base, before=stage.index)


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


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.S)


def _remove(value: str, op: str, pattern: str) -> str:
    glob = _glob_regex(pattern)
    ends = range(len(value) + 1)
    if op in ("#", "##"):
        order = ends if op == "#" else reversed(ends)
        for k in order:
            if glob.fullmatch(value[:k]):
                return value[k:]
        return value
    order = reversed(ends) if op == "%" else ends
    for k in order:
        if glob.fullmatch(value[k:]):
            return value[:k]
    return value


def _replace(value: str, pattern: str, repl: str, every: bool) -> str:
    if not pattern:
        return value
    glob = _glob_regex(pattern)
    out: list[str] = []
    i = 0
    while i <= len(value):
        end = next((e for e in range(len(value), i, -1) if glob.fullmatch(value[i:e])), None)
        if end is None:
            if i < len(value):
                out.append(value[i])
            i += 1
            continue
        out.append(repl)
        i = end
        if not every:
            out.append(value[i:])
            break
    return "".join(out)


class _Lexer:
    """Expands variables in `text`; in `raw` mode quotes and escapes are kept as written."""

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
            for ch in chars:
                if ch in _BLANK:
                    if started:
                        words.append("".join(buf))
                        buf, started = [], False
                else:
                    buf.append(ch)
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
        return self.on_unset(ref) if value is None else value

    def _apply(self, name: str, op: str, word: str, repl: str, ref: str) -> str:
        value = self.vars.get(name)
        if op == ":-":
            return value if value else word
        if op == "-":
            return word if value is None else value
        if op == ":+":
            return word if value else ""
        if op == "+":
            return "" if value is None else word
        if op == ":?":
            return value if value else self.on_unset(ref)
        if value is None:
            return self.on_unset(ref)
        if op in ("#", "##", "%", "%%"):
            return _remove(value, op, word)
        return _replace(value, word, repl, op == "//")


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


def scope_at(dockerfile: Dockerfile, instruction: Instruction) -> dict[str, str | None]:
    """The variables `instruction` can use, with Docker's rules: before the first FROM the global
    ARGs declared above it; in a stage the ENV values inherited from the stages it is built FROM and
    the ARG/ENV declared above it in its own stage (ENV wins over ARG; `ARG X` without default takes
    the global default). Variables from the base image's config are unknown and therefore absent.
    """
    escape = dockerfile.escape
    global_args: dict[str, str | None] = {}
    in_global_scope = instruction.stage_index is None or instruction.keyword == "FROM"
    for inst in dockerfile.instructions:
        if inst.stage_index is not None or inst is instruction:
            break
        if inst.keyword == "ARG":
            for name, value in variable_assignments(inst, escape):
                if value is not None:
                    global_args[name] = substitute(value, global_args, escape=escape)
                else:
                    global_args.setdefault(name, None)
    if in_global_scope or instruction.stage_index is None:
        return global_args

    chain: list[Stage] = []
    stage: Stage | None = dockerfile.stages[instruction.stage_index]
    while stage is not None:  # parent_of only looks at earlier stages, so this ends
        chain.append(stage)
        stage = dockerfile.parent_of(stage)
    env: dict[str, str | None] = {}
    args: dict[str, str | None] = {}
    for current in reversed(chain):
        args = {}  # ARG values do not cross stages; ENV values are in the image config and do
        for inst in current.instructions:
            if inst is instruction:
                break
            if inst.keyword not in ("ARG", "ENV"):
                continue
            for name, value in variable_assignments(inst, escape):
                merged = {**args, **env}
                if inst.keyword == "ENV":
                    env[name] = substitute(value or "", merged, escape=escape)
                elif value is not None:
                    args[name] = substitute(value, merged, escape=escape)
                else:
                    args[name] = global_args.get(name)
    return {**args, **env}


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
    except ValueError:
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


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        text = text.removeprefix("\ufeff")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self.lines = [line.removesuffix("\r") for line in lines]
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
            m = _DIRECTIVE.fullmatch(self.lines[pos].strip())
            if m is None or m[1].lower() not in DIRECTIVES:
                break
            key = m[1].lower()
            if key in self.directives:
                self.issue(pos + 1, f"only one {key} parser directive can be used")
            else:
                self.directives[key] = m[2]
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
        pos += 1
        while more:
            if pos >= len(lines):
                self.issue(end, "line continuation at end of file")
                break
            if self._comment(pos) or not lines[pos].strip():
                pos += 1
                continue
            part, more = _trim_continuation(lines[pos], self.escape)
            parts.append(part)
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
        for raw in raws:
            stage_index = len(stage_heads) if raw.keyword == "FROM" else (len(stage_heads) - 1)
            inst = self._instruction(raw, stage_index if stage_index >= 0 else None)
            instructions.append(inst)
            self._check(inst)
            if inst.keyword == "FROM":
                name, base_raw = self._from(inst, [head[1] for head in stage_heads])
                base = substitute(base_raw, global_args, escape=self.escape, on_unset=lambda ref: ref)
                if base_raw and not base.strip():
                    self.issue(inst.start_line, f"base image name {base_raw!r} is blank after substitution")
                stage_heads.append((inst, name, base, base_raw))
                members.append([])
            elif members:
                members[-1].append(inst)
            elif inst.keyword == "ARG":
                for name, value in variable_assignments(inst, self.escape):
                    if value is not None:
                        global_args[name] = substitute(value, global_args, escape=self.escape)
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

    def _from(self, inst: Instruction, earlier: list[str | None]) -> tuple[str | None, str]:
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
