"""Checkov JSON reports (`checkov -d DIR --framework dockerfile kubernetes -o json`) into
misconfigurations.

The report is one object per framework (`{check_type, results, summary}`), or an array of them when
several frameworks ran; when Checkov found nothing to scan it writes the summary alone
(`{passed, failed, ..., checkov_version}`), which imports as no findings. From each framework's
`results`, `failed_checks[]` and `skipped_checks[]` are read: `check_id`, `check_name`, `file_path`,
`file_abs_path`, `repo_file_path`, `file_line_range`, `resource`, `guideline`, `severity` and
`check_result{evaluated_keys, results_configuration, suppress_comment}`. Passed checks and parsing
errors are not imported.

Mapping decisions:
- `rule_id` and `peer_id` are `check_id` (`CKV_K8S_16`, `CKV2_DOCKER_3`); `title` is `check_name`;
  `references` the `guideline` URL when there is one; `found_by` is "checkov".
- `severity`: Checkov's own when it has one (only with a platform API key); otherwise (`null`, as
  open-source Checkov always writes) UNKNOWN, which our rule catalog replaces for mapped ids.
- Skipped checks (a `#checkov:skip=ID:reason` comment or a `checkov.io/skip*` annotation) are imported
  as suppressed findings: `inline_reason` is Checkov's `suppress_comment`, `inline_source` "checkov".
- `path`: `file_abs_path` when it lies under `base`; otherwise `repo_file_path` (relative to the
  directory Checkov ran in, with a leading `/`) unless it is the absolute path again; otherwise
  `file_path` (relative to the `-d` directory, with a leading `/`). The leading `/` is dropped.
- Kubernetes `line`: Checkov reports the whole resource (`file_line_range`), so the line is resolved
  in the manifest itself when it exists under `base` (parsed with `manifests.yamldoc`). The document is
  the first whose first key lies in `file_line_range` (in a multi-document file the range may start
  at the `---` line); in a `List`, the item with the resource's kind and name. The first of
  `evaluated_keys` (`spec/template/spec/containers/[0]/securityContext/privileged`) that exists
  gives its exact line; when none exists, the first one's nearest existing parent (a missing
  `resources/requests/memory` points at the container). Checks that evaluate no keys (host
  namespaces, runAsNonRoot, seccomp, automountServiceAccountToken, ...) use the key they are about,
  from `_KEY_BY_CHECK`, the same way. Without the file, or when it does not parse, the line is the
  start of `file_line_range`.
- Kubernetes `resource`: Checkov's `Kind.namespace.name` written `Kind/namespace/name`, plus the
  container (`container app`, `init container migrate`) when the resolved key lies inside one.
- Dockerfile `line`: the instruction's line, from `results_configuration[0].startline` (0-based) or
  `file_line_range`. Checkov counts a heredoc body (`RUN <<EOF ... EOF`) as one line, so every later
  line it reports is too small; when the Dockerfile exists under `base` the line is moved to the
  first line at or after the reported one that holds the reported instruction (and, when Checkov gives
  it, the same text). Checks about the whole file (no instruction, e.g. HEALTHCHECK missing) keep
  the start of `file_line_range`. The message quotes the instruction's first line when Checkov gives
  it. There is no resource.
- Other frameworks: the start of `file_line_range` and Checkov's `resource` as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ci_security.ingest.base import (
    FindingKind,
    Imported,
    JSONObject,
    RepoPaths,
    ReportImportError,
    ShapeError,
    field_list,
    field_number,
    field_obj,
    field_str,
    is_checkov_empty,
    is_checkov_framework,
    line_number,
    not_this_tool,
    obj,
    one_line,
    read_json,
    required_str,
    str_items,
)
from ci_security.manifests.yamldoc import YamlDocument, YamlSyntaxError, YamlTooComplexError, load_documents
from ci_security.models import Misconfiguration, Severity

KeyPath = tuple[str | int, ...]

_ADVICE = "only `checkov -o json` output can be imported"
_INDEX = re.compile(r"\[(\d+)\]\Z")
_POD_SPEC: dict[str, KeyPath] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "DeploymentConfig": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_CONTAINER_LABELS = {
    "containers": "container",
    "initContainers": "init container",
    "ephemeralContainers": "ephemeral container",
}
# Checks that report no evaluated keys, and the key they are about: under the pod spec ("pod", ...)
# or under the object ("object", ...). A missing key resolves to its nearest existing parent.
_KEY_BY_CHECK: dict[str, tuple[str, KeyPath]] = {
    "CKV_K8S_17": ("pod", ("hostPID",)),
    "CKV_K8S_18": ("pod", ("hostIPC",)),
    "CKV_K8S_19": ("pod", ("hostNetwork",)),
    "CKV_K8S_21": ("object", ("metadata", "namespace")),
    "CKV_K8S_23": ("pod", ("securityContext", "runAsNonRoot")),
    "CKV_K8S_27": ("pod", ("volumes",)),
    "CKV_K8S_29": ("pod", ("securityContext",)),
    "CKV_K8S_31": ("pod", ("securityContext", "seccompProfile")),
    "CKV_K8S_38": ("pod", ("automountServiceAccountToken",)),
    "CKV_K8S_40": ("pod", ("securityContext", "runAsUser")),
}


class CheckovImporter:
    """Imports `checkov -o json` reports."""

    name: ClassVar[str] = "checkov"
    report: ClassVar[str] = "a Checkov JSON report (`checkov -o json`)"
    produces: ClassVar[tuple[FindingKind, ...]] = ("misconfigurations",)

    def load(self, path: Path, base: Path | None = None) -> Imported:
        doc = read_json(path)
        frameworks = doc if isinstance(doc, list) else [doc]
        if not frameworks or not (is_checkov_framework(frameworks[0]) or is_checkov_empty(frameworks[0])):
            raise not_this_tool(path, "Checkov", doc, _ADVICE)
        reader = _Reader(RepoPaths.at(base))
        version: str | None = None
        found: list[Misconfiguration] = []
        try:
            for i, item in enumerate(frameworks):
                where = f"[{i}]" if isinstance(doc, list) else ""
                framework = obj(item, where)
                version = version or _version(framework, where)
                if is_checkov_empty(framework) and "results" not in framework:
                    continue
                found.extend(reader.framework(framework, where))
        except ShapeError as exc:
            raise ReportImportError(f"{path}: not a valid Checkov report: {exc}") from None
        return Imported(
            tool="checkov",
            tool_version=version,
            target=None,
            os=None,
            packages=(),
            vulnerabilities=(),
            misconfigurations=tuple(found),
        )


def _version(framework: JSONObject, where: str) -> str | None:
    if "results" not in framework:
        return field_str(framework, "checkov_version", where) or None
    summary = field_obj(framework, "summary", where)
    return (field_str(summary, "checkov_version", _join(where, "summary")) or None) if summary else None


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


@dataclass
class _Reader:
    """Reads one report's frameworks; caches each manifest it opens for locating lines."""

    paths: RepoPaths
    yaml_files: dict[str, list[YamlDocument] | None] = field(default_factory=dict)
    text_files: dict[str, list[str] | None] = field(default_factory=dict)

    def framework(self, framework: JSONObject, where: str) -> list[Misconfiguration]:
        check_type = required_str(framework, "check_type", where)
        results = obj(framework.get("results"), _join(where, "results"))
        rwhere = _join(where, "results")
        out: list[Misconfiguration] = []
        for key, skipped in (("failed_checks", False), ("skipped_checks", True)):
            for i, item in enumerate(field_list(results, key, rwhere)):
                cwhere = f"{rwhere}.{key}[{i}]"
                out.append(self.check(obj(item, cwhere), cwhere, check_type, skipped))
        return out

    def check(self, raw: JSONObject, where: str, check_type: str, skipped: bool) -> Misconfiguration:
        check_id = required_str(raw, "check_id", where)
        title = one_line(field_str(raw, "check_name", where)) or check_id
        result = field_obj(raw, "check_result", where) or {}
        rwhere = _join(where, "check_result")
        path = self.path(raw, where)
        start, end = _line_range(raw, where)
        resource = field_str(raw, "resource", where)
        message = title
        line = start
        if check_type == "kubernetes":
            keys = str_items(result, "evaluated_keys", rwhere)
            line, resource = self.kubernetes_location(path, check_id, resource, keys, start, end)
        elif check_type == "dockerfile":
            line, quoted = self.dockerfile_location(path, resource, result, rwhere, start)
            if quoted:
                message = f"{title}: {quoted}"
            resource = ""
        guideline = field_str(raw, "guideline", where)
        reason = one_line(field_str(result, "suppress_comment", rwhere)) or "skipped by Checkov"
        return Misconfiguration(
            rule_id=check_id,
            title=title,
            severity=Severity.parse(field_str(raw, "severity", where)),
            path=path,
            line=line,
            message=message,
            resource=resource,
            references=(guideline,) if guideline else (),
            found_by="checkov",
            inline_reason=reason if skipped else None,
            inline_source="checkov" if skipped else "",
            peer_id=check_id,
        )

    def path(self, raw: JSONObject, where: str) -> str:
        absolute = field_str(raw, "file_abs_path", where)
        if absolute:
            relative = self.paths.relative(absolute)
            if not relative.startswith("/"):
                return relative
        repo = field_str(raw, "repo_file_path", where)
        if repo and repo != absolute:
            return self.paths.relative(repo.lstrip("/"))
        written = required_str(raw, "file_path", where)
        if written == absolute:
            return self.paths.relative(written)
        return self.paths.relative(written.lstrip("/"))

    def kubernetes_location(
        self, path: str, check_id: str, resource: str, keys: Sequence[str], start: int | None, end: int | None
    ) -> tuple[int | None, str]:
        kind, _, rest = resource.partition(".")
        namespace, _, name = rest.partition(".")
        label = "/".join(p for p in (kind, namespace, name) if p) if name else resource.replace(".", "/")
        documents = self.yaml(path)
        if not documents or start is None:
            return start, label
        last = end if end is not None else start + 1
        document = next((d for d in documents if start <= d.positions.start_line <= last), None)
        if document is None:
            return start, label
        prefix, data = _object(document.data, kind, name)
        if not isinstance(data, dict):
            return start, label
        candidates = [_key_path(key) for key in keys]
        if not candidates and check_id in _KEY_BY_CHECK:
            scope, key = _KEY_BY_CHECK[check_id]
            if scope == "object":
                candidates = [key]
            elif data.get("kind") in _POD_SPEC:
                candidates = [(*_POD_SPEC[str(data["kind"])], *key)]
        if not candidates:
            return document.positions.line(prefix), label
        chosen = next(
            (c for c in candidates if document.positions.exact((*prefix, *c)) is not None), candidates[0]
        )
        container = _container(data, chosen)
        return document.positions.line((*prefix, *chosen)), f"{label} {container}" if container else label

    def dockerfile_location(
        self, path: str, resource: str, result: JSONObject, where: str, start: int | None
    ) -> tuple[int | None, str]:
        configurations = field_list(result, "results_configuration", where)
        # Checkov's Dockerfile resource is `<file_path>.<INSTRUCTION>`, or `<file_path>.` for the file.
        instruction = resource.rpartition(".")[2] if "." in resource else ""
        if not (instruction.isalpha() and instruction.isupper()):
            instruction = ""
        content = ""
        reported = start
        if configurations:
            cwhere = f"{where}.results_configuration[0]"
            first = obj(configurations[0], cwhere)
            instruction = field_str(first, "instruction", cwhere) or instruction
            content = one_line(field_str(first, "content", cwhere).split("\n", 1)[0])
            startline = field_number(first, "startline", cwhere)
            if startline is not None and startline >= 0 and startline == int(startline):
                reported = int(startline) + 1  # Checkov's startline is 0-based
        if not instruction or reported is None:
            return reported, content
        lines = self.text(path)
        if lines is None:
            return reported, content
        keyword = instruction.upper()
        after = [i for i in range(reported - 1, len(lines)) if _instruction(lines[i]) == keyword]
        same = [i for i in after if one_line(lines[i]) == content] if content else after
        found = same or after
        return (found[0] + 1 if found else reported), content

    def yaml(self, path: str) -> list[YamlDocument] | None:
        if path not in self.yaml_files:
            text = _read(self.paths.file(path))
            try:
                self.yaml_files[path] = load_documents(text) if text is not None else None
            except (YamlSyntaxError, YamlTooComplexError):
                self.yaml_files[path] = None
        return self.yaml_files[path]

    def text(self, path: str) -> list[str] | None:
        if path not in self.text_files:
            text = _read(self.paths.file(path))
            self.text_files[path] = text.splitlines() if text is not None else None
        return self.text_files[path]


def _read(file: Path | None) -> str | None:
    if file is None:
        return None
    try:
        return file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def _instruction(line: str) -> str:
    words = line.split(None, 1)
    return words[0].upper() if words else ""


def _line_range(raw: JSONObject, where: str) -> tuple[int | None, int | None]:
    """`file_line_range` as (start, end); 0 or absent is None."""
    bounds: list[int | None] = []
    for i, item in enumerate(field_list(raw, "file_line_range", where)):
        bounds.append(line_number(item, f"{_join(where, 'file_line_range')}[{i}]"))
    start = bounds[0] if bounds else None
    end = bounds[1] if len(bounds) > 1 else None
    return start, end


def _key_path(key: str) -> KeyPath:
    """`spec/containers/[0]/image` as ("spec", "containers", 0, "image"); a wildcard ends the path."""
    out: list[str | int] = []
    for part in key.split("/"):
        if not part:
            continue
        index = _INDEX.match(part)
        if index:
            out.append(int(index.group(1)))
        elif part.startswith("["):
            break
        else:
            out.append(part)
    return tuple(out)


def _object(data: Any, kind: str, name: str) -> tuple[KeyPath, Any]:
    """The object a check is about: the document itself, or the matching item of a `List`."""
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list) or not str(data.get("kind", "")).endswith("List"):
        return (), data
    for index, item in enumerate(items):
        meta = item.get("metadata") if isinstance(item, dict) else None
        if isinstance(meta, dict) and item.get("kind") == kind and meta.get("name") == name:
            return ("items", index), item
    return (), data


def _container(data: dict[str, Any], path: KeyPath) -> str:
    """`container app` when `path` lies inside a container of `data`, else ""."""
    value: Any = data
    for i, part in enumerate(path[:-1]):
        value = value.get(part) if isinstance(value, dict) else None
        if part in _CONTAINER_LABELS and isinstance(value, list) and isinstance(path[i + 1], int):
            index = int(path[i + 1])
            item = value[index] if index < len(value) else None
            name = item.get("name") if isinstance(item, dict) else None
            return f"{_CONTAINER_LABELS[str(part)]} {name if name else f'#{index}'}"
        if isinstance(value, list):
            return ""
    return ""
