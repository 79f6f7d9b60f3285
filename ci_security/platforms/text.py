"""Text both platforms need: which lines of a unified diff a comment may anchor to, and a comment
body cut to the platform's size limit.

GitHub (`patch` of `GET /pulls/{n}/files`) and GitLab (`diff` of `GET …/merge_requests/:iid/diffs`)
both give one unified diff per file. Hunk headers bound each hunk, so `---`/`+++` file headers and
removed lines that look like them are never mistaken for content.
"""

from __future__ import annotations

import re

_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)", re.MULTILINE)


def diff_lines(patch: str | None) -> dict[int, int | None]:
    r"""The new-file lines a unified diff shows (added and context lines, the ones a comment can
    anchor to), each mapped to its line in the old file, or None when it was added. Removed lines, the
    "\ No newline at end of file" note and anything outside a hunk are left out.
    """
    lines: dict[int, int | None] = {}
    old = new = old_left = new_left = 0
    for text in (patch or "").split("\n"):
        header = _HUNK.match(text)
        if header:
            old, new = int(header[1]), int(header[3])
            old_left = 1 if header[2] is None else int(header[2])
            new_left = 1 if header[4] is None else int(header[4])
            continue
        if old_left <= 0 and new_left <= 0:
            continue
        if text.startswith("+"):
            lines[new] = None
            new, new_left = new + 1, new_left - 1
        elif text.startswith("-"):
            old, old_left = old + 1, old_left - 1
        elif not text.startswith("\\"):
            lines[new] = old
            old, new, old_left, new_left = old + 1, new + 1, old_left - 1, new_left - 1
    return lines


def _closers(text: str) -> str:
    """What closes the code fence and `<details>` blocks left open in `text`, so a footer renders."""
    fences = _FENCE.findall(text)
    closing = f"\n{fences[-1]}" if len(fences) % 2 else ""
    return closing + "\n</details>" * max(text.count("<details") - text.count("</details>"), 0)


def fit(body: str, mark: str, *, limit: int, job_url: str = "") -> tuple[str, bool]:
    """`body`, a blank line and the hidden `mark`, at most `limit` characters, and whether it was
    cut. A longer body is cut at a line boundary, its open blocks are closed, and a footer points to
    the job.
    """
    tail = f"\n\n{mark}"
    if len(body) + len(tail) <= limit:
        return body + tail, False
    where = f" ({job_url})" if job_url else ""
    footer = f"\n\n…truncated: the full report is in the job{where}"
    budget = limit - len(tail) - len(footer)
    while budget > 0:
        head = body[:budget]
        newline = head.rfind("\n")
        if newline > 0:
            head = head[:newline]
        closing = _closers(head)
        if len(head) + len(closing) <= budget:
            return head + closing + footer + tail, True
        budget = len(head) - len(closing)
    return (footer + tail)[-limit:], True
