"""Run the manifest rules over files and turn their hits into `Misconfiguration` findings.

For each file: decide what it is (Dockerfile by name; YAML by content: Kubernetes objects or a
compose file), parse it once, run every enabled rule of that kind, then attach inline suppressions
and fingerprints. A file that cannot be analysed is itself a finding (MAN001) at the line of the
problem, never a silent skip: Trivy drops a Dockerfile it cannot parse and Hadolint reports nothing
for a heredoc it does not understand, so a broken file would otherwise look clean.

Inline suppressions:
- a comment `# ci-security:ignore=ID[,ID…] reason` on the line(s) directly above the line a finding
  points at (Dockerfile, Kubernetes and compose YAML alike; a block of consecutive comment lines
  is read, so several pragmas can stack);
- on a Kubernetes object, the annotation `ci-security.io/ignore-ID: reason`.
The reason is required. A pragma without one suppresses nothing and is itself a finding (MAN002),
because an unexplained exception is exactly what the policy file forbids.

Fingerprints hash the rule, the file, the resource and the text of the offending line (plus its
occurrence number among identical ones), not the line number: inserting a line above a finding does
not make it a new finding for `new_only`, GitHub or GitLab.

One finding per problem: after the rules ran, findings a rule's finding implies on the same resource
are folded into it (`rules.fold`, `RuleMeta.implies`); rules the policy disables fold nothing.

Fail closed: a file that could not be analysed (MAN001) is HIGH, so it fails the default policy
unless a policy ignore entry (which needs a reason) accepts it. A YAML file that does not parse is
MAN001 only when it looks like a manifest (a top-level `apiVersion:`/`kind:` or `services:` key):
otherwise it is some other YAML file and not this tool's business. A document that looks like a
Kubernetes object but whose `apiVersion`/`kind` Kubernetes does not serve is MAN003, once per
document (`kubernetes.kinds`); a custom resource is not a finding, it is counted in the summary of
what was checked (`FileCheck`, the JSON report's `manifests`).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ci_security import limits
from ci_security.manifests.compose import compose_from
from ci_security.manifests.dockerfile import DockerfileLimitError, expansion_budget, parse_dockerfile
from ci_security.manifests.kubernetes import K8sObject, objects_in
from ci_security.manifests.yamldoc import (
    YamlDocument,
    YamlSyntaxError,
    YamlTooComplexError,
    load_documents,
)
from ci_security.models import Misconfiguration, Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.fold import fold, implications
from ci_security.rules.kubernetes.kinds import classify, suggestion
from ci_security.rules.registry import COMPOSE_RULES, DOCKERFILE_RULES, KUBERNETES_RULES, all_metadata

NOT_ANALYSED = RuleMeta(
    id="MAN001",
    kind="any",
    title="File could not be analysed",
    severity=Severity.HIGH,
    rationale="A manifest that does not parse, is too large, is a YAML alias bomb or goes past another "
    "limit on untrusted input (a line, a variable expansion) was not checked, or not by every rule; "
    "other tools skip such files silently, so a broken file looks clean. It fails the default policy "
    "because what was not checked may hold anything: a privileged container in a file we could not "
    "read is still a privileged container. To accept it, add a policy ignore entry with the reason.",
    remediation="Fix the syntax error at the reported line, or split the file; render templates first "
    "(`helm template … > rendered.yaml`); for a file you trust, raise the limit the message names with "
    "`--limit` (e.g. `--limit manifest-bytes=…` for a larger bundle).",
)
NO_REASON = RuleMeta(
    id="MAN002",
    kind="any",
    title="Inline suppression without a reason",
    severity=Severity.LOW,
    rationale="An exception nobody explained cannot be reviewed; it suppresses nothing until it says why.",
    remediation="Write the reason after the ids: `# ci-security:ignore=DF001 runs as root to bind port 80`.",
)
UNKNOWN_KIND = RuleMeta(
    id="MAN003",
    kind="any",
    title="Unknown Kubernetes kind",
    severity=Severity.LOW,
    rationale="A document with `apiVersion` and `metadata` is meant as a Kubernetes object, but "
    "Kubernetes serves no such kind (a misspelt `kind`, a kind in the wrong `apiVersion`, a group "
    "without a dot that does not exist), so no rule checked what its author meant. LOW because the "
    "API server refuses to create it: nothing insecure runs from it as written. Custom resources "
    "(any group with a dot) are not reported; the summary counts them as not checked.",
    remediation="Correct `kind` and `apiVersion` to the resource you mean (for example `apps/v1` "
    "`Deployment`); the message suggests the closest one.",
)
META_RULES = (NOT_ANALYSED, NO_REASON, UNKNOWN_KIND)
IMPLIES = implications((meta.id, meta.implies) for meta in all_metadata())

_PRAGMA = re.compile(r"#\s*ci-security:ignore=([A-Za-z0-9_,.\-]+)[ \t]*(.*)", re.I)
_ANNOTATION = "ci-security.io/ignore-"
_YAML_SUFFIXES = (".yaml", ".yml")
# A top-level (or first list item's) key that only manifests have: worth a MAN001 when broken.
_MANIFEST_KEY = re.compile(r"^(?:-[ \t]+)?(?:apiVersion|kind)[ \t]*:|^services[ \t]*:", re.M)


@dataclass(frozen=True, slots=True)
class FileCheck:
    """What checking one file gave: its findings and what it was. `kind` is "dockerfile",
    "kubernetes" or "compose", "not_analysed" for a file that could not be read or parsed (MAN001),
    or None for a file that is none of these. `objects` counts the Kubernetes objects, compose
    services or Dockerfile stages checked; `custom` lists the (apiVersion, kind) of each custom
    resource, which no rule checks.
    """

    findings: list[Misconfiguration]
    kind: str | None
    objects: int = 0
    custom: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class _Pragma:
    ids: frozenset[str]
    reason: str
    line: int


def manifest_kind(path: str) -> str | None:
    """The kind of file `path` names: "dockerfile", "yaml", or None for anything else."""
    name = path.rsplit("/", 1)[-1]
    lowered = name.lower()
    if lowered in ("dockerfile", "containerfile") or lowered.endswith((".dockerfile", ".containerfile")):
        return "dockerfile"
    if lowered.startswith(("dockerfile.", "containerfile.")):
        return "dockerfile"
    if lowered.endswith(_YAML_SUFFIXES):
        return "yaml"
    return None


def _enabled(meta: RuleMeta, enable: frozenset[str]) -> bool:
    return meta.default_enabled or meta.id.upper() in enable


def _pragmas(lines: Sequence[str]) -> dict[int, list[_Pragma]]:
    """Pragmas that apply to each line: those in the comment block right above it."""
    found: dict[int, list[_Pragma]] = {}
    block: list[_Pragma] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if text.startswith("#"):
            match = _PRAGMA.match(text)
            if match:
                ids = frozenset(i.strip().upper() for i in match.group(1).split(",") if i.strip())
                block.append(_Pragma(ids, match.group(2).strip(), number))
            continue
        if block:
            found[number] = block
            block = []
    return found


def fingerprint(rule_id: str, path: str, resource: str, text: str, occurrence: int) -> str:
    """A finding's identity: its rule, file, resource and offending line's text (see the docstring)."""
    key = "|".join((rule_id, path, resource, " ".join(text.split()), str(occurrence)))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _finding(meta: RuleMeta, path: str, hit: Hit) -> Misconfiguration:
    return Misconfiguration(
        rule_id=meta.id,
        title=meta.title,
        severity=hit.severity or meta.severity,
        path=path,
        line=hit.line,
        message=hit.message,
        resource=hit.resource,
        remediation=meta.remediation,
        references=meta.references,
    )


@dataclass(frozen=True, slots=True)
class _Options:
    enable: frozenset[str] = frozenset()
    disabled: frozenset[str] = frozenset()
    fold: bool = True


class _FileResult:
    def __init__(self, path: str, text: str, options: _Options | None = None) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.pragmas = _pragmas(self.lines)
        self.findings: list[Misconfiguration] = []
        self.used: set[tuple[int, str]] = set()
        self.options = options or _Options()

    def add(self, meta: RuleMeta, hit: Hit, annotations: dict[str, object] | None = None) -> None:
        finding = _finding(meta, self.path, hit)
        for pragma in self.pragmas.get(hit.line, ()):
            if meta.id.upper() in pragma.ids:
                self.used.add((pragma.line, meta.id.upper()))
                if pragma.reason:
                    finding = replace(
                        finding, inline_reason=pragma.reason, inline_source=f"{self.path}:{pragma.line}"
                    )
                break
        if annotations and finding.inline_reason is None:
            reason = annotations.get(_ANNOTATION + meta.id) or annotations.get(_ANNOTATION + meta.id.lower())
            if isinstance(reason, str) and reason.strip():
                finding = replace(
                    finding, inline_reason=reason.strip(), inline_source=f"{self.path}:annotation"
                )
        self.findings.append(finding)

    def problem(self, line: int, message: str) -> None:
        self.findings.append(_finding(NOT_ANALYSED, self.path, Hit(line, message)))

    def finish(self) -> list[Misconfiguration]:
        if self.options.fold:
            self.findings = fold(self.findings, IMPLIES, self.options.disabled)
        for pragmas in self.pragmas.values():
            for pragma in pragmas:
                if not pragma.reason:
                    ids = ",".join(sorted(pragma.ids))
                    self.findings.append(
                        _finding(
                            NO_REASON,
                            self.path,
                            Hit(pragma.line, f"`ci-security:ignore={ids}` gives no reason"),
                        )
                    )
        occurrences: Counter[tuple[str, str, str]] = Counter()
        # Many findings can point at one long line (a million-character RUN, thousands of heredocs
        # opened on it): its text is collapsed once and hashed once per rule and resource, and each
        # finding only adds its occurrence number to a copy of that hash (the same fingerprint as
        # `fingerprint` computes).
        normal: dict[int, str] = {}
        hashes: dict[tuple[str, str, int], Any] = {}
        done = []
        for finding in sorted(self.findings, key=lambda f: (f.line or 0, f.rule_id, f.resource, f.message)):
            number = finding.line if finding.line and finding.line <= len(self.lines) else 0
            text = normal.get(number)
            if text is None:
                text = normal[number] = " ".join(self.lines[number - 1].split()) if number else ""
            key = (finding.rule_id, finding.resource, text)
            occurrences[key] += 1
            base = hashes.get((finding.rule_id, finding.resource, number))
            if base is None:
                prefix = "|".join((finding.rule_id, self.path, finding.resource, text)) + "|"
                base = hashes[(finding.rule_id, finding.resource, number)] = hashlib.sha256(prefix.encode())
            digest = base.copy()
            digest.update(str(occurrences[key]).encode())
            done.append(replace(finding, fingerprint=digest.hexdigest()[:32]))
        return done


def _annotation_problems(result: _FileResult, obj: K8sObject) -> None:
    for key, value in obj.annotations.items():
        if (
            isinstance(key, str)
            and key.startswith(_ANNOTATION)
            and not (isinstance(value, str) and value.strip())
        ):
            line = obj.line("metadata", "annotations", key)
            result.findings.append(
                _finding(NO_REASON, result.path, Hit(line, f"annotation {key} gives no reason"))
            )


def check_dockerfile(text: str, path: str, options: _Options) -> FileCheck:
    """Findings in a Dockerfile. Past a limit of the parser (`DockerfileLimitError`) the file is not
    analysed: one MAN001 at the line concerned. Past a limit while a rule runs, the findings of the
    rules that finished are kept and one MAN001 names the rules that could not finish; a rule that
    fails otherwise (a bug) gets a MAN001 of its own instead of ending the scan.
    """
    result = _FileResult(path, text, options)
    with expansion_budget():
        try:
            dockerfile = parse_dockerfile(text, path)
        except DockerfileLimitError as exc:
            result.problem(exc.line or 1, f"not analysed: {exc}")
            return FileCheck(result.finish(), "not_analysed")
        for issue in dockerfile.errors:
            result.problem(issue.line, f"Dockerfile: {issue.message}")
        unfinished: list[str] = []
        first: DockerfileLimitError | None = None
        for rule in DOCKERFILE_RULES:
            if _enabled(rule.meta, options.enable):
                hits: list[Hit] = []
                try:
                    hits.extend(rule.check(dockerfile))
                except DockerfileLimitError as exc:
                    unfinished.append(rule.meta.id)
                    first = first or exc
                    continue
                except Exception as exc:
                    # A rule's bug on a strange file is that rule's missing result, said where the
                    # findings are, not a traceback that ends the scan of every other file.
                    detail = f"{type(exc).__name__}: {str(exc)[:200]}"
                    result.problem(
                        1, f"not analysed by {rule.meta.id}: internal error in the rule ({detail})"
                    )
                    continue
                for hit in hits:
                    result.add(rule.meta, hit)
        if first is not None:
            result.problem(first.line or 1, f"not analysed by {', '.join(unfinished)}: {first}")
    return FileCheck(result.finish(), "dockerfile", objects=len(dockerfile.stages))


def _looks_like_object(data: object) -> bool:
    """A mapping with a string `apiVersion` and a `metadata` mapping: meant as a Kubernetes object."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("apiVersion"), str)
        and isinstance(data.get("metadata"), dict)
    )


def _unknown_kinds(result: _FileResult, documents: list[YamlDocument], objects: list[K8sObject]) -> None:
    """MAN003 for each object whose apiVersion/kind Kubernetes does not serve, and for each document
    meant as an object that has no kind at all.
    """
    for obj in objects:
        # Without `metadata` it is some tool's configuration that borrowed apiVersion/kind.
        if not isinstance(obj.data.get("metadata"), dict) or classify(obj.api_version, obj.kind) != "unknown":
            continue
        hint = suggestion(obj.api_version, obj.kind)
        message = f"{obj.api_version} has no kind {obj.kind} (the API server refuses this object)"
        hit = Hit(obj.line("kind"), message + (f"; {hint}" if hint else ""), obj.resource)
        result.add(UNKNOWN_KIND, hit, obj.annotations)
    for doc in documents:
        data = doc.data
        if _looks_like_object(data) and not isinstance(data.get("kind"), str):
            line = doc.positions.line(("kind",)) if "kind" in data else doc.positions.line(("apiVersion",))
            message = f"an object of {data['apiVersion']} without a kind (the API server refuses it)"
            result.add(UNKNOWN_KIND, Hit(line, message))


def check_yaml(text: str, path: str, options: _Options) -> FileCheck:
    """Findings in a YAML file and what it was (see `FileCheck`)."""
    result = _FileResult(path, text, options)
    try:
        documents = load_documents(text)
    except YamlSyntaxError as exc:
        if not _MANIFEST_KEY.search(text):
            return FileCheck([], None)
        result.problem(exc.line, f"invalid YAML: {exc.message}")
        return FileCheck(result.finish(), "not_analysed")
    except YamlTooComplexError as exc:
        result.problem(1, f"not analysed: {exc}")
        return FileCheck(result.finish(), "not_analysed")
    objects = objects_in(path, documents)
    if objects or any(_looks_like_object(doc.data) for doc in documents):
        _unknown_kinds(result, documents, objects)
        custom: list[tuple[str, str]] = []
        for obj in objects:
            _annotation_problems(result, obj)
            if classify(obj.api_version, obj.kind) == "custom":
                custom.append((obj.api_version, obj.kind))
            for rule in KUBERNETES_RULES:
                if _enabled(rule.meta, options.enable):
                    for hit in rule.check(obj):
                        result.add(rule.meta, hit, obj.annotations)
        return FileCheck(result.finish(), "kubernetes", objects=len(objects), custom=tuple(custom))
    compose = compose_from(path, documents)
    if compose is not None:
        for compose_rule in COMPOSE_RULES:
            if _enabled(compose_rule.meta, options.enable):
                for hit in compose_rule.check(compose):
                    result.add(compose_rule.meta, hit)
        return FileCheck(result.finish(), "compose", objects=len(compose.names()))
    return FileCheck([], None)


def _options(enable: Iterable[str], disabled: Iterable[str], fold: bool) -> _Options:
    return _Options(
        enable=frozenset(e.upper() for e in enable),
        disabled=frozenset(d.upper() for d in disabled),
        fold=fold,
    )


def check_manifest_text(
    text: str, path: str, enable: Iterable[str] = (), disabled: Iterable[str] = (), *, fold: bool = True
) -> FileCheck:
    """Check one manifest's text; `path` is repository-relative and decides the kind. `enable` turns
    on rules that are off by default, `disabled` names the rules the policy disables (they still run,
    and are suppressed by the policy, but fold nothing), `fold=False` keeps implied findings apart
    (the rule corpus tests each rule on its own).
    """
    options = _options(enable, disabled, fold)
    kind = manifest_kind(path)
    if kind == "dockerfile":
        return check_dockerfile(text, path, options)
    if kind == "yaml":
        return check_yaml(text, path, options)
    return FileCheck([], None)


def check_text(
    text: str, path: str, enable: Iterable[str] = (), *, fold: bool = True
) -> list[Misconfiguration]:
    """Every finding in one manifest; `path` is repository-relative and decides the kind."""
    return check_manifest_text(text, path, enable, fold=fold).findings


def check_manifest(
    path: Path, shown: str, enable: Iterable[str] = (), disabled: Iterable[str] = ()
) -> FileCheck:
    """Check the manifest at `path` (shown in reports as `shown`). A file that cannot be read, is not
    UTF-8 or is too large is a MAN001 finding, not an exception.
    """
    result = _FileResult(shown, "")
    try:
        size = path.stat().st_size
        if size > limits.active().manifest_bytes:
            too_large = limits.LimitExceededError(shown, "manifest_bytes", f"{size:,} bytes")
            result.problem(1, f"not analysed: {str(too_large).removeprefix(f'{shown}: ')}")
            return FileCheck(result.finish(), "not_analysed")
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        result.problem(1, f"cannot read: {exc.strerror or exc}")
        return FileCheck(result.finish(), "not_analysed")
    except UnicodeDecodeError as exc:
        result.problem(1, f"not analysed: not UTF-8 text (bad byte at offset {exc.start})")
        return FileCheck(result.finish(), "not_analysed")
    return check_manifest_text(text, shown, enable, disabled)


def check_file(path: Path, shown: str, enable: Iterable[str] = ()) -> list[Misconfiguration]:
    """Every finding in the manifest at `path` (see `check_manifest`)."""
    return check_manifest(path, shown, enable).findings
