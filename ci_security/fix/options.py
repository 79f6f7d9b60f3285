"""What a remediation plan is made under (`PlanOptions`), shared by the base-image planner
(`fix.plan`) and the dependency planner (`fix.deps`) without either importing the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ci_security.models import Platform, Vulnerability
from ci_security.platforms.base import FIX_BRANCH_PREFIX
from ci_security.policy.model import FixRules

# The platforms find the bot's own pull requests by this prefix; the planner names branches with it.
BRANCH_PREFIX = FIX_BRANCH_PREFIX


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanOptions:
    """What the plan is made under: the repository, the policy's `fix:` rules and allowed
    registries, the default platform, and the vulnerabilities an image scan found (for dependency
    bumps), with the database to check fixed versions against.
    """

    root: Path
    rules: FixRules = field(default_factory=FixRules)
    allowed_registries: tuple[str, ...] | None = None
    platform: Platform | None = None
    findings: tuple[Vulnerability, ...] = ()
    db_path: Path | None = None
    severity_source: str = "vendor"
