"""A reader for the POSIX shell a Dockerfile RUN executes (and the `sh -c` text inside it), into commands.

`parse_shell` reads POSIX shell text into a `Script`: pipelines (commands joined by `|`) separated by
`;`, `&&`, `||`, `&` and newlines. Quotes are removed from words (`Word.text`) while expansions stay as
written (`$HOME`, `${X:-y}`, `$(…)`); command substitutions, backticks and process substitutions
(`<(…)`) are parsed too and kept on the word that holds them (`Word.subs`). Redirections are not
arguments: their targets are dropped, here-document delimiters (`<<EOF`) and here-strings (`<<<`) are
kept on the command. Compound-command keywords (`if`, `then`, `do`, `{`, `!`, …) are stripped so that
`then apt-get install x` is the command `apt-get install x`; `for`/`case` headers are dropped and the
bodies of `case` items are parsed. This is a reader for linting, not a shell: it never expands
variables, and on text it does not understand (an unclosed quote) it reads to the end.

Each `Command` also knows the program it really runs: leading `NAME=value` assignments and wrappers
(`sudo`, `env`, `xargs`, `timeout`, `busybox`, …) are skipped, so `sudo -E env DEBIAN_FRONTEND=x
/usr/bin/apt-get install y` is `apt-get` with arguments `install y`, run under `sudo` and `env`. The
code a command runs as text (`sh -c '…'`, `su -c …`, `eval …`) is parsed into `Command.inner`.
`parse_options` splits a command's arguments GNU-style, for the rules that ask about its options.

The text is hostile (it comes from a pull request): the reader is one left-to-right pass over the
text, and command substitutions, backticks, process substitutions and `case` statements nested deeper
than `_MAX_NESTING` (together with `sh -c` levels, at most `_MAX_DEPTH` of those) are kept as plain
text instead of being parsed (each level is a few Python frames, and a RUN of a million `$(` must not
exhaust the stack). Nothing here runs a regular expression that can backtrack on the text.
`tests/manifests/test_shell_fuzz.py` holds it to that.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "yash"})
_KEYWORD_PREFIXES = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{"})
_CLOSERS = frozenset({"fi", "done", "esac", "}"})
_HEADERS = frozenset({"for", "select", "case", "function"})
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=")
_MAX_DEPTH = 8  # nesting of `sh -c` strings parsed as code; deeper ones are left as plain words
_MAX_NESTING = 64  # nesting of `$(…)`, backticks, `<(…)` and `case` parsed; deeper ones stay text


@dataclass(frozen=True, slots=True)
class Word:
    """One shell word: `text` without quotes (expansions as written), `raw` as written, `subs` the
    command/process substitutions inside it, parsed.
    """

    text: str
    raw: str
    subs: tuple[Script, ...] = ()


@dataclass(frozen=True, slots=True)
class Command:
    """One simple command. `words` are all its words after the leading assignments; `name` is the
    basename of the program it runs after wrappers ("" when there is none), `args` the words after it.
    `env` holds the variables set for it (leading assignments and `env NAME=value`), `prefix` the
    assignment words themselves; `subshell` is true inside `( … )`, whose `cd` does not last.
    """

    words: tuple[Word, ...]
    assignments: tuple[tuple[str, str], ...]
    name: str
    program_index: int
    wrappers: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    heredocs: tuple[str, ...] = ()
    herestrings: tuple[Word, ...] = ()
    inner: Script | None = None
    prefix: tuple[Word, ...] = ()
    subshell: bool = False

    @property
    def args(self) -> tuple[str, ...]:
        return tuple(w.text for w in self.words[self.program_index + 1 :])

    @property
    def arg_words(self) -> tuple[Word, ...]:
        return self.words[self.program_index + 1 :]

    @property
    def program_word(self) -> Word | None:
        return self.words[self.program_index] if self.program_index < len(self.words) else None

    def substitutions(self) -> Iterator[Script]:
        """The scripts substituted into its words and here-strings, in order."""
        for word in (*self.prefix, *self.words, *self.herestrings):
            yield from word.subs


@dataclass(frozen=True, slots=True)
class Script:
    pipelines: tuple[tuple[Command, ...], ...]

    def all_pipelines(self) -> Iterator[tuple[Command, ...]]:
        """Every pipeline, nested ones included, roughly in execution order: substitutions before the
        pipeline that uses them, `sh -c` scripts right after it.
        """
        for pipeline in self.pipelines:
            for command in pipeline:
                for sub in command.substitutions():
                    yield from sub.all_pipelines()
            yield pipeline
            for command in pipeline:
                if command.inner is not None:
                    yield from command.inner.all_pipelines()

    def all_commands(self) -> Iterator[Command]:
        for pipeline in self.all_pipelines():
            yield from pipeline

    def top_commands(self) -> Iterator[Command]:
        """The commands of this script only: not those in substitutions or `sh -c` scripts."""
        for pipeline in self.pipelines:
            yield from pipeline


# --- options --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    """Command-line words split into options and positionals. Long options are stored without the
    dashes (`no-install-recommends`), short ones one letter each (`-yq` gives `y` and `q`).
    """

    flags: tuple[tuple[str, str | None], ...]
    positionals: tuple[str, ...]

    def has(self, *names: str) -> bool:
        return any(name in names for name, _ in self.flags)

    def values(self, *names: str) -> list[str]:
        return [value for name, value in self.flags if name in names and value is not None]


def parse_options(
    args: Iterable[str], with_value: frozenset[str] = frozenset(), *, stop_at_positional: bool = False
) -> Options:
    """Split `args` GNU-style. `with_value` names the options (short letters or long names) that take
    an argument: attached (`-oX`, `--name=X`) or as the next word. `--` ends the options; with
    `stop_at_positional` so does the first positional (as shells and `sudo` read their options).
    """
    flags: list[tuple[str, str | None]] = []
    positionals: list[str] = []
    words = list(args)
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "--":
            positionals.extend(words[i:])
            break
        if word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            if eq:
                flags.append((name, value))
            elif name in with_value and i < len(words):
                flags.append((name, words[i]))
                i += 1
            else:
                flags.append((name, None))
        elif word.startswith("-") and len(word) > 1:
            for k, letter in enumerate(word[1:], start=1):
                if letter in with_value:
                    rest = word[k + 1 :]
                    if rest:
                        flags.append((letter, rest))
                    elif i < len(words):
                        flags.append((letter, words[i]))
                        i += 1
                    else:
                        flags.append((letter, None))
                    break
                flags.append((letter, None))
        else:
            positionals.append(word)
            if stop_at_positional:
                positionals.extend(words[i:])
                break
    return Options(tuple(flags), tuple(positionals))


# --- wrappers and programs ------------------------------------------------------------------------

# wrapper -> (options taking a value, positionals it consumes before the wrapped program)
_WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    "sudo": (frozenset("ugCDhprtUTR") | {"user", "group", "chdir", "host", "prompt", "role", "type"}, 0),
    "doas": (frozenset("uC"), 0),
    "env": (frozenset("uCS") | {"unset", "chdir", "split-string"}, 0),
    "nice": (frozenset("n") | {"adjustment"}, 0),
    "ionice": (frozenset("cnp") | {"class", "classdata", "pid"}, 0),
    "nohup": (frozenset(), 0),
    "setsid": (frozenset(), 0),
    "time": (frozenset("fo") | {"format", "output"}, 0),
    "exec": (frozenset("a"), 0),
    "builtin": (frozenset(), 0),
    "stdbuf": (frozenset("ioe") | {"input", "output", "error"}, 0),
    "timeout": (frozenset("ks") | {"kill-after", "signal"}, 1),
    "xargs": (
        frozenset("adEILnPs") | {"arg-file", "delimiter", "eof", "max-lines", "max-args", "max-procs"},
        0,
    ),
    "gosu": (frozenset(), 1),
    "su-exec": (frozenset(), 1),
    "chroot": (frozenset() | {"userspec", "groups"}, 1),
    "runuser": (frozenset("ugG") | {"user", "group", "supp-group"}, 0),
    "busybox": (frozenset(), 0),
    "command": (frozenset(), 0),
}
_SHELL_OPTIONS_WITH_VALUE = frozenset("oO") | {"rcfile", "init-file"}
_SU_OPTIONS_WITH_VALUE = frozenset("csgG") | {
    "command",
    "shell",
    "group",
    "supp-group",
    "whitelist-environment",
}


def basename(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def _program(words: list[str]) -> tuple[int, tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(index of the program word, wrappers skipped, variables set by `env`)."""
    wrappers: list[str] = []
    env: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        name = basename(words[i])
        spec = _WRAPPERS.get(name)
        if spec is None:
            break
        if name == "command" and any(w in ("-v", "-V") for w in words[i + 1 : i + 2]):
            break  # `command -v curl` looks curl up, it does not run it
        if name == "runuser" and not any(w == "--" or w.startswith(("-u", "--user")) for w in words[i + 1 :]):
            break  # `runuser user -c '…'` is su-like: its script is handled as inner text
        with_value, skip = spec
        j = i + 1
        while j < len(words):
            word = words[j]
            if word == "--":
                j += 1
                break
            if not word.startswith("-") or word == "-":
                break
            j += 1
            if word.startswith("--"):
                if "=" not in word and word[2:] in with_value:
                    j += 1
            else:
                # in a cluster (`-Eu user`) the first option taking a value takes the rest or the next word
                valued = next((k for k, letter in enumerate(word[1:], 1) if letter in with_value), None)
                if valued == len(word) - 1:
                    j += 1
        if name == "env":
            while j < len(words) and _ASSIGNMENT.match(words[j]):
                key, _, value = words[j].partition("=")
                env.append((key, value))
                j += 1
        j += skip
        wrappers.append(name)
        i = j
    return i, tuple(wrappers), tuple(env)


def _inner_text(name: str, args: tuple[str, ...]) -> str | None:
    """The shell code a command runs as text: `sh -c CODE`, `su -c CODE`, `eval WORDS`."""
    if name in SHELLS:
        options = parse_options(args, _SHELL_OPTIONS_WITH_VALUE, stop_at_positional=True)
        if options.has("c") and options.positionals:
            return options.positionals[0]
        return None
    if name in ("su", "runuser"):
        options = parse_options(args, _SU_OPTIONS_WITH_VALUE)
        values = options.values("c", "command")
        return values[-1] if values else None
    if name == "eval":
        return " ".join(args)
    return None


def _command(
    words: list[Word],
    heredocs: list[str],
    herestrings: list[Word],
    depth: int,
    subshell: bool = False,
    nesting: int = 0,
) -> Command | None:
    while words and words[0].raw in _KEYWORD_PREFIXES:
        words = words[1:]
    if words and (words[0].raw in _HEADERS or (words[0].raw in _CLOSERS)):
        return None
    assignments: list[tuple[str, str]] = []
    k = 0
    while k < len(words) and _ASSIGNMENT.match(words[k].raw):
        key, _, value = words[k].text.partition("=")
        assignments.append((key.rstrip("+"), value))
        k += 1
    prefix, words = words[:k], words[k:]
    if not words and not assignments:
        return None  # a bare `<<EOF` (`RUN <<EOF`): the here-document is the script itself
    texts = [w.text for w in words]
    index, wrappers, env = _program(texts)
    name = ""
    if index < len(texts):
        name = texts[index] if words[index].subs else basename(texts[index])
    inner: Script | None = None
    if name and depth < _MAX_DEPTH:
        code = _inner_text(name, tuple(texts[index + 1 :]))
        if code is not None:
            # The inner script's substitutions count on from this one's: the stack is one.
            inner = _Reader(code, depth + 1, nesting + 1).script(None)
    return Command(
        words=tuple(words),
        assignments=tuple(assignments),
        name=name,
        program_index=index,
        wrappers=wrappers,
        env=(*assignments, *env),
        heredocs=tuple(heredocs),
        herestrings=tuple(herestrings),
        inner=inner,
        prefix=tuple(prefix),
        subshell=subshell,
    )


def command_of(argv: Iterable[str]) -> Command | None:
    """A command from an argument vector (exec form): no quote removal, no splitting."""
    return _command([Word(w, w) for w in argv], [], [], 0)


# --- the reader -----------------------------------------------------------------------------------

_WORD_END = frozenset(" \t\n;&|()<>")


class _Reader:
    def __init__(self, text: str, depth: int = 0, nesting: int = 0) -> None:
        self.s = text
        self.i = 0
        self.depth = depth
        self.backticks = 0
        self.nesting = nesting

    def _nested(self, closer: str) -> Script:
        """The script of a substitution; past `_MAX_NESTING` it is skipped to its closer unparsed."""
        if self.nesting >= _MAX_NESTING:
            self._skip(closer)
            return Script(())
        self.nesting += 1
        try:
            return self.script(closer)
        finally:
            self.nesting -= 1

    def _skip(self, closer: str) -> None:
        """Move past the text up to the `closer` that ends the current substitution, counting
        parentheses (for `)`) and honouring quotes and backslashes, without parsing it.
        """
        s = self.s
        depth = 0
        quote: str | None = None
        while self.i < len(s):
            c = s[self.i]
            self.i += 1
            if c == "\\":
                self.i += 1
            elif quote is not None:
                if c == quote:
                    quote = None
            elif c in "'\"":
                quote = c
            elif closer == ")" and c == "(":
                depth += 1
            elif c == closer:
                if depth == 0:
                    return
                depth -= 1

    def script(self, closer: str | None, *, case_item: bool = False) -> Script:
        """Read commands up to `closer` (`)` or a backtick, consumed) or the end of the text; in a
        `case` item also up to `;;` (consumed) or an `esac` (left for the caller).
        """
        s = self.s
        pipelines: list[tuple[Command, ...]] = []
        pipe: list[Command] = []
        words: list[Word] = []
        heredocs: list[str] = []
        herestrings: list[Word] = []
        parens = 0

        def end_command() -> None:
            nonlocal words, heredocs, herestrings
            if words or heredocs:
                command = _command(words, heredocs, herestrings, self.depth, parens > 0, self.nesting)
                if command is not None:
                    pipe.append(command)
            words, heredocs, herestrings = [], [], []

        def end_pipeline() -> None:
            nonlocal pipe
            end_command()
            if pipe:
                pipelines.append(tuple(pipe))
            pipe = []

        while self.i < len(s):
            c = s[self.i]
            if closer == "`" and c == "`":
                self.i += 1
                break
            if c in " \t":
                self.i += 1
            elif c == "\\" and s.startswith("\n", self.i + 1):
                self.i += 2
            elif c == "#":  # the main loop is always at a word start, where `#` opens a comment
                end = s.find("\n", self.i)
                self.i = len(s) if end < 0 else end
            elif c == ";" and s.startswith(";;", self.i):
                self.i += 3 if s.startswith(";;&", self.i) else 2
                end_pipeline()
                if case_item:
                    break
            elif c == ";" and s.startswith(";&", self.i):
                self.i += 2
                end_pipeline()
                if case_item:
                    break
            elif c in ";\n":
                self.i += 1
                end_pipeline()
            elif c == "&":
                if s.startswith("&>", self.i):
                    self._redirect(heredocs, herestrings)
                else:
                    self.i += 2 if s.startswith("&&", self.i) else 1
                    end_pipeline()
            elif c == "|":
                if s.startswith("||", self.i):
                    self.i += 2
                    end_pipeline()
                else:
                    self.i += 2 if s.startswith("|&", self.i) else 1
                    end_command()
            elif c == "(":
                if words and s.startswith("()", self.i):
                    self.i += 2  # a function definition `name() { … }`: its body follows
                    words = []
                    continue
                self.i += 1
                parens += 1
                end_command()
            elif c == ")":
                self.i += 1
                if parens > 0:
                    end_command()
                    parens -= 1
                elif closer == ")":
                    break
                else:
                    end_command()
            elif c in "<>" and not s.startswith("(", self.i + 1):
                self._redirect(heredocs, herestrings)
            else:
                if case_item and not words and self._peek_word() == "esac":
                    break
                word = self.word()
                if (
                    word.raw.isdigit()
                    and self.i < len(s)
                    and s[self.i] in "<>"
                    and not s.startswith("(", self.i + 1)
                ):
                    continue  # a file-descriptor number: `2>&1`
                words.append(word)
                if (
                    len(words) == 3
                    and words[0].raw == "case"
                    and words[2].raw == "in"
                    and self.nesting < _MAX_NESTING  # deeper, `case` is read as plain words
                ):
                    header, words = words, []
                    end_pipeline()
                    pipelines.extend(p for sub in header[1].subs for p in sub.pipelines)
                    self.nesting += 1
                    try:
                        for body in self._case_items():
                            end_pipeline()
                            pipelines.extend(body.pipelines)
                    finally:
                        self.nesting -= 1
        end_pipeline()
        return Script(tuple(pipelines))

    def _peek_word(self) -> str:
        j = self.i
        while j < len(self.s) and self.s[j] not in _WORD_END:
            j += 1
        return self.s[self.i : j]

    def _case_items(self) -> Iterator[Script]:
        s = self.s
        while self.i < len(s):
            while self.i < len(s) and s[self.i] in " \t\n;":
                self.i += 1
            if self._peek_word() == "esac":
                self.i += 4
                return
            if self.i < len(s) and s[self.i] == "#":
                end = s.find("\n", self.i)
                self.i = len(s) if end < 0 else end
                continue
            self._pattern()
            yield self.script(None, case_item=True)

    def _pattern(self) -> None:
        s = self.s
        if self.i < len(s) and s[self.i] == "(":
            self.i += 1
        quote: str | None = None
        while self.i < len(s):
            c = s[self.i]
            self.i += 1
            if quote is not None:
                if c == quote:
                    quote = None
            elif c in "'\"":
                quote = c
            elif c == "\\":
                self.i += 1
            elif c == ")":
                return

    def _redirect(self, heredocs: list[str], herestrings: list[Word]) -> None:
        s = self.s
        for op in ("<<<", "<<-", "&>>", "<<", "<>", "<&", ">>", ">&", ">|", "&>", "<", ">"):
            if s.startswith(op, self.i):
                break
        self.i += len(op)
        while self.i < len(s) and s[self.i] in " \t":
            self.i += 1
        if self.i >= len(s) or s[self.i] in "\n;&|)":
            return
        target = self.word()
        if op in ("<<", "<<-"):
            heredocs.append(target.text)
        elif op == "<<<":
            herestrings.append(target)

    def word(self) -> Word:
        s = self.s
        start = self.i
        if s.startswith(("<(", ">("), self.i):
            self.i += 2
            sub = self._nested(")")
            return Word(s[start : self.i], s[start : self.i], (sub,))
        text: list[str] = []
        subs: list[Script] = []
        while self.i < len(s):
            c = s[self.i]
            if c in _WORD_END:
                break
            if c == "\\":
                if s.startswith("\n", self.i + 1):
                    self.i += 2
                    continue
                text.append(s[self.i + 1 : self.i + 2])
                self.i += 2
            elif c == "'":
                end = s.find("'", self.i + 1)
                end = len(s) if end < 0 else end
                text.append(s[self.i + 1 : end])
                self.i = end + 1
            elif c == '"':
                self._double(text, subs)
            elif c == "$":
                self._dollar(text, subs)
            elif c == "`":
                if self.backticks:
                    break  # the end of the backtick substitution being read
                self._backtick(text, subs)
            else:
                text.append(c)
                self.i += 1
        return Word("".join(text), s[start : self.i], tuple(subs))

    def _double(self, text: list[str], subs: list[Script]) -> None:
        s = self.s
        self.i += 1
        while self.i < len(s) and s[self.i] != '"':
            c = s[self.i]
            if c == "\\" and self.i + 1 < len(s) and s[self.i + 1] in '"$`\\\n':
                if s[self.i + 1] != "\n":
                    text.append(s[self.i + 1])
                self.i += 2
            elif c == "$":
                self._dollar(text, subs)
            elif c == "`":
                self._backtick(text, subs)
            else:
                text.append(c)
                self.i += 1
        self.i += 1

    def _backtick(self, text: list[str], subs: list[Script]) -> None:
        start = self.i
        self.i += 1
        self.backticks += 1
        subs.append(self._nested("`"))
        self.backticks -= 1
        text.append(self.s[start : self.i])

    def _dollar(self, text: list[str], subs: list[Script]) -> None:
        s = self.s
        start = self.i
        if s.startswith("$((", self.i):
            depth = 0
            while self.i < len(s):
                if s[self.i] == "(":
                    depth += 1
                elif s[self.i] == ")":
                    depth -= 1
                    if depth == 0:
                        self.i += 1
                        break
                self.i += 1
        elif s.startswith("$(", self.i):
            self.i += 2
            subs.append(self._nested(")"))
        elif s.startswith("${", self.i):
            depth = 0
            while self.i < len(s):
                c = s[self.i]
                if c == "\\":
                    self.i += 1
                elif c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                    if depth == 0:
                        self.i += 1
                        break
                self.i += 1
        elif s.startswith("$'", self.i):
            j = self.i + 2
            while j < len(s) and s[j] != "'":
                j += 2 if s[j] == "\\" else 1
            text.append(s[self.i + 2 : j])
            self.i = j + 1
            return
        else:
            self.i += 1
            while self.i < len(s) and (s[self.i].isalnum() or s[self.i] == "_"):
                self.i += 1
            if self.i == start + 1 and self.i < len(s) and s[self.i] in "@*#?$!-0123456789":
                self.i += 1
        text.append(s[start : self.i])


def parse_shell(text: str) -> Script:
    """The commands of POSIX shell `text` (see the module docstring)."""
    return _Reader(text).script(None)
