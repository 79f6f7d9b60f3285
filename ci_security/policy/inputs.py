"""The policy a run decides under, made once for every caller: which file, the command line's
overrides on top of it, the limits it puts in force, and the other documents a decision needs.

`scan.check` (and through it both `ci-security scan` and the CI step) builds its decision from
these functions only, so a scan run from Python decides exactly as the CLI does:

- the policy file is `--policy`, else `.ci-security.yml` (or `.yaml`) in the repository root, else
  the default policy;
- `--fail-on` replaces the policy's `fail_on.severity` (`none`: no severity fails the build);
- the policy's `checks.enable` turns on the manifest rules that are off by default;
- the policy's `limits:` apply beneath the command line's `--limit` values, which win;
- the baseline report and the VEX documents (`--vex` plus the policy's `vex:` list) are read before
  the image, so a typo fails the job in a second, not after a 2 GB pull.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ci_security import limits
from ci_security.models import Decision, ScanResult, Severity
from ci_security.policy.model import DEFAULT_POLICY, Policy

if TYPE_CHECKING:
    from ci_security.policy.vex import VexDocument

POLICY_FILE_NAMES = (".ci-security.yml", ".ci-security.yaml")
FailOnOverride = Literal["critical", "high", "medium", "low", "unknown", "none"]
FAIL_ON_CHOICES: tuple[FailOnOverride, ...] = ("critical", "high", "medium", "low", "unknown", "none")


@dataclass(frozen=True, slots=True)
class PolicyInputs:
    """The policy, baseline and VEX documents a decision needs, loaded before the image is read."""

    policy: Policy
    baseline: frozenset[str] | None = None
    vex: tuple[VexDocument, ...] = ()


def find_policy(root: Path) -> Path | None:
    """The policy file in the repository root, if there is one; shown in reports as `file:line`, so
    relative to the working directory when it can be.
    """
    for name in POLICY_FILE_NAMES:
        candidate = root / name
        if candidate.is_file():
            try:
                return candidate.resolve().relative_to(Path.cwd().resolve())
            except ValueError:
                return candidate
    return None


def read_policy(path: Path | None, root: Path, fail_on: FailOnOverride | None = None) -> Policy:
    """The policy at `path`, else the one found in `root`, else the defaults; with `fail_on` (the
    command line's `--fail-on`) in place of its `fail_on.severity`.
    """
    from ci_security.policy.load import load_policy

    found = path or find_policy(root)
    policy = load_policy(found) if found is not None else DEFAULT_POLICY
    return with_fail_on(policy, fail_on)


def with_fail_on(policy: Policy, fail_on: FailOnOverride | None) -> Policy:
    """`policy` with `fail_on.severity` replaced by the `--fail-on` value (`none`: no severity)."""
    if fail_on is None:
        return policy
    severity = None if fail_on == "none" else Severity(fail_on.upper())
    return replace(policy, fail_on=replace(policy.fail_on, severity=severity))


def limits_under(policy: Policy, command_line: Mapping[str, str]) -> limits.Limits:
    """The limits a run works within: the defaults, the policy's `limits:` over them, and the
    command line's `--limit` values over both.
    """
    from_policy = limits.with_overrides(limits.DEFAULTS, dict(policy.limits))
    return limits.with_overrides(from_policy, command_line)


def load_inputs(
    policy: Policy, baseline_path: Path | None = None, vex_paths: tuple[Path, ...] = ()
) -> PolicyInputs:
    """`policy` with the baseline report at `baseline_path` and every VEX document (`vex_paths`
    plus the policy's `vex:` list), read under the limits in force.
    """
    from ci_security.policy.baseline import load_baseline
    from ci_security.policy.vex import load_vex_documents

    baseline = load_baseline(baseline_path) if baseline_path is not None else None
    vex = load_vex_documents((*policy.vex_paths(), *vex_paths))
    return PolicyInputs(policy=policy, baseline=baseline, vex=vex)


def decide(result: ScanResult, inputs: PolicyInputs, today: date | None = None) -> Decision:
    """The policy decision on `result` (ignore expiry is judged against `today`, UTC by default)."""
    from ci_security.policy.evaluate import evaluate

    return evaluate(
        result,
        inputs.policy,
        today=today or datetime.now(UTC).date(),
        baseline=inputs.baseline,
        vex=inputs.vex,
    )
