"""The policy file as frozen dataclasses, with the defaults that apply when a key (or the whole file)
is missing.

`FailOn.severity` is None for `severity: none` (no finding fails the build; image rules still do).
`FailOn.kev` and the EPSS thresholds fail a vulnerability whatever its severity: each is one more
reason to fail, next to the severity threshold. `Policy.severity_source` says which rating decides a
vulnerability's severity (`vulndb.severity.choose`).
`IgnoreRule.source` and `Checks.sources` are `file:line` strings, so a suppression in a report names
the exact line that accepted the finding. Severity names in the file are lower-case; here they are
`Severity` members. `Policy.limits` holds the `limits:` mapping as checked names and raw values;
`inputs.limits_under` applies them under the command line's `--limit` values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ci_security.errors import CiSecurityError
from ci_security.models import Severity
from ci_security.models.runtime import RuntimeExpect

DEFAULT_DURATION = 30.0
MAX_DURATION = 3600.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$", re.I)
RUNTIME_RULE_ID = re.compile(r"^RT\d{3}$", re.I)


class PolicyError(CiSecurityError):
    """A policy file, VEX document or baseline report cannot be used; the message names the file."""


def parse_duration(value: str | int) -> float:
    """Seconds in `45`, `30s`, `2m`, `1h`; `ValueError` with the reason for anything else, or for a
    duration outside 1 s to 1 h.
    """
    match = _DURATION.match(str(value))
    if match is None:
        raise ValueError("not a duration (seconds, or a number with s, m or h: 30s, 2m)")
    seconds = float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[(match.group(2) or "s").lower()]
    if not 1 <= seconds <= MAX_DURATION:
        raise ValueError("must be from 1 second to 1 hour")
    return seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class FailOn:
    severity: Severity | None = Severity.HIGH
    fixable_only: bool = True
    new_only: bool = False
    kev: bool = False
    epss_score: float | None = None
    epss_percentile: float | None = None
    # With a dynamic scan: only vulnerabilities of packages in use fail (`in_use`), and those fail from
    # `in_use_severity` (a lower threshold) when it is set.
    in_use: bool = False
    in_use_severity: Severity | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IgnoreRule:
    id: str
    reason: str
    expires: date
    packages: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    vex_justification: str | None = None
    source: str = ""  # file:line of the entry

    def active(self, today: date) -> bool:
        """An entry suppresses through its expiry day inclusive."""
        return self.expires >= today


@dataclass(frozen=True, slots=True, kw_only=True)
class Checks:
    enable: tuple[str, ...] = ()  # rules that are off by default, turned on
    disable: tuple[str, ...] = ()
    # (rule id, severity) pairs; a tuple rather than a dict keeps the dataclass hashable.
    severity: tuple[tuple[str, Severity], ...] = ()
    # rule id (upper-cased) -> file:line of its `checks.disable` item
    sources: tuple[tuple[str, str], ...] = ()

    def is_enabled(self, rule_id: str) -> bool:
        wanted = rule_id.upper()
        return any(r.upper() == wanted for r in self.enable)

    def is_disabled(self, rule_id: str) -> bool:
        wanted = rule_id.upper()
        return any(r.upper() == wanted for r in self.disable)

    def disabled_at(self, rule_id: str) -> str | None:
        wanted = rule_id.upper()
        return next((src for r, src in self.sources if r == wanted), None)

    def override(self, rule_id: str) -> Severity | None:
        wanted = rule_id.upper()
        return next((sev for r, sev in self.severity if r.upper() == wanted), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRules:
    allowed_registries: tuple[str, ...] | None = None  # None: any registry
    require_digest: bool = False
    forbid_latest: bool = False
    require_non_root: bool = False

    @property
    def configured(self) -> bool:
        return bool(
            self.allowed_registries is not None
            or self.require_digest
            or self.forbid_latest
            or self.require_non_root
        )


DEFAULT_UPDATE_TYPES = ("patch", "minor", "digest")


@dataclass(frozen=True, slots=True, kw_only=True)
class FixImageRule:
    """`fix.images` entry: the update types proposed for the images `patterns` match."""

    patterns: tuple[str, ...]
    update_types: tuple[str, ...]
    source: str = ""  # file:line of the entry


@dataclass(frozen=True, slots=True, kw_only=True)
class FixRules:
    """The policy's `fix:` section (docs/fix.md)."""

    update_types: tuple[str, ...] = DEFAULT_UPDATE_TYPES
    images: tuple[FixImageRule, ...] = ()
    ignore_images: tuple[str, ...] = ()
    max_open_prs: int = 5
    pin_digests: bool = False
    dependencies: bool = True
    labels: tuple[str, ...] = ("security", "ci-security")

    def allowed(self, names: tuple[str, ...]) -> frozenset[str]:
        """The update types for an image known by `names` (as written, and in full)."""
        for rule in self.images:
            if any(_glob(name, pattern) for name in names for pattern in rule.patterns):
                return frozenset(rule.update_types)
        return frozenset(self.update_types)

    def ignored(self, names: tuple[str, ...]) -> str | None:
        """The `ignore_images` pattern that leaves this image alone, if any."""
        return next((p for p in self.ignore_images for name in names if _glob(name, p)), None)


def _glob(name: str, pattern: str) -> bool:
    from fnmatch import fnmatchcase

    return fnmatchcase(name, pattern)


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimePolicy:
    """The `runtime:` section: how long the dynamic scan watches the image, what it expects, where
    the image may connect, and the runtime rules turned on, off or re-rated.
    """

    duration: float = DEFAULT_DURATION
    expect: RuntimeExpect = "any"
    exit_codes: tuple[int, ...] = (0,)
    allowed_destinations: tuple[str, ...] = ()
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    severity: tuple[tuple[str, Severity], ...] = ()
    sources: tuple[tuple[str, str], ...] = ()  # rule id (upper-cased) -> file:line of its disable item

    def is_disabled(self, rule_id: str) -> bool:
        return rule_id.upper() in {r.upper() for r in self.disable}

    def disabled_at(self, rule_id: str) -> str | None:
        return next((src for r, src in self.sources if r == rule_id.upper()), None)

    def override(self, rule_id: str) -> Severity | None:
        return next((sev for r, sev in self.severity if r.upper() == rule_id.upper()), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    version: int = 1
    fail_on: FailOn = field(default_factory=FailOn)
    severity_source: str = "vendor"  # vendor, nvd or max
    ignore: tuple[IgnoreRule, ...] = ()
    checks: Checks = field(default_factory=Checks)
    images: ImageRules = field(default_factory=ImageRules)
    runtime: RuntimePolicy = field(default_factory=RuntimePolicy)
    vex: tuple[str, ...] = ()  # as written in the file: relative to the policy file's folder
    fix: FixRules = field(default_factory=FixRules)
    # (limit name with underscores, value as written) pairs from `limits:`; the CLI's --limit wins
    limits: tuple[tuple[str, str], ...] = ()
    source: str | None = None  # the policy file's path as given, None for the defaults

    def vex_paths(self) -> tuple[Path, ...]:
        """The `vex` entries resolved against the policy file's folder."""
        base = Path(self.source).parent if self.source else Path()
        return tuple(base / p for p in self.vex)


DEFAULT_POLICY = Policy()
