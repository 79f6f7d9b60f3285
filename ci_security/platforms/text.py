"""Text both platforms need: which lines of a unified diff a comment may anchor to, a comment body
cut to the platform's size limit, the job link and how bodies are compared without it, and the
struck-through body of an inline comment whose finding is gone.

GitHub (`patch` of `GET /pulls/{n}/files`) and GitLab (`diff` of `GET …/merge_requests/:iid/diffs`)
both give one unified diff per file. Hunk headers bound each hunk, so `---`/`+++` file headers and
removed lines that look like them are never mistaken for content.
"""

from __future__ import annotations

import re

_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)", re.MULTILINE)
_JOB_LINK = "<sub>[ci-security job]({url})</sub>"
_TRUNCATED = "…truncated: the full report is in the job"
# What changes from one run to the next without the findings changing: the job link and the job URL
# in a truncation footer.
_VOLATILE = re.compile(
    r"\n*<sub>\[ci-security job\]\([^)\n]*\)</sub>|(?<=" + re.escape(_TRUNCATED) + r") \([^)\n]*\)"
)
GONE_PREFIX = "✅ No longer reported in "
_OLD_GONE_PREFIX = "✅ No longer reported by ci-security"  # before the text was kept


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
    footer = f"\n\n{_TRUNCATED}{where}"
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


def job_link(job_url: str) -> str:
    """The line under a summary comment that points at the job which wrote it ("" without a URL)."""
    return _JOB_LINK.format(url=job_url) if job_url else ""


def comparable(body: str | None) -> str:
    """A comment body without what changes on every run although the findings did not (the job
    link, the job URL in a truncation footer), line ends normalised: two bodies that compare equal
    need no edit, so a push that changes nothing does not touch the comment (nor notify anyone).
    """
    return _VOLATILE.sub("", (body or "").replace("\r\n", "\n")).strip()


def is_gone(body: str | None) -> bool:
    """True when an inline comment already says its finding is no longer reported."""
    text = body or ""
    return text.startswith(_OLD_GONE_PREFIX) or any(line.startswith(GONE_PREFIX) for line in text.split("\n"))


def struck(body: str, mark: str, sha: str) -> str:
    """The inline comment of a finding that is gone: its text kept, each line struck through, the
    footer (`<sub>` lines) and hidden marker kept as they are, and a line saying since which commit.
    Lines inside a code block are kept as they are (strikethrough does not apply there).
    """
    text = body.rstrip()
    if text.endswith(mark):
        text = text[: -len(mark)].rstrip()
    out: list[str] = []
    fenced = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
            out.append(line)
        elif fenced or not line.strip() or line.lstrip().startswith("<"):
            out.append(line)
        else:
            indent = len(line) - len(line.lstrip())
            out.append(f"{line[:indent]}~~{line[indent:].rstrip()}~~")
    since = f"{GONE_PREFIX}{sha} (ci-security)." if sha else f"{GONE_PREFIX}the latest commit (ci-security)."
    return "\n".join(out) + f"\n\n{since}\n\n{mark}"
