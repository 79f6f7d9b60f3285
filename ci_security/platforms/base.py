"""The platform contracts: what the CI step asks of GitHub and GitLab (`Platform`), what it gets back,
and what the step does on each CI system besides (`StepSurface`: reports, masks, annotations, job
summary, outputs, notices; one module per CI system, listed in `registry.py`).

A platform never raises for an API failure: commenting is a courtesy, never the reason a build fails
or crashes. Anything else a platform raises (a bug, a library's surprise) is turned into a failed
outcome at the publishing boundary (`ci.publish`), so the step's exit code stays the policy's.
Each call returns an outcome with one line saying what happened ("created", "updated",
"skipped: the token is read-only (pull request from a fork)", "failed: 502 after 4 attempts"), which
the CI step prints. Writes are skipped with one notice when the context says they cannot succeed
(fork pull requests on GitHub, no token), and a 403/401 on the first write turns the rest into
skips with the same notice instead of a string of errors.

Both platforms bound their work with the same names: `COMMENT_LIMIT` (the longest body the platform
accepts, in characters), `INLINE_CAP` (new inline comments per run; the summary comment lists every
finding) and `TIMEOUT` (seconds per request); both count an inline sync in one `InlineTally`.

Comments are found again by a hidden marker that carries the scan key, so each scan key has exactly
one summary comment per pull/merge request, edited in place on every push.

Fix pull/merge requests (`propose_change`): one branch per update line, one commit made through the
API on top of the default branch, one pull/merge request per branch, found again by its head branch.
The commit message ends with the proposal trailer (`fix.report.TRAILER`), which is how a platform
knows the bot's own commits and that a branch already holds the proposal. A branch whose commits are
all the bot's is rewritten to follow a new proposal; once someone else pushed to it, the new commit
goes on top, and only when the files it changes are still as the bot left them. A pull/merge request
closed without merging is never reopened, and the same proposal (its title) is not opened again.
Before anything is written, each file on the default branch must be what the plan was made
against (its git blob id is compared), so a fix planned on another checkout never overwrites newer
work. `max_open` bounds how many fix requests may be open at once; updating one always goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol

from ci_security.platforms.context import CiContext

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


@dataclass(slots=True)
class InlineTally:
    """What one inline sync did so far, kept by either platform as it goes, and the outcome it
    makes: the same counts and the same words on GitHub and GitLab.
    """

    posted: int = 0
    updated: int = 0
    resolved: int = 0
    outside_diff: int = 0
    capped: int = 0  # new comments left out by the per-run cap
    failed: int = 0  # single comments the platform refused, the rest went on
    first_failure: str = ""

    def fail(self, reason: str) -> None:
        self.failed += 1
        self.first_failure = self.first_failure or reason

    def outcome(self, cap: int, action: InlineAction = "done", detail: str = "") -> InlineOutcome:
        """The outcome of the sync: `action` and `detail` say how it ended (done, or why it was
        skipped or stopped); a "done" with refused comments is "failed".
        """
        notes = [detail] if detail else []
        if self.failed:
            notes.append(f"{self.failed} inline comment(s) failed, first: {self.first_failure}")
        if self.capped:
            notes.append(f"{self.capped} new inline comment(s) left out: at most {cap} are posted per run")
        return InlineOutcome(
            posted=self.posted,
            updated=self.updated,
            resolved=self.resolved,
            outside_diff=self.outside_diff,
            action="failed" if self.failed and action == "done" else action,
            detail="; ".join(notes),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FileChange:
    """One file a fix commit writes: its new `content`, the `original` the change was made against
    (what the default branch must hold), and whether it is executable (its git mode).
    """

    path: str  # repository-relative, `/`-separated
    content: str = field(repr=False)
    original: str = field(repr=False)
    executable: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeRequest:
    """A fix to propose: the branch, the pull/merge request's title and body (Markdown, without the
    marker; the platform adds it), the commit message with its proposal trailer, the files, labels.
    """

    branch: str
    title: str
    body: str
    commit_message: str
    proposal: str
    files: tuple[FileChange, ...]
    labels: tuple[str, ...] = ()

    @property
    def trailer(self) -> str:
        return f"Ci-Security-Proposal: {self.proposal}"


FIX_BRANCH_PREFIX = "ci-security/"
FIX_TRAILER = "Ci-Security-Proposal:"


def git_blob_id(text: str) -> str:
    """The git object id of a blob holding `text` (UTF-8): what the platforms report for a file."""
    import hashlib

    data = text.encode("utf-8")
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class DeclinedError(Exception):
    """A fix pull/merge request is not opened or updated, for the reason given (an outcome, not a
    failure).
    """


def check_planned_files(
    change: ChangeRequest, base: str, blob_of: Callable[[str], str | None], built_from: str
) -> None:
    """Decline the change unless every file it edits is on the default branch `base` exactly as the
    plan read it (`blob_of(path)`: the file's blob id there, or None). A plan made on another
    checkout (a pull request's build, a branch that moved since) would edit lines that are not
    there; the fix comes from `built_from` ("a build", "a pipeline") of `base` instead.
    """
    for item in change.files:
        found = blob_of(item.path)
        if found is None:
            raise DeclinedError(
                f"{item.path} is not on {base}: the fix is proposed from {built_from} of {base}"
            )
        if found != git_blob_id(item.original):
            raise DeclinedError(
                f"{item.path} on {base} differs from the checkout the fix was planned on; "
                f"it is proposed from {built_from} of {base}"
            )


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

    def propose_change(self, change: ChangeRequest, *, max_open: int) -> Outcome:
        """Open, update or leave alone the fix pull/merge request of `change.branch` (see the module
        docstring): created, updated, unchanged, or skipped with the reason (closed by a person,
        `max_open` reached, the default branch moved past the plan, the token may not write).
        """
        ...


# --- the CI step's surface on each CI system ---------------------------------------------------------

# Every CI system's step writes these; a surface adds its own (SARIF, GitLab's report artifacts).
COMMON_REPORTS: Mapping[str, str] = {"json": "ci-security.json", "markdown": "ci-security.md"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Annotation:
    """A finding worth pointing at in the CI system's own view of the run: `error` when it fails
    the policy, else `warning`; `path` and `line` are in the repository.
    """

    level: Literal["error", "warning"]
    path: str
    line: int | None
    title: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """A platform action that did not happen as asked: `level` "notice" (skipped: the run cannot or
    need not do it) or "warning" (failed), `subject` what ("summary comment and inline comments
    skipped"), `detail` why.
    """

    level: Literal["notice", "warning"]
    subject: str
    detail: str

    def line(self) -> str:
        return f"{self.subject}: {self.detail}" if self.detail else self.subject


class StepSurface(Protocol):
    """What the CI step does on one CI system besides talking to the review platform: the reports it
    writes by default, the lines printed before anything else (secret masks) and around the reports
    printed to the log, annotations, the job summary, the step's outputs, how a notice is shown, and
    which `Platform` keeps the comments. `ci.run_step` drives it; every line returned is printed as
    it is, so a surface makes its lines safe for its log itself (`sanitize`).
    """

    name: ClassVar[str]  # as `CiContext.platform` says it: github, gitlab, local
    # Format -> file name in the report directory; always json and markdown (the comment and the
    # job summary are the Markdown report).
    reports: ClassVar[Mapping[str, str]]

    def detect(self, env: Mapping[str, str]) -> CiContext | None:
        """The CI run `env` (the process environment) describes when it is this CI system's, with
        `platform` set to `name`; None otherwise. `UsageError` when its variables are unusable.
        """
        ...

    def masks(self, secrets: Sequence[str]) -> list[str]:
        """Lines that hide `secrets` from the rest of the log, printed first ([] when the CI system
        masks its secret variables itself).
        """
        ...

    def fence(self) -> tuple[str, str] | None:
        """Lines printed before and after the reports on standard output so the CI system ignores
        any command inside them, or None when its log has no commands.
        """
        ...

    def annotations(self, candidates: Sequence[Annotation]) -> list[str]:
        """Lines that annotate the run with `candidates` (most severe first), within the CI
        system's limits.
        """
        ...

    def write_summary(self, context: CiContext, markdown: str) -> None:
        """Show the Markdown report as the job's summary, where the CI system has one."""
        ...

    def write_outputs(self, context: CiContext, values: Mapping[str, str]) -> None:
        """Make `values` the step's outputs, where the CI system has them."""
        ...

    def notice_lines(self, notices: Sequence[Notice], *, now: int) -> list[str]:
        """How each notice is shown in the log; `now` is the time in Unix seconds."""
        ...

    def platform(self, context: CiContext) -> Platform | None:
        """The review platform for comments on this CI system, or None."""
        ...
