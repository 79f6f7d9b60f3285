"""The platform contract: what the CI step asks of GitHub and GitLab, and what it gets back.

A platform never raises for an API failure: commenting is a courtesy, never the reason a build fails
or crashes. Each call returns an outcome with one line saying what happened ("created", "updated",
"skipped: the token is read-only (pull request from a fork)", "failed: 502 after 4 attempts"), which
the CI step prints. Writes are skipped with one notice when the context says they cannot succeed
(fork pull requests on GitHub, no token), and a 403/401 on the first write turns the rest into
skips with the same notice instead of a string of errors.

Comments are found again by a hidden marker that carries the scan key, so each scan key has exactly
one summary comment per pull/merge request, edited in place on every push.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

MARKER_PREFIX = "<!-- ci-security:"
# What one platform action did; syncing inline comments reports `done` instead of a count-free verb.
OutcomeAction = Literal["created", "updated", "unchanged", "skipped", "failed"]
InlineAction = Literal["done", "skipped", "failed"]


def marker(key: str) -> str:
    """The hidden line that identifies our summary comment for scan `key`."""
    return f"{MARKER_PREFIX}{key} -->"


def inline_marker(key: str, fingerprint: str) -> str:
    """The hidden line that identifies our inline comment for one finding of scan `key`."""
    return f"{MARKER_PREFIX}{key}:finding:{fingerprint} -->"


@dataclass(frozen=True, slots=True, kw_only=True)
class InlineComment:
    """A comment for one finding on one line of the change. `fingerprint` is the finding's stable
    identity, so the comment is updated, not duplicated, on the next push.
    """

    fingerprint: str
    path: str  # repository-relative
    line: int
    body: str  # Markdown, without the marker (the platform adds it)


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What one platform action did. `action` is created, updated, unchanged, skipped or failed."""

    action: OutcomeAction
    detail: str = ""
    url: str | None = None

    def line(self, what: str) -> str:
        tail = f": {self.detail}" if self.detail else ""
        where = f" ({self.url})" if self.url else ""
        return f"{what} {self.action}{where}{tail}"


@dataclass(frozen=True, slots=True, kw_only=True)
class InlineOutcome:
    """What syncing inline comments did: how many were posted, updated or resolved (a finding that is
    gone), how many findings were left out because their line is not part of the change, and why
    nothing happened when it was skipped or failed.
    """

    posted: int = 0
    updated: int = 0
    resolved: int = 0
    outside_diff: int = 0
    action: InlineAction = "done"
    detail: str = ""


class Platform(Protocol):
    """One code-review platform, bound to one pull/merge request (or none, on a branch build)."""

    name: ClassVar[str]

    def upsert_comment(self, key: str, body: str) -> Outcome:
        """Create the summary comment for scan `key`, or edit the one that exists (unchanged when the
        body is the same). Bodies over the platform's limit are cut and say so.
        """
        ...

    def sync_inline(self, key: str, comments: Sequence[InlineComment]) -> InlineOutcome:
        """Make the inline comments of scan `key` match `comments`: post new ones whose line is in
        the change's diff, update changed ones, resolve (GitLab) or mark fixed (GitHub) the ones whose
        finding is gone. Lines outside the diff are never sent.
        """
        ...

    def upload_sarif(self, sarif: str) -> Outcome:
        """Upload a SARIF document to the platform's code scanning, when it has one."""
        ...
