"""The manifest parsers the remediation planner reads repositories with, imported in this one place.

They are the manifest checks' own parsers (the Dockerfile parser with its ARG resolution, YAML with
the line of every key, the Kubernetes and compose loaders, all in `ci_security/manifests/`, and the
repository walk that honours `.gitignore`), so a reference the checks see is the reference a fix
edits: there is no second parser.
"""

from __future__ import annotations

from ci_security.manifests.compose import ComposeFile, compose_from
from ci_security.manifests.dockerfile import Dockerfile, Stage, parse_dockerfile, scope_at, substitute
from ci_security.manifests.kubernetes import K8sObject, objects_in
from ci_security.manifests.yamldoc import (
    YamlDocument,
    YamlSyntaxError,
    YamlTooComplexError,
    load_documents,
)
from ci_security.rules.discover import VENDORED, discover, files_under
from ci_security.rules.runner import manifest_kind

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
