"""The manifest parsers the remediation planner reads repositories with, imported in this one place.

They are the manifest checks' own parsers (the Dockerfile parser with its ARG resolution, YAML with
the line of every key, the Kubernetes and compose loaders, the repository walk that honours
`.gitignore`), so a reference the checks see is the reference a fix edits: there is no second parser.
When the parsers move (to `ci_security/manifests/`), this file is the one to change.
"""

from __future__ import annotations

from ci_security.rules.compose.load import ComposeFile, compose_from
from ci_security.rules.discover import VENDORED, discover, files_under
from ci_security.rules.dockerfile.parse import Dockerfile, Stage, parse_dockerfile, scope_at, substitute
from ci_security.rules.kubernetes.load import K8sObject, objects_in
from ci_security.rules.runner import manifest_kind
from ci_security.rules.yamldoc import (
    YamlDocument,
    YamlSyntaxError,
    YamlTooComplexError,
    load_documents,
)

__all__ = [
    "VENDORED",
    "ComposeFile",
    "Dockerfile",
    "K8sObject",
    "Stage",
    "YamlDocument",
    "YamlSyntaxError",
    "YamlTooComplexError",
    "compose_from",
    "discover",
    "files_under",
    "load_documents",
    "manifest_kind",
    "objects_in",
    "parse_dockerfile",
    "scope_at",
    "substitute",
]
