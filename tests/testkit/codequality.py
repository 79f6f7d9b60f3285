"""GitLab Code Quality reports checked as GitLab reads them: every entry against the schema GitLab validates
entries with (gitlabhq's codeclimate.json) and an explicit checker of the fields GitLab processes.
"""

from __future__ import annotations

import functools
import json

import jsonschema

from testkit.shared import shared_path

SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


PROCESSED = {"description", "check_name", "fingerprint", "severity", "location"}


@functools.cache
def entry_schema() -> dict:
    """The schema GitLab validates every entry with (gitlabhq's codeclimate.json, in ../shared)."""
    return json.loads(shared_path("data", "third-party", "gitlab-codeclimate.json").read_text())


def check_code_quality(doc, *, repository_paths=True):
    """The fields GitLab processes (docs "Code Quality report format"); returns the violations found."""
    errors = []
    if not isinstance(doc, list):
        return ["report: not an array"]
    validator = jsonschema.Draft7Validator(entry_schema())
    for i, entry in enumerate(doc):
        where = f"[{i}]"
        errors += [f"{where}: schema: {e.message}" for e in validator.iter_errors(entry)]
        if not isinstance(entry, dict):
            continue
        errors += [f"{where}: missing {key}" for key in sorted(PROCESSED - set(entry))]
        for key in ("description", "check_name", "fingerprint"):
            if not isinstance(entry.get(key), str) or not entry.get(key):
                errors.append(f"{where}.{key}: want a non-empty string")
        if entry.get("severity") not in SEVERITIES:
            errors.append(f"{where}.severity: {entry.get('severity')!r} not in {sorted(SEVERITIES)}")
        location = entry.get("location") or {}
        path = location.get("path")
        if not isinstance(path, str) or not path:
            errors.append(f"{where}.location.path: want a non-empty string")
        elif repository_paths and (path.startswith(("./", "/")) or "\\" in path):
            errors.append(f"{where}.location.path: not repository-relative: {path!r}")
        begin = (location.get("lines") or {}).get("begin")
        if begin is None:
            begin = ((location.get("positions") or {}).get("begin") or {}).get("line")
        if not isinstance(begin, int) or isinstance(begin, bool):
            errors.append(f"{where}.location: want lines.begin or positions.begin.line as an integer")
        elif repository_paths and begin < 1:
            errors.append(f"{where}.location.lines.begin: lines start at 1")
    prints = [e.get("fingerprint") for e in doc if isinstance(e, dict)]
    if len(prints) != len(set(prints)):
        errors.append("fingerprints are not unique (GitLab keeps one entry per fingerprint)")
    return errors
