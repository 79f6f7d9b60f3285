"""`.gitignore` patterns, read and matched in Python, for manifest discovery.

Discovery used to ask git (`git ls-files --others --exclude-standard`) which files a repository
holds. Git run in a directory a pull request controls runs whatever that directory configures: four
committed files laid out as a bare repository (`HEAD`, `config`, `objects/`, `refs/`) whose `config`
sets `core.fsmonitor` made `git -C <dir> ls-files` execute an arbitrary command as the CI user. The
switches that would make git safe there (`safe.bareRepository=explicit`, `core.fsmonitor=`, no hooks,
no system or global config, ceiling directories, an explicit `--git-dir` at the checkout's root)
are a list that has grown with every git release, and the plugin image has no git at all, so the
same repository was discovered differently in the action and the image. So git is not run: this
module reads the `.gitignore` files as text and matches them itself, the same way everywhere.

What git would do that this does not: list a file that is committed although an ignore pattern
matches it (rare, and `--manifests FILE` checks any file named explicitly), and read the user's
global excludes file (`core.excludesFile`: a developer's preference, not the repository's).
`.git/info/exclude` is read only at the repository root the caller names, and only when `.git` is
a real directory there; a `.git` file (`gitdir: …`) is never followed.

Semantics follow gitignore(5): blank lines and `#` comments are skipped, trailing unescaped spaces
dropped, `!` negates, a trailing `/` matches directories only, a pattern with a slash elsewhere is
anchored to its file's directory, one without matches a name at any depth; `*`, `?`, `[a-z]`,
`[!a-z]` match within one path component and `**` as a whole component matches any number of them.
The last matching pattern decides; a deeper `.gitignore` overrides a higher one; a directory that
is ignored is not entered, so nothing below it can be re-included.

Bounded work: a `.gitignore` larger than the `manifest-bytes` limit is refused (exit 2), and each
pattern is matched by a backtracking-free scan, linear in the name times the pattern, never a regex
that a crafted pattern could make exponential.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ci_security import limits

# A compiled component: a literal string, or tokens ("*", "?", or a character class).
_Class = tuple[bool, tuple[tuple[str, str], ...]]  # (negated, (low, high) ranges)
_Token = str | _Class
_STAR = "*"
_ANY = "?"


@dataclass(frozen=True, slots=True)
class Pattern:
    """One line of a `.gitignore`, compiled."""

    text: str
    negate: bool
    dir_only: bool
    anchored: bool
    components: tuple[str | tuple[_Token, ...], ...]  # "**" stays the string "**"

    def matches(self, parts: Sequence[str], is_dir: bool) -> bool:
        """Whether `parts` (a path relative to this pattern's `.gitignore`) matches."""
        if self.dir_only and not is_dir:
            return False
        if not self.anchored:
            return _component(self.components[0], parts[-1])
        return _components(self.components, parts)


def parse(text: str) -> list[Pattern]:
    """The patterns of one `.gitignore` file's text."""
    patterns = []
    for raw in text.split("\n"):
        line = raw.removesuffix("\r")
        if not line or line.startswith("#"):
            continue
        line = _strip_trailing_spaces(line)
        negate = line.startswith("!")
        if negate:
            line = line[1:]
        dir_only = line.endswith("/") and not line.endswith("\\/")
        line = line.rstrip("/") if dir_only else line
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        if not line:
            continue
        components = tuple(_compile(part) for part in line.split("/") if part)
        if components:
            patterns.append(Pattern(raw, negate, dir_only, anchored, components))
    return patterns


def _strip_trailing_spaces(line: str) -> str:
    end = len(line)
    while end > 0 and line[end - 1] == " ":
        # A space preceded by an odd number of backslashes is escaped and stays.
        slashes = 0
        while end - 1 - slashes - 1 >= 0 and line[end - 2 - slashes] == "\\":
            slashes += 1
        if slashes % 2:
            break
        end -= 1
    return line[:end]


def _compile(part: str) -> str | tuple[_Token, ...]:
    if part == "**":
        return "**"
    tokens: list[_Token] = []
    literal = []
    i = 0
    wild = False
    while i < len(part):
        char = part[i]
        if char == "\\" and i + 1 < len(part):
            literal.append(part[i + 1])
            tokens.append(part[i + 1])
            i += 2
            continue
        if char in "*?":
            wild = True
            if char == "*" and tokens and tokens[-1] == _STAR:
                i += 1
                continue  # `**` inside a component is one `*`
            tokens.append(_STAR if char == "*" else _ANY)
            i += 1
            continue
        if char == "[":
            parsed = _class(part, i)
            if parsed is not None:
                klass, i = parsed
                tokens.append(klass)
                wild = True
                continue
        literal.append(char)
        tokens.append(char)
        i += 1
    return tuple(tokens) if wild else "".join(literal)


def _class(part: str, start: int) -> tuple[_Class, int] | None:
    """The character class starting at `part[start]` ("[") and the index after it, or None when the
    bracket is not closed (then it is a literal "[").
    """
    i = start + 1
    negated = i < len(part) and part[i] in "!^"
    if negated:
        i += 1
    ranges: list[tuple[str, str]] = []
    first = True
    while i < len(part):
        char = part[i]
        if char == "]" and not first:
            return (negated, tuple(ranges)), i + 1
        first = False
        if char == "\\" and i + 1 < len(part):
            i += 1
            char = part[i]
        if i + 2 < len(part) and part[i + 1] == "-" and part[i + 2] != "]":
            high = part[i + 2]
            if high == "\\" and i + 3 < len(part):
                high = part[i + 3]
                i += 1
            ranges.append((char, high))
            i += 3
        else:
            ranges.append((char, char))
            i += 1
    return None


def _one(token: _Token, char: str) -> bool:
    if token == _ANY:
        return char != "/"
    if isinstance(token, str):
        return token == char
    negated, ranges = token
    inside = any(low <= char <= high for low, high in ranges)
    return inside != negated


def _component(pattern: str | tuple[_Token, ...], name: str) -> bool:
    """Glob match of one component: the classic two-pointer scan that backtracks only to the last
    `*` seen, so its cost is at most len(pattern) times len(name).
    """
    if isinstance(pattern, str):
        return pattern == name or pattern == "**"
    p = n = 0
    star = -1
    resume = 0
    while n < len(name):
        if p < len(pattern) and pattern[p] == _STAR:
            star, resume = p, n
            p += 1
        elif p < len(pattern) and _one(pattern[p], name[n]):
            p += 1
            n += 1
        elif star >= 0:
            p = star + 1
            resume += 1
            n = resume
        else:
            return False
    while p < len(pattern) and pattern[p] == _STAR:
        p += 1
    return p == len(pattern)


def _components(pattern: Sequence[str | tuple[_Token, ...]], parts: Sequence[str]) -> bool:
    """Anchored match of a whole relative path: `**` matches zero or more components (one or more
    when it ends the pattern, as `dir/**` matches what is inside `dir`, not `dir` itself).
    """
    count = len(parts)
    # reachable[j]: the first i pattern components can match the first j path components.
    reachable = [True] + [False] * count
    for index, component in enumerate(pattern):
        last = index == len(pattern) - 1
        following = [False] * (count + 1)
        if component == "**":
            seen = False
            for j in range(count + 1):
                if last:
                    following[j] = seen  # at least one component
                    seen = seen or reachable[j]
                else:
                    seen = seen or reachable[j]
                    following[j] = seen
        else:
            for j in range(count):
                if reachable[j] and _component(component, parts[j]):
                    following[j + 1] = True
        reachable = following
        if not any(reachable):
            return False
    return reachable[count]


@dataclass(frozen=True, slots=True)
class IgnoreFile:
    """The patterns of one `.gitignore`, and the directory (relative to the walk's root) it is in."""

    base: tuple[str, ...]
    patterns: tuple[Pattern, ...]

    def decide(self, parts: tuple[str, ...], is_dir: bool) -> bool | None:
        """True (ignored), False (re-included) or None (no pattern here matches)."""
        if parts[: len(self.base)] != self.base or len(parts) == len(self.base):
            return None
        relative = parts[len(self.base) :]
        for pattern in reversed(self.patterns):
            if pattern.matches(relative, is_dir):
                return not pattern.negate
        return None


def read(path: Path, base: tuple[str, ...]) -> IgnoreFile | None:
    """The ignore file at `path` when it is a regular file (never a link, a FIFO or a device),
    refused past the `manifest-bytes` limit; None when there is none.
    """
    try:
        info = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    bound = limits.active().manifest_bytes
    if info.st_size > bound:
        raise limits.LimitExceededError(str(path), "manifest_bytes", f"{info.st_size:,} bytes")
    try:
        with path.open("rb") as handle:
            data = handle.read(bound + 1)
    except OSError:
        return None
    if len(data) > bound:
        raise limits.LimitExceededError(str(path), "manifest_bytes", "the file grew while read")
    patterns = parse(data.decode("utf-8", "surrogateescape"))
    return IgnoreFile(base, tuple(patterns)) if patterns else None


def ignored(files: Iterable[IgnoreFile], parts: tuple[str, ...], is_dir: bool) -> bool:
    """Whether the path `parts` is ignored by `files`, listed from the lowest precedence (the
    repository's `info/exclude`, then the root `.gitignore`) to the highest (the deepest one).
    """
    for ignore_file in reversed(list(files)):
        verdict = ignore_file.decide(parts, is_dir)
        if verdict is not None:
            return verdict
    return False
