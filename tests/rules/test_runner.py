"""The runner: kinds, inline suppressions and their reasons, annotations, fingerprints that survive
moved lines, and files that cannot be analysed reported as MAN001 instead of skipped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest

from ci_security import limits
from ci_security.manifests.compose import ComposeFile
from ci_security.manifests.dockerfile import Dockerfile, scope_at, substitute
from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules import runner
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.runner import check_file, check_text, manifest_kind


def _meta(rule_id: str, kind: str, enabled: bool = True) -> RuleMeta:
    return RuleMeta(
        id=rule_id,
        kind=kind,
        title=f"{rule_id} title",
        severity=Severity.HIGH,
        rationale="why",
        remediation="fix",
        default_enabled=enabled,
    )


class EveryUser:
    meta: ClassVar[RuleMeta] = _meta("DF900", "dockerfile")

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for inst in dockerfile.instructions:
            if inst.keyword == "USER":
                yield Hit(inst.start_line, f"USER {inst.args}", f"stage {inst.stage_index}")


class OffByDefault:
    meta: ClassVar[RuleMeta] = _meta("DF901", "dockerfile", enabled=False)

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        yield Hit(1, "always")


class Privileged:
    meta: ClassVar[RuleMeta] = _meta("K8S900", "kubernetes")

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            if obj.security_context(container).get("privileged") is True:
                path = obj.security_context_path(container, "privileged")
                yield Hit(obj.line(*path), "privileged", f"{obj.resource} {container.label}")


class HostNetwork:
    meta: ClassVar[RuleMeta] = _meta("COMPOSE900", "compose")

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for service in compose.services():
            if service.data.get("network_mode") == "host":
                yield Hit(compose.line(*service.path, "network_mode"), "host", f"service {service.name}")


@pytest.fixture(autouse=True)
def _rules(monkeypatch):
    monkeypatch.setattr(runner, "DOCKERFILE_RULES", (EveryUser(), OffByDefault()))
    monkeypatch.setattr(runner, "KUBERNETES_RULES", (Privileged(),))
    monkeypatch.setattr(runner, "COMPOSE_RULES", (HostNetwork(),))


def _by_rule(findings, rule_id):
    return [f for f in findings if f.rule_id == rule_id]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Dockerfile", "dockerfile"),
        ("Containerfile", "dockerfile"),
        ("api.Dockerfile", "dockerfile"),
        ("Dockerfile.prod", "dockerfile"),
        ("docker/dev.containerfile", "dockerfile"),
        ("k8s/deploy.yaml", "yaml"),
        ("compose.yml", "yaml"),
        ("README.md", None),
        ("dockerfile.md", "dockerfile"),
    ],
)
def test_manifest_kind(name, kind):
    assert manifest_kind(name) == kind


def test_pragma_with_a_reason_suppresses_and_records_where():
    pragma = "# ci-security:ignore=DF900 binds port 80, drops privileges itself"
    text = f"FROM debian:12\n{pragma}\nUSER root\nUSER app\n"
    found = _by_rule(check_text(text, "Dockerfile"), "DF900")
    assert [(f.line, f.inline_reason, f.inline_source) for f in found] == [
        (3, "binds port 80, drops privileges itself", "Dockerfile:2"),
        (4, None, ""),
    ]


def test_pragmas_stack_take_several_ids_and_ignore_case():
    text = (
        "FROM debian:12\n"
        "# ci-security:ignore=DF123 something else entirely\n"
        "# CI-SECURITY:IGNORE=df999,df900 accepted by the platform team\n"
        "USER root\n"
    )
    (finding,) = _by_rule(check_text(text, "Dockerfile"), "DF900")
    assert finding.inline_reason == "accepted by the platform team"


def test_a_pragma_must_be_directly_above():
    text = "FROM debian:12\n# ci-security:ignore=DF900 too far away\n\nUSER root\n"
    (finding,) = _by_rule(check_text(text, "Dockerfile"), "DF900")
    assert finding.inline_reason is None


def test_a_pragma_without_a_reason_suppresses_nothing_and_is_reported():
    text = "FROM debian:12\n# ci-security:ignore=DF900\nUSER root\n"
    findings = check_text(text, "Dockerfile")
    (finding,) = _by_rule(findings, "DF900")
    assert finding.inline_reason is None
    (no_reason,) = _by_rule(findings, "MAN002")
    assert no_reason.line == 2 and "DF900" in no_reason.message and no_reason.severity == Severity.LOW


def test_rules_off_by_default_run_only_when_enabled():
    text = "FROM debian:12\n"
    assert _by_rule(check_text(text, "Dockerfile"), "DF901") == []
    assert len(_by_rule(check_text(text, "Dockerfile", ["df901"]), "DF901")) == 1


POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: prod
  annotations:
    ci-security.io/ignore-K8S900: node agent needs the host devices (SEC-12)
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        privileged: true
"""


def test_kubernetes_annotation_suppresses_with_its_reason():
    (finding,) = _by_rule(check_text(POD, "k8s/pod.yaml"), "K8S900")
    assert finding.line == 13
    assert finding.resource == "Pod/prod/web container app"
    assert finding.inline_reason == "node agent needs the host devices (SEC-12)"
    assert finding.inline_source == "k8s/pod.yaml:annotation"


def test_kubernetes_annotation_without_reason_is_reported():
    text = POD.replace("node agent needs the host devices (SEC-12)", '""')
    findings = check_text(text, "pod.yaml")
    assert _by_rule(findings, "K8S900")[0].inline_reason is None
    (no_reason,) = _by_rule(findings, "MAN002")
    assert no_reason.line == 7


def test_yaml_pragma_above_the_key():
    text = POD.replace(
        "        privileged: true",
        "        # ci-security:ignore=K8S900 debug pod, never deployed\n        privileged: true",
    ).replace("    ci-security.io/ignore-K8S900: node agent needs the host devices (SEC-12)\n", "    a: b\n")
    (finding,) = _by_rule(check_text(text, "pod.yaml"), "K8S900")
    assert finding.inline_reason == "debug pod, never deployed"


def test_compose_files_are_recognised_by_content():
    text = "services:\n  web:\n    image: nginx:1.27\n    network_mode: host\n"
    (finding,) = _by_rule(check_text(text, "deploy/stack.yml"), "COMPOSE900")
    assert (finding.line, finding.resource) == (4, "service web")


def test_other_yaml_gives_nothing():
    assert check_text("name: ci\non: [push]\njobs: {}\n", ".github/workflows/ci.yml") == []


def test_fingerprints_survive_lines_inserted_above_and_tell_twins_apart():
    before = "FROM debian:12\nUSER root\nRUN true\nUSER root\n"
    after = "# syntax=docker/dockerfile:1\n\nFROM debian:12\nUSER root\nRUN true\nUSER root\n"
    one = _by_rule(check_text(before, "Dockerfile"), "DF900")
    two = _by_rule(check_text(after, "Dockerfile"), "DF900")
    assert [f.fingerprint for f in one] == [f.fingerprint for f in two]
    assert len({f.fingerprint for f in one}) == 2  # same text twice: two findings, two fingerprints
    assert [f.line for f in two] == [4, 6]


def test_fingerprints_depend_on_the_file():
    text = "FROM debian:12\nUSER root\n"
    a = _by_rule(check_text(text, "a/Dockerfile"), "DF900")[0]
    b = _by_rule(check_text(text, "b/Dockerfile"), "DF900")[0]
    assert a.fingerprint != b.fingerprint


def test_invalid_yaml_is_a_finding_at_its_line():
    (finding,) = check_text("apiVersion: v1\nkind: Pod\nspec: [1,\n  2\n", "pod.yaml")
    assert finding.rule_id == "MAN001" and finding.line >= 3 and "invalid YAML" in finding.message


def test_an_alias_bomb_is_reported_not_expanded():
    levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefg", "bcdefgh", strict=True):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "apiVersion: v1\nkind: ConfigMap\n" + "\n".join(levels) + "\n"
    (finding,) = check_text(text, "bomb.yaml")
    assert finding.rule_id == "MAN001" and "aliases" in finding.message


def test_dockerfile_parse_problems_are_findings():
    findings = check_text("FROM debian:12\nFROOM x\nUSER app\n", "Dockerfile")
    problems = _by_rule(findings, "MAN001")
    assert [f.line for f in problems] == [2]


def test_unreadable_large_and_binary_files_are_findings(tmp_path):
    binary = tmp_path / "Dockerfile"
    binary.write_bytes(b"FROM x\n\xff\xfe\n")
    (finding,) = check_file(binary, "Dockerfile")
    assert finding.rule_id == "MAN001" and "not UTF-8" in finding.message

    big = tmp_path / "big.yaml"
    big.write_text("apiVersion: v1\nkind: Pod\n")
    with limits.use(limits.with_overrides(limits.DEFAULTS, {"manifest-bytes": "10"})):
        (finding,) = check_file(big, "big.yaml")
    assert finding.message.startswith("not analysed: exceeds the manifest-bytes limit (10 bytes): 25 bytes")

    (finding,) = check_file(tmp_path / "missing.yaml", "missing.yaml")
    assert "cannot read" in finding.message


def test_a_file_that_could_not_be_analysed_is_high_and_says_so():
    result = runner.check_manifest_text("apiVersion: v1\nkind: Pod\nspec: [\n", "pod.yaml")
    (finding,) = result.findings
    assert finding.rule_id == "MAN001" and finding.severity is Severity.HIGH
    assert result.kind == "not_analysed"


def test_broken_yaml_that_is_no_manifest_is_not_this_tools_business():
    result = runner.check_manifest_text("matrix:\n  include: [\n    {python: 3.12\n", ".ci/matrix.yml")
    assert result.findings == [] and result.kind is None
    listed = runner.check_manifest_text("- apiVersion: v1\n  kind: [\n", "items.yaml")
    assert [f.rule_id for f in listed.findings] == ["MAN001"]


def test_what_a_file_was_and_how_many_objects_it_held():
    k8s = runner.check_manifest_text(
        "apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
        "  - {apiVersion: example.com/v1, kind: Widget, metadata: {name: b}}\n",
        "list.yaml",
    )
    assert (k8s.kind, k8s.objects, k8s.custom) == ("kubernetes", 2, (("example.com/v1", "Widget"),))
    compose = runner.check_manifest_text(
        'services:\n  a: {image: "a:1"}\n  b: {image: "b:1"}\n', "compose.yaml"
    )
    assert (compose.kind, compose.objects) == ("compose", 2)
    dockerfile = runner.check_manifest_text("FROM a:1 AS build\nFROM b:1\n", "Dockerfile")
    assert (dockerfile.kind, dockerfile.objects) == ("dockerfile", 2)


def test_a_document_meant_as_an_object_without_a_kind_is_reported_once():
    text = "apiVersion: apps/v1\nmetadata:\n  name: web\nspec:\n  replicas: 2\n"
    result = runner.check_manifest_text(text, "web.yaml")
    assert result.kind == "kubernetes"
    assert [(f.rule_id, f.line) for f in result.findings] == [("MAN003", 1)]


def test_an_unknown_kind_without_metadata_is_some_tools_configuration():
    text = "apiVersion: app/v1\nkind: Deployment\nspec: {}\n"
    assert [f.rule_id for f in check_text(text, "tool.yaml")] == []
    meant = "apiVersion: app/v1\nkind: Deployment\nmetadata: {name: web}\n"
    assert [(f.rule_id, f.line) for f in check_text(meant, "web.yaml")] == [("MAN003", 2)]


class ExpandsWorkdir:
    """Expands every WORKDIR as the real rules do (DF020, DF029)."""

    meta: ClassVar[RuleMeta] = _meta("DF902", "dockerfile")

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for inst in dockerfile.instructions:
            if inst.keyword == "WORKDIR":
                path = substitute(inst.args, scope_at(dockerfile, inst))
                yield Hit(inst.start_line, f"WORKDIR {path[:20]}", "stage 0")


def test_a_dockerfile_over_a_parser_limit_is_one_man001_at_its_line():
    text = "FROM a\nRUN " + "x" * 2000 + "\nUSER root\n"
    with limits.use(limits.with_overrides(limits.DEFAULTS, {"line-bytes": "1KiB"})):
        (finding,) = check_text(text, "Dockerfile")
    assert (finding.rule_id, finding.line) == ("MAN001", 2)
    assert finding.message.startswith("not analysed: line 2: exceeds the line-bytes limit (1 KiB)")


def test_a_rule_stopped_by_a_limit_is_named_and_the_others_findings_stay(monkeypatch):
    monkeypatch.setattr(runner, "DOCKERFILE_RULES", (EveryUser(), ExpandsWorkdir()))
    bomb = "".join(f"ARG {b}=" + f"${a}" * 16 + "\n" for a, b in zip("ABCDEFG", "BCDEFGH", strict=True))
    text = "FROM a\nARG A=" + "x" * 100 + "\n" + bomb + "WORKDIR $H\nUSER root\n"
    findings = check_text(text, "Dockerfile")
    assert [f.message for f in _by_rule(findings, "DF900")] == ["USER root"]
    (problem,) = _by_rule(findings, "MAN001")
    assert problem.line == 6  # ARG E: 100 x 16**4 bytes, where the expansion went past the limit
    assert problem.message.startswith("not analysed by DF902: line 6: exceeds the expansion-bytes limit")
    assert not _by_rule(findings, "DF902")


def test_fingerprints_of_many_findings_on_one_line_are_the_documented_ones():
    text = "FROM a\nUSER x\nUSER x\n"
    findings = check_text(text, "Dockerfile")
    lines = text.splitlines()
    seen: dict[tuple[str, str, str], int] = {}
    for finding in findings:
        key = (finding.rule_id, finding.resource, lines[finding.line - 1])
        seen[key] = seen.get(key, 0) + 1
        assert finding.fingerprint == runner.fingerprint(
            finding.rule_id, "Dockerfile", finding.resource, lines[finding.line - 1], seen[key]
        )
    # Thousands of findings on one long line: hashed once, not once per finding.
    opened = "FROM a\nRUN " + "<<A " * 50_000 + "x" * 500_000 + "\n"
    findings = check_text(opened, "Dockerfile")
    assert len(findings) == 50_000 and len({f.fingerprint for f in findings}) == 50_000


class Broken:
    meta: ClassVar[RuleMeta] = _meta("DF903", "dockerfile")

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        yield Hit(1, "first")
        raise ValueError("a bug")


def test_a_rule_that_raises_is_a_man001_not_a_traceback(monkeypatch):
    monkeypatch.setattr(runner, "DOCKERFILE_RULES", (Broken(), EveryUser()))
    findings = check_text("FROM a\nUSER root\n", "Dockerfile")
    (problem,) = _by_rule(findings, "MAN001")
    assert problem.message == "not analysed by DF903: internal error in the rule (ValueError: a bug)"
    assert not _by_rule(findings, "DF903") and [f.message for f in _by_rule(findings, "DF900")] == [
        "USER root"
    ]
