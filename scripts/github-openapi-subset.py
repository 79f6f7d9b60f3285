#!/usr/bin/env python3
"""Regenerate `tests/fixtures/github/openapi-subset.json` from GitHub's official OpenAPI description.

The full description (`../shared/schemas/github-api.github.com.openapi.json`, MIT, © Octokit
contributors) is 13 MB; the GitHub stand-in needs only the operations `ci_security/platforms/github.py`
calls, and the ones PyGithub makes on the way, plus every component they reach through `$ref`. The
output keeps those path items (only the listed methods, with their path-level parameters) and the
transitive closure of their references, and records where it came from (file and sha256) under
`x-ci-security-subset`, so a stale subset can be told from a fresh one.

Usage: scripts/github-openapi-subset.py [SOURCE] [OUTPUT]
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "schemas" / "github-api.github.com.openapi.json"
OUTPUT = ROOT / "tests" / "fixtures" / "github" / "openapi-subset.json"

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
)


def _pointer(document: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported: {ref}")
    node: Any = document
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> list[str]:
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
    paths: dict[str, dict[str, Any]] = {}
    for method, template in OPERATIONS:
        item = document["paths"][template]
        kept = paths.setdefault(template, {k: v for k, v in item.items() if k in ("parameters", "summary")})
        kept[method] = item[method]

    needed: set[str] = set()
    pending = _refs(paths)
    while pending:
        ref = pending.pop()
        if ref in needed:
            continue
        needed.add(ref)
        pending.extend(_refs(_pointer(document, ref)))

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
            "generator": "scripts/github-openapi-subset.py",
            "operations": [f"{method.upper()} {template}" for method, template in OPERATIONS],
            "licence": "MIT, Copyright (c) 2020 Octokit contributors; see LICENSE-NOTE.md beside this file",
        },
        "servers": document.get("servers", []),
        "paths": paths,
        "components": components,
    }


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else SOURCE
    output = Path(argv[2]) if len(argv) > 2 else OUTPUT
    raw = source.read_bytes()
    document = json.loads(raw)
    result = subset(document, f"shared/schemas/{source.name}", hashlib.sha256(raw).hexdigest())
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    count = sum(len(items) for items in result["components"].values())
    print(f"{output}: {len(OPERATIONS)} operations, {count} components, {output.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
