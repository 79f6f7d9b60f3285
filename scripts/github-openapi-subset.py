#!/usr/bin/env python3
"""Write the part of GitHub's OpenAPI description the GitHub stand-in validates against, to read it.

The tests build this subset themselves at run time from `../shared/schemas/github-api.github.com.openapi.json`
(MIT, © Octokit contributors; `tests/testkit/github_openapi.py` holds the logic). The repository keeps no
copy of it: the description belongs to its authors. This script runs the same code on the same file
(or on SOURCE) and writes the result to OUTPUT, `-` for standard output.

Usage: scripts/github-openapi-subset.py [--source SOURCE] OUTPUT
       (../shared is found as the tests find it: $CI_SECURITY_SHARED_DIR, else beside the checkout)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from testkit import github_openapi, shared  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", help="file to write, - for standard output")
    parser.add_argument("--source", type=Path, help="the full description (default: in ../shared)")
    args = parser.parse_args(argv)
    source = args.source
    if source is None:
        base = shared.shared_dir()
        if base is None:
            places = ", ".join(str(p) for p in shared.candidates())
            print(f"error: no shared directory (looked in {places}); pass --source", file=sys.stderr)
            return 2
        source = base.joinpath(*github_openapi.SOURCE)
    if not source.is_file():
        print(f"error: {source}: no such file", file=sys.stderr)
        return 2
    result = github_openapi.subset_of_file(source)
    text = json.dumps(result, indent=1, ensure_ascii=False) + "\n"
    count = sum(len(items) for items in result["components"].values())
    summary = f"{len(github_openapi.OPERATIONS)} operations, {count} components, {len(text)} characters"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"{args.output}: {summary}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
