#!/usr/bin/env python3
"""Entry point of the GitHub Action and the plugin image: the CI step (`ci-security ci`).

GitHub passes a container action's inputs as `INPUT_<NAME>` variables (upper-cased, spaces to `_`,
dashes kept). This maps each to the `CI_SECURITY_*` variable the CLI reads, without overriding a
`CI_SECURITY_*` variable that is already set, and only for inputs that were given (an empty input
means "use the default"). The composite action and the GitLab template set `CI_SECURITY_*` directly,
so for them this mapping does nothing. Then it runs the CI step, which detects GitHub Actions, GitLab
CI or a local run itself.

`input` (a tarball or an OCI layout directory, as trivy-action's `input`) becomes the image reference
`docker-archive:PATH` or `oci:DIR` unless `image-ref` is also given.

The documentation the reports link rule ids to is this action's own `docs/` at the ref the workflow
pinned (`CI_SECURITY_DOCS_URL`), when GitHub says which repository and ref the action came from:
`GITHUB_ACTION_REPOSITORY`/`GITHUB_ACTION_REF` in a container action, `ACTION_REPOSITORY`/
`ACTION_REF` as action.yml passes them (GitHub leaves them empty in some composite runs; then rule
ids are not linked).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path

INPUTS = {
    "IMAGE-REF": "CI_SECURITY_IMAGE",
    "MANIFESTS": "CI_SECURITY_MANIFESTS",
    "POLICY": "CI_SECURITY_POLICY",
    "SEVERITY": "CI_SECURITY_FAIL_ON",
    "FAIL-BUILD": "CI_SECURITY_FAIL_BUILD",
    "SARIF-FILE": "CI_SECURITY_SARIF_FILE",
    "REPORT-DIR": "CI_SECURITY_REPORT_DIR",
    "COMMENT": "CI_SECURITY_COMMENT",
    "COMMENT-KEY": "CI_SECURITY_COMMENT_KEY",
    "INLINE-COMMENTS": "CI_SECURITY_INLINE",
    "UPLOAD-SARIF": "CI_SECURITY_UPLOAD_SARIF",
    "GITHUB-TOKEN": "CI_SECURITY_GITHUB_TOKEN",
    "REGISTRY-USERNAME": "CI_SECURITY_REGISTRY_USERNAME",
    "REGISTRY-PASSWORD": "CI_SECURITY_REGISTRY_PASSWORD",
    "PLATFORM": "CI_SECURITY_PLATFORM",
    "DOCKERFILE": "CI_SECURITY_DOCKERFILE",
    "BASELINE": "CI_SECURITY_BASELINE",
    "VEX": "CI_SECURITY_VEX",
    "DYNAMIC": "CI_SECURITY_DYNAMIC",
    "SANDBOX-DURATION": "CI_SECURITY_SANDBOX_DURATION",
    "DB-MIRROR": "CI_SECURITY_OSV_MIRROR",
    "DB-MAX-AGE": "CI_SECURITY_DB_MAX_AGE",
    "NVD-API-KEY": "CI_SECURITY_NVD_API_KEY",
    "FIX-PRS": "CI_SECURITY_FIX_PRS",
    "FIX-TOKEN": "CI_SECURITY_FIX_TOKEN",
    "DB-REPOSITORY": "CI_SECURITY_DB_REPOSITORY",
    "DB-REGISTRY-USERNAME": "CI_SECURITY_DB_REGISTRY_USERNAME",
    "DB-REGISTRY-PASSWORD": "CI_SECURITY_DB_REGISTRY_PASSWORD",
}


def map_inputs(env: MutableMapping[str, str]) -> None:
    """Copy given `INPUT_*` values to their `CI_SECURITY_*` variables (see the module docstring)."""
    for name, variable in INPUTS.items():
        value = _input(env, name)
        if value and not env.get(variable):
            env[variable] = value
    given = _input(env, "INPUT")
    if given and not env.get("CI_SECURITY_IMAGE"):
        env["CI_SECURITY_IMAGE"] = f"oci:{given}" if Path(given).is_dir() else f"docker-archive:{given}"
    docs = docs_url(env)
    if docs and not env.get("CI_SECURITY_DOCS_URL"):
        env["CI_SECURITY_DOCS_URL"] = docs


def docs_url(env: Mapping[str, str]) -> str | None:
    """The action's documentation at its pinned ref (see the module docstring), or None."""
    repository = env.get("ACTION_REPOSITORY") or env.get("GITHUB_ACTION_REPOSITORY") or ""
    ref = env.get("ACTION_REF") or env.get("GITHUB_ACTION_REF") or ""
    server = (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository) or ".." in repository:
        return None
    if not re.fullmatch(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*", ref) or ".." in ref:
        return None
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?", server):
        return None
    return f"{server}/{repository}/blob/{ref}/docs"


def _input(env: Mapping[str, str], name: str) -> str:
    # GitHub keeps dashes in the variable name; also accept underscores (docker run -e INPUT_IMAGE_REF).
    value = env.get(f"INPUT_{name}") or env.get(f"INPUT_{name.replace('-', '_')}") or ""
    return value.strip()


def main() -> None:
    map_inputs(os.environ)
    from ci_security.cli import main as cli

    cli(["ci"], prog_name="ci-security")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
