r"""Read strace's output: `strace -f -ttt -y -v -x -s N --decode-pids=pidns -q -e signal=none`.

Each line is `PID SECONDS.MICROS` and then a system call with its arguments and result, or an exit
record (`+++ exited with 0 +++`, `+++ killed by SIGKILL +++`). With `-f` a call that blocks while
another process is traced is split in two lines, `name(args <unfinished ...>` and later
`<... name resumed>rest`; `calls` joins them. `--decode-pids=pidns` appends the pid in strace's own
namespace to pids the sandbox sees (`clone(...) = 4 /* 20991 in strace's PID NS */`), which is how
a new process's two pids are paired.

The text is the image's: strings come with C escapes (`-x`: every non-ASCII byte as `\xNN`), and
`decode_string` turns them back into text (undecodable bytes kept as surrogates, which every report
sink replaces). Arguments are split by `split_args`, which respects quotes, brackets, braces and the
`<...>` path decorations of `-y`. Nothing here trusts a line: a line that does not parse is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_LINE = re.compile(r"^(\d+) +(\d+\.\d+) (.*)$")
_EXIT = re.compile(r"^\+\+\+ (?:exited with (\d+)|killed by (SIG[A-Z0-9+]+)(?: \(core dumped\))?) \+\+\+$")
_UNFINISHED = " <unfinished ...>"
_RESUMED = re.compile(r"^<\.\.\. ([a-z0-9_]+) resumed>(.*)$")
_CALL = re.compile(r"^([a-z0-9_]+)\((.*)$", re.DOTALL)
# Where the arguments end and the result begins: `) = ` (strace pads short calls to a column).
_EQUALS = re.compile(r"\) +=(?= )")
# `) = 3</etc/passwd>`, `) = -1 ENOENT (No such file or directory)`, `) = ?`, `) = 4 /* 20991 in
# strace's PID NS */`: the result follows the last `) = ` of the line.
_RESULT = re.compile(
    r"^(?P<value>-?\d+|\?|0x[0-9a-f]+)(?P<deco><(?:[^>\\]|\\.)*>)?"
    r"(?: (?P<errno>E[A-Z0-9]+) \([^)]*\))?"
    r"(?: \(flags [^)]*\))?"
    r"(?: /\* (?P<nspid>\d+) in strace's PID NS \*/)?"
    r"(?: \(.*\))?\s*$"
)
_ESCAPES = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, "a": 7, "b": 8, "e": 27, '"': 34, "\\": 92, "'": 39}


@dataclass(frozen=True, slots=True)
class Call:
    """One complete system call: who (strace's pid), when, what, with what result."""

    pid: int
    time: float
    name: str
    args: tuple[str, ...]
    value: int | None  # the return value; None for `?` (no return: exit, a successful execve elsewhere)
    errno: str | None
    decoration: str | None  # the `-y` path of a returned fd
    nspid: int | None  # the new process's pid in strace's namespace (clone, fork, vfork)

    @property
    def ok(self) -> bool:
        return self.errno is None and (self.value is None or self.value >= 0)


@dataclass(frozen=True, slots=True)
class Exit:
    """A traced process ended: its exit code, or the signal that killed it."""

    pid: int
    time: float
    code: int | None
    signal: str | None


def split_args(text: str) -> list[str]:
    """Top-level arguments of a call's argument text (without the closing parenthesis)."""
    out: list[str] = []
    depth = 0
    start = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c in "[{(":
            depth += 1
        elif c in "]})":
            depth -= 1
        elif c == "<" and i > 0 and (text[i - 1].isdigit() or text[i - 1] == "D"):
            # a `-y` decoration after an fd (`3</etc>`) or AT_FDCWD (`AT_FDCWD</app>`)
            i += 1
            while i < n and text[i] != ">":
                i += 2 if text[i] == "\\" else 1
        elif c == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
        i += 1
    tail = text[start:].strip()
    if tail or out:
        out.append(tail)
    return out


def decode_string(token: str) -> tuple[str, bool] | None:
    r"""The text of a quoted strace string (`"a\\x41"` → `aA`) and whether strace truncated it
    (`"..."...`); None when `token` is not a string.
    """
    token = token.strip()
    if not token.startswith('"'):
        return None
    raw = bytearray()
    i = 1
    n = len(token)
    while i < n:
        c = token[i]
        if c == '"':
            truncated = token[i + 1 : i + 4] == "..."
            return raw.decode("utf-8", "surrogateescape"), truncated
        if c != "\\":
            raw.extend(c.encode("utf-8", "surrogateescape"))
            i += 1
            continue
        nxt = token[i + 1 : i + 2]
        if nxt == "x":
            try:
                raw.append(int(token[i + 2 : i + 4], 16))
            except ValueError:
                return None
            i += 4
        elif nxt.isdigit():
            j = i + 1
            while j < n and j < i + 4 and token[j] in "01234567":
                j += 1
            raw.append(int(token[i + 1 : j], 8) & 0xFF)
            i = j
        elif nxt in _ESCAPES:
            raw.append(_ESCAPES[nxt])
            i += 2
        else:
            return None
    return None


def decode_bytes(token: str) -> bytes | None:
    """The bytes of a quoted strace string (a buffer)."""
    decoded = decode_string(token)
    return decoded[0].encode("utf-8", "surrogateescape") if decoded is not None else None


def decoration(token: str) -> str | None:
    """The path strace printed for an fd argument (`3</etc/passwd>` → `/etc/passwd`)."""
    token = token.strip()
    start = token.find("<")
    if start < 0 or not token.endswith(">"):
        return None
    inner = token[start + 1 : -1]
    if "\\" in inner:
        decoded = decode_string('"' + inner.replace('"', '\\"') + '"')
        return decoded[0] if decoded else inner
    return inner


def string_array(token: str) -> tuple[str, ...] | None:
    """The strings of an array argument (`["sh", "-c", "x"]`); None when it is not one. An array
    strace abbreviated (`...`) yields what was printed.
    """
    token = token.strip()
    if not token.startswith("[") or not token.endswith("]"):
        return None
    out = []
    for item in split_args(token[1:-1]):
        decoded = decode_string(item)
        if decoded is not None:
            out.append(decoded[0])
    return tuple(out)


def _split_result(body: str) -> tuple[str, tuple[int | None, str | None, str | None, int | None]] | None:
    """The argument text and the parsed result of a complete call's text (after `name(`); None when
    it has no result. The last `) = ` whose remainder reads as a result is the split: an argument
    string may contain `) = ` itself.
    """
    for match in reversed(list(_EQUALS.finditer(body))):
        parsed = _RESULT.match(body[match.end() + 1 :])
        if parsed is None:
            continue
        raw = parsed.group("value")
        value = None if raw == "?" else (int(raw, 16) if raw.startswith("0x") else int(raw))
        deco = parsed.group("deco")
        path = decoration("0" + deco) if deco else None
        nspid = parsed.group("nspid")
        return body[: match.start()], (value, parsed.group("errno"), path, int(nspid) if nspid else None)
    return None


def _complete(pid: int, time: float, name: str, body: str) -> Call | None:
    split = _split_result(body)
    if split is None:
        return None
    args, (value, errno, path, nspid) = split
    return Call(pid, time, name, tuple(split_args(args)), value, errno, path, nspid)


def calls(lines: Iterable[str]) -> Iterator[Call | Exit]:
    """Every complete call and exit record in strace's output, in order of completion."""
    pending: dict[int, tuple[float, str, str]] = {}
    for raw in lines:
        line = raw.rstrip("\n")
        match = _LINE.match(line)
        if match is None:
            continue
        pid = int(match.group(1))
        time = float(match.group(2))
        text = match.group(3)
        if text.startswith("+++"):
            done = _EXIT.match(text)
            if done is not None:
                code = done.group(1)
                yield Exit(pid, time, int(code) if code is not None else None, done.group(2))
            pending.pop(pid, None)
            continue
        if text.startswith("<..."):
            resumed = _RESUMED.match(text)
            started = pending.pop(pid, None)
            if resumed is None or started is None or started[1] != resumed.group(1):
                continue
            call = _complete(pid, started[0], started[1], started[2] + resumed.group(2))
            if call is not None:
                yield call
            continue
        head = _CALL.match(text)
        if head is None:
            continue
        name, body = head.group(1), head.group(2)
        if body.endswith(_UNFINISHED):
            pending[pid] = (time, name, body[: -len(_UNFINISHED)])
            continue
        call = _complete(pid, time, name, body)
        if call is not None:
            yield call
