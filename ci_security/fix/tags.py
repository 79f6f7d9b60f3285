"""Which tags of an image are newer versions of the tag a repository uses.

The rules are those Renovate's Docker versioning made familiar (reimplemented from its documented
behaviour, not its code):

- A tag is `[v]RELEASE[PRE][-SUFFIX]`: RELEASE is dot-separated numbers (`3`, `3.12`, `3.12.4`), PRE a
  run of letters, digits or `_` glued to it (`3.13.0rc1`: a pre-release), SUFFIX everything after the
  first `-` (`-slim`, `-alpine3.20`, `-bookworm`): the image's flavour.
- A candidate must keep the flavour (the same suffix and prefix), the **precision** (as many release
  numbers: `3.11` moves to `3.12`, never to `3.12.0`, which pins something else), and be a stable
  release greater than the current one. Pre-releases are never proposed.
- Tags that are not versions are never candidates and never bumped: names (`latest`, `bookworm`),
  hash-like tags (7 to 64 hex digits that are not all digits, `sha256-…` signature tags) and
  date-only tags (`20240115`, `2024.01.15`, `202401151230`): a date says when, not what.
- The update type is `major` when the first number changes, `minor` when the second does, `patch`
  otherwise; a digest refresh (the same tag, a new digest) is `digest`.

An embedded OS release in the suffix (`-alpine3.20` to `-alpine3.21`) is a different flavour here, as
in Renovate and Dependabot: moving the OS under an application is a change a person should choose.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

UpdateType = Literal["major", "minor", "patch", "digest"]
UPDATE_TYPES: tuple[UpdateType, ...] = ("patch", "minor", "major", "digest")
TagKind = Literal["version", "pre-release", "hash", "date", "name"]

_VERSION = re.compile(r"(v?)(\d+(?:\.\d+)*)(\w*)\Z")
_HASH = re.compile(r"[0-9a-f]{7,64}\Z")
_DATE_NUMBER = re.compile(r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:\d{2}){0,3}\Z")
_DATE_DOTTED = re.compile(r"(?:19|20)\d{2}[.-](?:0[1-9]|1[0-2])[.-](?:0[1-9]|[12]\d|3[01])\Z")


@dataclass(frozen=True, slots=True, order=True)
class TagVersion:
    """A tag read as a version: `release` numbers, `prerelease` ("" for a release), the `v` prefix
    and the flavour `suffix` (with its leading `-`, or "").
    """

    release: tuple[int, ...]
    prerelease: str
    prefix: str
    suffix: str
    tag: str

    @property
    def precision(self) -> int:
        return len(self.release)

    @property
    def version(self) -> str:
        """The release as written in the tag (`3.12.4`), without prefix, pre-release or suffix."""
        return ".".join(str(n) for n in self.release)

    @property
    def version_text(self) -> str:
        """The part of the tag before the suffix, as written (`v3.12.04rc1`)."""
        return self.tag[: len(self.tag) - len(self.suffix)] if self.suffix else self.tag


def classify(tag: str) -> TagKind:
    """What `tag` is: a version, a pre-release, or a hash, date or name that is not bumped."""
    head = tag.partition("-")[0]
    if tag.startswith("sha256-") or (_HASH.match(head) and not head.isdigit() and head == tag):
        return "hash"
    if _DATE_NUMBER.match(head) or _DATE_DOTTED.match(tag):
        return "date"
    found = _VERSION.match(head)
    if found is None:
        return "name"
    return "pre-release" if found[3] else "version"


def parse_tag(tag: str) -> TagVersion | None:
    """`tag` as a version, or None when it is a hash, a date or a name (see `classify`)."""
    if classify(tag) not in ("version", "pre-release"):
        return None
    head, dash, rest = tag.partition("-")
    found = _VERSION.match(head)
    assert found is not None  # classify said it is one
    release = tuple(int(part) for part in found[2].split("."))
    return TagVersion(release, found[3], found[1], f"-{rest}" if dash else "", tag)


def compatible(current: TagVersion, candidate: TagVersion) -> bool:
    """Whether `candidate` is a stable release of the same flavour and precision, newer than `current`."""
    return (
        not candidate.prerelease
        and candidate.suffix == current.suffix
        and candidate.prefix == current.prefix
        and candidate.precision == current.precision
        and candidate.release > current.release
    )


def update_type(current: TagVersion, candidate: TagVersion) -> UpdateType:
    """major, minor or patch: the first release number that differs."""
    if candidate.release[:1] != current.release[:1]:
        return "major"
    if candidate.release[:2] != current.release[:2]:
        return "minor"
    return "patch"


def newer(current: TagVersion, tags: Iterable[str]) -> list[TagVersion]:
    """The compatible candidates among `tags`, newest first."""
    found: dict[tuple[int, ...], TagVersion] = {}
    for tag in tags:
        version = parse_tag(tag)
        if version is not None and compatible(current, version):
            found.setdefault(version.release, version)  # `3.12` and `3.012` are one release
    return sorted(found.values(), key=lambda v: v.release, reverse=True)


def shortlist(
    current: TagVersion, candidates: list[TagVersion], allowed: frozenset[str], count: int
) -> list[TagVersion]:
    """At most `count` candidates worth scanning, of the allowed update types: the newest of each
    type first (the newest patch, the newest minor, the newest major, as Snyk groups them), then the
    next newest, so a bad newest release does not hide a good one just below it.
    """
    eligible = [c for c in candidates if update_type(current, c) in allowed]
    chosen: list[TagVersion] = []
    for kind in ("patch", "minor", "major"):
        best = next((c for c in eligible if update_type(current, c) == kind), None)
        if best is not None and len(chosen) < count:
            chosen.append(best)
    for candidate in eligible:
        if len(chosen) >= count:
            break
        if candidate not in chosen:
            chosen.append(candidate)
    return sorted(chosen, key=lambda v: v.release, reverse=True)
