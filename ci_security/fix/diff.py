r"""Unified diffs in the form `git apply` takes (`diff --git a/P b/P`, `---`/`+++`, hunks with three
lines of context, `\ No newline at end of file` where a side ends without one), and the slugs that
name fix branches.
"""

from __future__ import annotations

import difflib
import re

_SLUG = re.compile(r"[^a-z0-9]+")
_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(path: str, old: str, new: str) -> str:
    """The diff that turns `old` into `new`, for the file at repository path `path` ("" when equal).
    Line ends are kept as they are, so a CRLF file gets a CRLF patch.
    """
    if old == new:
        return ""
    before, after = lines(old), lines(new)
    out = [f"diff --git a/{path} b/{path}\n"]
    for line in difflib.unified_diff(before, after, f"a/{path}", f"b/{path}", n=3):
        if line.startswith(("---", "+++")):
            out.append(line.rstrip("\n") + "\n")
            continue
        if line.startswith("@@"):
            out.append(line if line.endswith("\n") else line + "\n")
            continue
        if line.endswith("\n"):
            out.append(line)
        else:  # the last line of a side that does not end with a newline
            out.append(line + "\n" + NO_NEWLINE)
    return "".join(out)


def lines(text: str) -> list[str]:
    r"""`text` split after each `\n` only (as git does; `str.splitlines` also splits at `\r`, form
    feeds and Unicode separators).
    """
    return _LINE.findall(text)


def slug(text: str, limit: int = 60) -> str:
    """`text` for a branch name: lower case, runs of anything but letters and digits as one `-`."""
    return _SLUG.sub("-", text.lower()).strip("-")[:limit].strip("-") or "x"
