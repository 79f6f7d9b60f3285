"""Baselines for `fail_on.new_only`: the fingerprints of the findings in a previous JSON report
(`--output json`, schema_version "1"), typically the target branch's last scan.

A finding's fingerprint is stable across rebuilds (vulnerability id, package identity and evidence
path; rule, file and resource for a misconfiguration), so a finding that was already there before
the change is recognised even when line numbers or versions moved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ci_security.policy.model import PolicyError
from ci_security.structured import load_json, read_document

SUPPORTED_SCHEMA_VERSIONS = frozenset({"1"})


def _fingerprints(report: dict[str, Any], key: str, path: Path) -> list[str]:
    items = report.get(key, [])
    if not isinstance(items, list):
        raise PolicyError(f"{path}: not a ci-security JSON report: {key} is not a list")
    out = []
    for i, item in enumerate(items):
        fingerprint = item.get("fingerprint") if isinstance(item, dict) else None
        if not isinstance(fingerprint, str):
            raise PolicyError(f"{path}: not a ci-security JSON report: {key}[{i}] has no fingerprint")
        if fingerprint:
            out.append(fingerprint)
    return out


def parse_baseline(report: Any, path: Path) -> frozenset[str]:
    """The fingerprints in decoded JSON report `report` (read from `path`, named in errors)."""
    if not isinstance(report, dict):
        raise PolicyError(f"{path}: not a ci-security JSON report (expected a JSON object)")
    tool = report.get("tool")
    if not isinstance(tool, dict) or tool.get("name") != "ci-security":
        raise PolicyError(f"{path}: not a ci-security JSON report (tool.name is not ci-security)")
    version = report.get("schema_version")
    if not isinstance(version, str) or version not in SUPPORTED_SCHEMA_VERSIONS:
        raise PolicyError(
            f"{path}: JSON report schema_version {version!r} is not supported "
            f"(expected {', '.join(sorted(SUPPORTED_SCHEMA_VERSIONS))})"
        )
    found = (
        _fingerprints(report, "vulnerabilities", path)
        + _fingerprints(report, "misconfigurations", path)
        + _fingerprints(report, "runtime", path)
    )
    return frozenset(found)


def load_baseline(path: Path) -> frozenset[str]:
    """The finding fingerprints of the JSON report at `path`; `PolicyError` with a one-line reason when
    it cannot be read or is not a ci-security report. A pull request can change the file, so it is
    read within the `document-bytes` and `nesting-depth` limits.
    """
    data = read_document(path, "baseline report", error=PolicyError)
    return parse_baseline(load_json(data, str(path), error=PolicyError, located=True), path)
