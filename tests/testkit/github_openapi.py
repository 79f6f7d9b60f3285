"""The part of GitHub's REST API description the GitHub stand-in checks requests against, built at test
time from `../shared/schemas/github-api.github.com.openapi.json`.

The full description (MIT, © Octokit contributors, see `../shared/schemas/github-openapi.LICENSE`) is
13 MB and belongs to its authors, so the repository holds none of it, not even a subset: `subset()`
cuts it down once per test session. The stand-in needs only the operations
`ci_security/platforms/github.py` calls, and the ones PyGithub makes on the way, plus every component
they reach through `$ref`. The subset keeps those path items (only the listed methods, with their
path-level parameters) and the transitive closure of their references, and records where it came from
(file and sha256) under `x-ci-security-subset`.

`scripts/github-openapi-subset.py` writes the same document to a file, to read what the stand-in holds.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from testkit.shared import shared_path

SOURCE = ("schemas", "github-api.github.com.openapi.json")  # inside ../shared

# (method, path template): what the platform sends, in the order the stand-in lists them.
OPERATIONS: tuple[tuple[str, str], ...] = (
    ("get", "/user"),
    ("get", "/repos/{owner}/{repo}"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}/files"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("get", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("patch", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}/comments"),
    ("post", "/repos/{owner}/{repo}/pulls/{pull_number}/comments"),
    ("get", "/repos/{owner}/{repo}/pulls/comments/{comment_id}"),
    ("patch", "/repos/{owner}/{repo}/pulls/comments/{comment_id}"),
    ("post", "/repos/{owner}/{repo}/code-scanning/sarifs"),
    # fix pull requests: the git data API (blob → tree → commit → ref), pulls, labels, contents, compare
    ("get", "/repos/{owner}/{repo}/git/ref/{ref}"),
    ("post", "/repos/{owner}/{repo}/git/refs"),
    ("patch", "/repos/{owner}/{repo}/git/refs/{ref}"),
    ("post", "/repos/{owner}/{repo}/git/blobs"),
    ("post", "/repos/{owner}/{repo}/git/trees"),
    ("post", "/repos/{owner}/{repo}/git/commits"),
    ("get", "/repos/{owner}/{repo}/git/commits/{commit_sha}"),
    ("get", "/repos/{owner}/{repo}/pulls"),
    ("post", "/repos/{owner}/{repo}/pulls"),
    ("patch", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("get", "/repos/{owner}/{repo}/contents/{path}"),
    ("get", "/repos/{owner}/{repo}/compare/{basehead}"),
)


def pointer(document: dict[str, Any], ref: str) -> Any:
    """The node a local JSON reference (`#/components/...`) names."""
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported: {ref}")
    node: Any = document
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node: Any) -> list[str]:
    """Every `$ref` value below `node`."""
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                found.append(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def subset(document: dict[str, Any], source_name: str, digest: str) -> dict[str, Any]:
    """The `OPERATIONS` of `document` and the components they reach, with provenance."""
    paths: dict[str, dict[str, Any]] = {}
    for method, template in OPERATIONS:
        item = document["paths"][template]
        kept = paths.setdefault(template, {k: v for k, v in item.items() if k in ("parameters", "summary")})
        kept[method] = item[method]

    needed: set[str] = set()
    pending = refs(paths)
    while pending:
        ref = pending.pop()
        if ref in needed:
            continue
        needed.add(ref)
        pending.extend(refs(pointer(document, ref)))

    components: dict[str, dict[str, Any]] = {}
    for ref in sorted(needed):
        kind, name = ref.split("/")[2:4]
        components.setdefault(kind, {})[name] = document["components"][kind][name]
    components = {kind: dict(sorted(items.items())) for kind, items in sorted(components.items())}

    return {
        "openapi": document["openapi"],
        "info": document["info"],
        "x-ci-security-subset": {
            "source": source_name,
            "sha256": digest,
            "generator": "tests/testkit/github_openapi.py",
            "operations": [f"{method.upper()} {template}" for method, template in OPERATIONS],
            "licence": "MIT, Copyright (c) 2020 Octokit contributors (shared/schemas/github-openapi.LICENSE)",
        },
        "servers": document.get("servers", []),
        "paths": paths,
        "components": components,
    }


def subset_of_file(source: Path) -> dict[str, Any]:
    raw = source.read_bytes()
    return subset(json.loads(raw), source.name, hashlib.sha256(raw).hexdigest())


@functools.cache
def _cached(source: Path) -> dict[str, Any]:
    return subset_of_file(source)


def shared_subset() -> dict[str, Any]:
    """The subset of the description in ../shared, built once per process (the test is skipped
    without ../shared). Callers must not change it."""
    return _cached(shared_path(*SOURCE))
