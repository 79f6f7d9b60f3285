"""GitLab container-scanning reports checked against the 15.x requirements: GitLab's own schema (15.2.4, the
nearest published copy, read from ../shared) and an explicit field-by-field checker written from the
15.0.x requirements.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import uuid

from testkit.shared import shared_path


@functools.cache
def gitlab_schema() -> dict:
    """GitLab's container-scanning schema 15.2.4 (`shared/data/third-party/`, MIT, GitLab B.V.)."""
    path = shared_path("data", "third-party", "gitlab-container-scanning-report-format.v15.2.4.json")
    return json.loads(path.read_text())


# ---- The 15.0.x requirements, written out (security-report-format.json 15.0.2 + the container-scanning
# location; GitLab's secure.md). Keys added after 15.0 are deliberately not allowed.
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")


HTTP_URL = re.compile(r"^https?://.+")


LINK_URL = re.compile(r"^(https?|ftp)://.+")


SEVERITIES = {"Info", "Unknown", "Low", "Medium", "High", "Critical"}


TOP_KEYS = {"version", "schema", "scan", "vulnerabilities", "remediations"}


SCAN_REQUIRED = {"analyzer", "scanner", "type", "start_time", "end_time", "status"}


SCAN_KEYS = SCAN_REQUIRED | {"messages", "primary_identifiers"}


VULN_KEYS = {
    "id",
    "name",
    "description",
    "severity",
    "solution",
    "identifiers",
    "links",
    "details",
    "tracking",
    "flags",
    "location",
}


LOCATION_KEYS = {"dependency", "operating_system", "image"}


def _string(errors, where, value, *, min_length=0, max_length=None, pattern=None):
    if not isinstance(value, str):
        errors.append(f"{where}: not a string: {value!r}")
        return
    if len(value) < min_length:
        errors.append(f"{where}: shorter than {min_length}")
    if max_length is not None and len(value) > max_length:
        errors.append(f"{where}: longer than {max_length}")
    if pattern is not None and not pattern.match(value):
        errors.append(f"{where}: does not match {pattern.pattern}: {value!r}")


def _keys(errors, where, obj, *, required, allowed=None):
    """Required keys present and, when `allowed` is given, no key outside it. False when the object
    cannot be checked further (not an object, or a required key missing)."""
    if not isinstance(obj, dict):
        errors.append(f"{where}: not an object")
        return False
    missing = sorted(set(required) - set(obj))
    errors.extend(f"{where}: missing {key}" for key in missing)
    if allowed is not None:
        errors.extend(f"{where}: key not in 15.0.x: {key}" for key in sorted(set(obj) - set(allowed)))
    return not missing


def _tool(errors, where, tool, url_pattern):
    if _keys(errors, where, tool, required={"id", "name", "version", "vendor"}):
        for key in ("id", "name", "version"):
            _string(errors, f"{where}.{key}", tool.get(key), min_length=1)
        if _keys(errors, f"{where}.vendor", tool.get("vendor"), required={"name"}, allowed={"name"}):
            _string(errors, f"{where}.vendor.name", tool["vendor"].get("name"), min_length=1)
        if "url" in tool:
            _string(errors, f"{where}.url", tool["url"], pattern=url_pattern)


def _identifier(errors, where, ident):
    required = {"type", "name", "value"}
    if _keys(errors, where, ident, required=required, allowed=required | {"url"}):
        for key in ("type", "name", "value"):
            _string(errors, f"{where}.{key}", ident.get(key), min_length=1)
        if "url" in ident:
            _string(errors, f"{where}.url", ident["url"], pattern=LINK_URL)


def _vulnerability(errors, where, vuln):
    if not _keys(errors, where, vuln, required={"id", "identifiers", "location"}, allowed=VULN_KEYS):
        return
    _string(errors, f"{where}.id", vuln["id"], min_length=1)
    if "name" in vuln:
        _string(errors, f"{where}.name", vuln["name"], max_length=255)
    if "description" in vuln:
        _string(errors, f"{where}.description", vuln["description"], max_length=1_048_576)
    if "solution" in vuln:
        _string(errors, f"{where}.solution", vuln["solution"], max_length=7000)
    if "severity" in vuln and vuln["severity"] not in SEVERITIES:
        errors.append(f"{where}.severity: not in {sorted(SEVERITIES)}: {vuln['severity']!r}")
    idents = vuln["identifiers"]
    if not isinstance(idents, list) or not 1 <= len(idents) <= 20:
        errors.append(f"{where}.identifiers: want 1 to 20 items")
    else:
        for i, ident in enumerate(idents):
            _identifier(errors, f"{where}.identifiers[{i}]", ident)
    for i, link in enumerate(vuln.get("links", [])):
        if _keys(errors, f"{where}.links[{i}]", link, required={"url"}, allowed={"url", "name"}):
            _string(errors, f"{where}.links[{i}].url", link["url"], pattern=LINK_URL)
    for i, flag in enumerate(vuln.get("flags", [])):
        path = f"{where}.flags[{i}]"
        if _keys(errors, path, flag, required={"type", "origin", "description"}):
            if flag["type"] != "flagged-as-likely-false-positive":
                errors.append(f"{path}.type: unknown flag type {flag['type']!r}")
            _string(errors, f"{path}.origin", flag["origin"], min_length=1)
            _string(errors, f"{path}.description", flag["description"], min_length=1)
    loc = vuln["location"]
    if _keys(errors, f"{where}.location", loc, required=LOCATION_KEYS, allowed=LOCATION_KEYS):
        where = f"{where}.location"
        dep = loc.get("dependency")
        if _keys(errors, f"{where}.dependency", dep, required={"package", "version"}):
            package = dep.get("package")
            if _keys(errors, f"{where}.dependency.package", package, required={"name"}):
                _string(errors, f"{where}.dependency.package.name", package.get("name"))
            _string(errors, f"{where}.dependency.version", dep.get("version"))
        _string(errors, f"{where}.operating_system", loc.get("operating_system"), min_length=1)
        _string(errors, f"{where}.image", loc.get("image"), min_length=1)


def check_container_scanning_15(doc, *, strict=False):
    """Every 15.0.x requirement for a container-scanning report; returns the violations found.
    `strict` adds what the schema only recommends: unique UUID ids."""
    errors: list[str] = []
    if not _keys(errors, "report", doc, required={"version", "scan", "vulnerabilities"}, allowed=TOP_KEYS):
        return errors
    _string(errors, "version", doc["version"], pattern=VERSION)
    if not doc["version"].startswith("15."):
        errors.append(f"version: not 15.x: {doc['version']}")
    if "schema" in doc:
        _string(errors, "schema", doc["schema"], pattern=HTTP_URL)
    scan = doc["scan"]
    if _keys(errors, "scan", scan, required=SCAN_REQUIRED, allowed=SCAN_KEYS):
        _tool(errors, "scan.analyzer", scan["analyzer"], HTTP_URL)
        _tool(errors, "scan.scanner", scan["scanner"], re.compile(".*"))
        if scan["type"] not in {"container_scanning", "container_scanning_for_registry"}:
            errors.append(f"scan.type: {scan['type']!r}")
        if scan["status"] not in {"success", "failure"}:
            errors.append(f"scan.status: {scan['status']!r}")
        for key in ("start_time", "end_time"):
            _string(errors, f"scan.{key}", scan[key], pattern=TIME)
        for i, message in enumerate(scan.get("messages", [])):
            keys = {"level", "value"}
            if _keys(errors, f"scan.messages[{i}]", message, required=keys, allowed=keys):
                if message["level"] not in {"info", "warn", "fatal"}:
                    errors.append(f"scan.messages[{i}].level: {message['level']!r}")
                _string(errors, f"scan.messages[{i}].value", message["value"], min_length=1)
    vulns = doc["vulnerabilities"]
    if not isinstance(vulns, list):
        errors.append("vulnerabilities: not an array")
        return errors
    for i, vuln in enumerate(vulns):
        _vulnerability(errors, f"vulnerabilities[{i}]", vuln)
    ids = [v.get("id") for v in vulns if isinstance(v, dict)]
    # The schema only recommends unique UUIDs (Trivy's golden repeats CVE ids across packages), but
    # remediations reference findings by id, so ours must be unique.
    if strict and len(ids) != len(set(ids)):
        errors.append("vulnerabilities: ids are not unique")
    if strict:
        for value in ids:
            try:
                uuid.UUID(value)
            except (TypeError, ValueError):
                errors.append(f"vulnerabilities: id is not a UUID: {value!r}")
    for i, rem in enumerate(doc.get("remediations", [])):
        path = f"remediations[{i}]"
        keys = {"fixes", "summary", "diff"}
        if _keys(errors, path, rem, required=keys, allowed=keys):
            _string(errors, f"{path}.summary", rem.get("summary"), min_length=1)
            _string(errors, f"{path}.diff", rem.get("diff"), min_length=1)
            try:
                base64.b64decode(rem.get("diff"), validate=True)
            except (TypeError, ValueError):
                errors.append(f"{path}.diff: not base64")
            for fix in rem.get("fixes") or []:
                if fix.get("id") not in ids:
                    errors.append(f"{path}.fixes: {fix.get('id')!r} is no vulnerability id")
    return errors
