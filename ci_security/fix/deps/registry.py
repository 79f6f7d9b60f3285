"""Every dependency manifest format `ci-security fix` bumps, listed once."""

from __future__ import annotations

from ci_security.fix.deps.base import ManifestFormat
from ci_security.fix.deps.gomod import GoMod
from ci_security.fix.deps.npm import PackageJson
from ci_security.fix.deps.pyproject import PyProject
from ci_security.fix.deps.requirements import Requirements

FORMATS: tuple[ManifestFormat, ...] = (Requirements(), PyProject(), PackageJson(), GoMod())
