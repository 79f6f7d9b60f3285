"""Every Dockerfile rule, listed once, in id order."""

from __future__ import annotations

from ci_security.rules.base import DockerfileRule

RULES: tuple[DockerfileRule, ...] = ()
