"""The Checkov importer: a real Checkov 3.3.30 report on tests/fixtures/ingest/config (see
tests/fixtures/ingest/LICENSE-NOTE.md), line resolution in the manifests, hand-built edge cases, and
malformed input.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from ci_security.ingest.base import Importer, ReportImportError
from ci_security.ingest.checkov import CheckovImporter
from ci_security.ingest.registry import IMPORTERS
from ci_security.models import Misconfiguration, Severity

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ingest"
REPORT = FIXTURES / "checkov-3.3.30-config.json"
CORPUS = FIXTURES / "config"


def load(path: Path, base: Path | None = CORPUS):
    return CheckovImporter().load(path, base)


def by_key(base: Path | None = CORPUS) -> dict[tuple[str, str, str], Misconfiguration]:
    """The real report's findings by (check id, path, resource); each key is unique in it."""
    found = load(REPORT, base).misconfigurations
    keyed = {(m.rule_id, m.path, m.resource): m for m in found}
    assert len(keyed) == len(found)
    return keyed


def write(tmp_path: Path, doc: object, name: str = "checkov.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def check(**fields: object) -> dict:
    base: dict = {
        "check_id": "CKV_K8S_16",
        "check_name": "Container should not be privileged",
        "check_result": {"result": "FAILED", "evaluated_keys": []},
        "file_path": "/pod.yaml",
        "file_line_range": [1, 9],
        "resource": "Pod.default.web",
        "guideline": None,
        "severity": None,
    }
    base.update(fields)
    return base


def framework(*failed: dict, check_type: str = "kubernetes", skipped: tuple[dict, ...] = ()) -> dict:
    return {
        "check_type": check_type,
        "results": {
            "passed_checks": [],
            "failed_checks": list(failed),
            "skipped_checks": list(skipped),
            "parsing_errors": [],
        },
        "summary": {"passed": 0, "failed": len(failed), "checkov_version": "3.3.30"},
    }


def test_registered_as_a_manifest_importer():
    importer: Importer = CheckovImporter()
    assert importer.name == "checkov"
    assert isinstance(IMPORTERS["checkov"], CheckovImporter)
    assert IMPORTERS["checkov"].produces == ("misconfigurations",)


# --- the real report (`checkov -d . --framework dockerfile kubernetes --skip-download -o json --compact`)


def test_real_report_counts():
    imported = load(REPORT)
    assert (imported.tool, imported.tool_version) == ("checkov", "3.3.30")
    found = imported.misconfigurations
    # The summaries: kubernetes 41 failed + 1 skipped, dockerfile 10 failed + 1 skipped.
    assert len(found) == 53
    assert Counter(m.path for m in found) == {
        "k8s/backup-cronjob.yaml": 19,
        "k8s/web.yaml": 23,
        "api/Dockerfile": 8,
        "worker/Dockerfile": 3,
    }
    # Open-source Checkov has no severities.
    assert {m.severity for m in found} == {Severity.UNKNOWN}
    assert all(m.found_by == "checkov" and m.peer_id == m.rule_id and m.fingerprint == "" for m in found)
    assert "compose.yaml" not in {m.path for m in found}  # Checkov has no compose framework


def test_skipped_checks_are_suppressed_findings():
    suppressed = [m for m in load(REPORT).misconfigurations if m.inline_reason is not None]
    assert [(m.rule_id, m.path, m.line, m.inline_reason, m.inline_source) for m in suppressed] == [
        (
            "CKV_K8S_43",
            "k8s/web.yaml",
            15,
            "the release pipeline pins images by digest (kustomize images)",
            "checkov",
        ),
        ("CKV_DOCKER_2", "api/Dockerfile", 1, "liveness is checked by the Kubernetes probes", "checkov"),
    ]


def test_kubernetes_evaluated_keys_resolve_to_exact_lines():
    found = by_key()
    web = "Deployment/shop/web"
    cron = "CronJob/shop/db-backup"
    # (check, file, resource) → line; the text output only says `k8s/web.yaml:15-57`.
    expected = {
        ("CKV_K8S_16", "k8s/web.yaml", f"{web} container app"): 44,  # privileged: true
        ("CKV_K8S_20", "k8s/web.yaml", f"{web} container app"): 45,  # allowPrivilegeEscalation: true
        ("CKV_K8S_26", "k8s/web.yaml", f"{web} container app"): 39,  # ports[0].hostPort
        ("CKV_K8S_14", "k8s/web.yaml", f"{web} container app"): 36,  # image ...:latest
        ("CKV_K8S_15", "k8s/web.yaml", f"{web} container log-shipper"): 50,  # image (no imagePullPolicy)
        ("CKV_K8S_30", "k8s/web.yaml", f"{web} container log-shipper"): 49,  # no securityContext
        ("CKV_K8S_22", "k8s/web.yaml", f"{web} container app"): 43,  # securityContext, key missing
        ("CKV_K8S_8", "k8s/web.yaml", f"{web} container app"): 35,  # no livenessProbe: the container
        ("CKV_K8S_14", "k8s/backup-cronjob.yaml", f"{cron} init container wait-for-db"): 18,  # busybox
        ("CKV_K8S_39", "k8s/backup-cronjob.yaml", f"{cron} container backup"): 26,  # add: [SYS_ADMIN]
        ("CKV_K8S_12", "k8s/backup-cronjob.yaml", f"{cron} container backup"): 21,  # no resources
        ("CKV_K8S_43", "k8s/backup-cronjob.yaml", f"{cron} container backup"): 22,  # image not by digest
    }
    assert {key: found[key].line for key in expected} == expected


def test_kubernetes_checks_without_keys_use_the_key_they_are_about():
    found = by_key()
    web = "Deployment/shop/web"
    cron = "CronJob/shop/db-backup"
    expected = {
        ("CKV_K8S_19", "k8s/backup-cronjob.yaml", cron): 12,  # hostNetwork: true
        ("CKV_K8S_40", "k8s/backup-cronjob.yaml", cron): 15,  # runAsUser: 0
        ("CKV_K8S_23", "k8s/backup-cronjob.yaml", cron): 14,  # pod securityContext, runAsNonRoot missing
        ("CKV_K8S_38", "k8s/backup-cronjob.yaml", cron): 11,  # the pod spec
        ("CKV_K8S_27", "k8s/web.yaml", web): 54,  # volumes (the docker.sock hostPath)
        ("CKV_K8S_29", "k8s/web.yaml", web): 33,  # no pod securityContext: the pod spec
        ("CKV2_K8S_6", "k8s/web.yaml", "Pod/shop/web.app-web"): 15,  # graph check: the object
    }
    assert {key: found[key].line for key in expected} == expected


def test_without_the_manifests_lines_are_the_reported_ones(tmp_path):
    found = by_key(tmp_path)
    assert found["CKV_K8S_16", "k8s/web.yaml", "Deployment/shop/web"].line == 15
    assert found["CKV_K8S_19", "k8s/backup-cronjob.yaml", "CronJob/shop/db-backup"].line == 1
    # Checkov's own Dockerfile lines, too small after the heredoc in worker/Dockerfile.
    assert found["CKV_DOCKER_7", "worker/Dockerfile", ""].line == 6
    assert found["CKV2_DOCKER_3", "worker/Dockerfile", ""].line == 7
    assert found["CKV_DOCKER_7", "api/Dockerfile", ""].line == 2


def test_dockerfile_lines_and_messages():
    found = by_key()
    expected = {
        ("CKV_DOCKER_7", "api/Dockerfile"): 2,
        ("CKV_DOCKER_6", "api/Dockerfile"): 3,
        ("CKV2_DOCKER_16", "api/Dockerfile"): 7,
        ("CKV_DOCKER_10", "api/Dockerfile"): 8,
        ("CKV_DOCKER_4", "api/Dockerfile"): 13,
        ("CKV_DOCKER_1", "api/Dockerfile"): 16,
        ("CKV_DOCKER_8", "api/Dockerfile"): 17,
        ("CKV_DOCKER_2", "worker/Dockerfile"): 1,  # whole-file check: the range start
        # After the heredoc (lines 5-9, which Checkov counts as one) the lines are re-anchored.
        ("CKV_DOCKER_7", "worker/Dockerfile"): 10,
        ("CKV2_DOCKER_3", "worker/Dockerfile"): 11,
    }
    assert {key: found[(*key, "")].line for key in expected} == expected
    latest = found["CKV_DOCKER_7", "worker/Dockerfile", ""]
    assert latest == Misconfiguration(
        rule_id="CKV_DOCKER_7",
        title="Ensure the base image uses a non latest version tag",
        severity=Severity.UNKNOWN,
        path="worker/Dockerfile",
        line=10,
        message="Ensure the base image uses a non latest version tag: FROM alpine",
        found_by="checkov",
        peer_id="CKV_DOCKER_7",
    )
    wget = found["CKV2_DOCKER_3", "worker/Dockerfile", ""]
    assert wget.message == "Ensure that certificate validation isn't disabled with wget"


# --- edge cases on hand-built reports


def test_single_framework_object_and_empty_summary(tmp_path):
    imported = load(write(tmp_path, framework(check())))
    assert [m.rule_id for m in imported.misconfigurations] == ["CKV_K8S_16"]
    empty = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resource_count": 0}
    imported = load(write(tmp_path, {**empty, "checkov_version": "3.3.30"}))
    assert (imported.tool_version, imported.misconfigurations) == ("3.3.30", ())


def test_severity_guideline_and_reasonless_skip(tmp_path):
    skipped = check(check_result={"result": "SKIPPED", "suppress_comment": ""})
    doc = framework(
        check(severity="HIGH", guideline="https://docs.prismacloud.io/x"),
        check(severity="odd"),
        skipped=(skipped,),
    )
    high, odd, skip = load(write(tmp_path, doc)).misconfigurations
    assert (high.severity, high.references) == (Severity.HIGH, ("https://docs.prismacloud.io/x",))
    assert odd.severity is Severity.UNKNOWN
    assert (skip.inline_reason, skip.inline_source) == ("skipped by Checkov", "checkov")


def test_path_choice(tmp_path):
    repo = tmp_path / "repo"
    doc = framework(
        # -d k8s from the repository root, report read where it was made: the absolute path wins.
        check(
            file_path="/web.yaml", file_abs_path=str(repo / "k8s/web.yaml"), repo_file_path="/k8s/web.yaml"
        ),
        # made on another machine: relative to the directory Checkov ran in.
        check(file_path="/web.yaml", file_abs_path="/ci/build/k8s/web.yaml", repo_file_path="/k8s/web.yaml"),
        # Checkov ran outside the directory: repo_file_path is the absolute path again.
        check(file_path="/web.yaml", file_abs_path="/ci/k8s/web.yaml", repo_file_path="/ci/k8s/web.yaml"),
        # -f with a relative path, older reports without the other fields.
        check(file_path="k8s/web.yaml"),
        check(file_path="/k8s/web.yaml"),
        # -f with an absolute path outside the repository: kept.
        check(file_path="/ci/web.yaml", file_abs_path="/ci/web.yaml", repo_file_path="/ci/web.yaml"),
    )
    paths = [m.path for m in load(write(tmp_path, doc), repo).misconfigurations]
    assert paths == [
        "k8s/web.yaml",
        "k8s/web.yaml",
        "web.yaml",
        "k8s/web.yaml",
        "k8s/web.yaml",
        "/ci/web.yaml",
    ]


MULTI = """\
# rendered by kustomize
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: api
---
apiVersion: v1
kind: Pod
metadata:
  name: api
spec:
  hostPID: true
  containers:
    - name: api
      image: nginx:1.27
      securityContext:
        capabilities:
          add: ["NET_ADMIN"]
"""


def test_range_starting_at_the_separator_finds_the_next_document(tmp_path):
    (tmp_path / "multi.yaml").write_text(MULTI, encoding="utf-8")
    keys = ["spec/containers/[0]/securityContext/capabilities/add"]
    doc = framework(
        check(
            check_id="CKV_K8S_25",
            file_path="/multi.yaml",
            file_line_range=[7, 19],
            resource="Pod.default.api",
            check_result={"result": "FAILED", "evaluated_keys": keys},
        ),
        check(
            check_id="CKV_K8S_17",
            file_path="/multi.yaml",
            file_line_range=[7, 19],
            resource="Pod.default.api",
        ),
        check(
            check_id="CKV_K8S_21",
            file_path="/multi.yaml",
            file_line_range=[2, 6],
            resource="ServiceAccount.default.api",
        ),
    )
    added, host_pid, namespace = load(write(tmp_path, doc), tmp_path).misconfigurations
    assert (added.line, added.resource) == (19, "Pod/default/api container api")
    assert (host_pid.line, host_pid.resource) == (13, "Pod/default/api")
    assert (namespace.line, namespace.resource) == (5, "ServiceAccount/default/api")  # metadata


LIST = """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata:
      name: a
    spec:
      containers:
        - name: a
          image: nginx:1.27
  - apiVersion: v1
    kind: Pod
    metadata:
      name: b
    spec:
      containers:
        - name: b
          image: nginx:1.27
          securityContext:
            privileged: true
"""


def test_list_items_are_found_by_kind_and_name(tmp_path):
    (tmp_path / "list.yaml").write_text(LIST, encoding="utf-8")
    keys = ["spec/containers/[0]/securityContext/privileged"]
    doc = framework(
        check(
            file_path="/list.yaml",
            file_line_range=[1, 21],
            resource="Pod.default.b",
            check_result={"result": "FAILED", "evaluated_keys": keys},
        )
    )
    (found,) = load(write(tmp_path, doc), tmp_path).misconfigurations
    assert (found.line, found.resource) == (21, "Pod/default/b container b")


def test_unusable_manifests_and_keys_fall_back(tmp_path):
    (tmp_path / "broken.yaml").write_text("kind: Pod\nspec: [unclosed\n", encoding="utf-8")
    (tmp_path / "pod.yaml").write_text(LIST, encoding="utf-8")
    doc = framework(
        check(file_path="/broken.yaml", file_line_range=[1, 2]),
        check(file_path="/pod.yaml", file_line_range=[40, 50]),  # no document starts there
        check(
            file_path="/pod.yaml",
            file_line_range=[1, 21],
            resource="Pod.default.zzz",  # not among the List's items: the List itself
            check_result={"result": "FAILED", "evaluated_keys": ["spec/containers/[*]/image"]},
        ),
        check(file_path="/pod.yaml", file_line_range=None),
    )
    lines = [m.line for m in load(write(tmp_path, doc), tmp_path).misconfigurations]
    assert lines == [1, 40, 1, None]


def test_other_frameworks_keep_the_range_start_and_resource(tmp_path):
    doc = framework(
        check(
            check_id="CKV_GHA_7",
            file_path="/.github/workflows/ci.yml",
            file_line_range=[12, 30],
            resource="jobs(build)",
        ),
        check_type="github_actions",
    )
    (found,) = load(write(tmp_path, doc), tmp_path).misconfigurations
    assert (found.path, found.line, found.resource) == (".github/workflows/ci.yml", 12, "jobs(build)")


def test_dockerfile_without_results_configuration_text(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.20\nrun apk add curl\n", encoding="utf-8")
    doc = framework(
        check(
            check_id="CKV2_DOCKER_1",
            file_path="/Dockerfile",
            file_line_range=[1, 1],
            resource="/Dockerfile.RUN",
        ),
        check(
            check_id="CKV_DOCKER_3", file_path="/Dockerfile", file_line_range=[1, 2], resource="/Dockerfile."
        ),
        check_type="dockerfile",
    )
    run, user = load(write(tmp_path, doc), tmp_path).misconfigurations
    assert (run.line, run.resource, run.message) == (2, "", "Container should not be privileged")
    assert user.line == 1


# --- malformed input


def error(path: Path) -> str:
    with pytest.raises(ReportImportError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message[len(f"{path}: ") :]


ADVICE = "; only `checkov -o json` output can be imported"


def test_missing_file_and_invalid_json(tmp_path):
    assert error(tmp_path / "nope.json") == "cannot read the report: No such file or directory"
    broken = tmp_path / "broken.json"
    broken.write_text('{"check_type": ', encoding="utf-8")
    assert error(broken).startswith("invalid JSON at line 1 column ")


@pytest.mark.parametrize(
    ("doc", "hint"),
    [
        (
            [{"code": "DL3007", "file": "Dockerfile", "level": "info", "line": 1}],
            " (it looks like a Hadolint report)",
        ),
        (
            {
                "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
                "runs": [{"tool": {"driver": {"name": "Checkov"}}}],
            },
            " (it looks like a SARIF log from Checkov)",
        ),
        ({"SchemaVersion": 2, "Results": []}, " (it looks like a Trivy report)"),
        ([], ""),
        ({"results": {}}, ""),
    ],
)
def test_other_documents_are_not_checkov_reports(tmp_path, doc, hint):
    assert error(write(tmp_path, doc)) == f"not a Checkov JSON report{hint}{ADVICE}"


def test_real_hadolint_report_is_named():
    reason = error(FIXTURES / "hadolint-2.15.1-config.json")
    assert reason == f"not a Checkov JSON report (it looks like a Hadolint report){ADVICE}"


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ([framework(), "x"], "[1]: expected an object, found a string"),
        ({"check_type": "kubernetes", "results": []}, "results: expected an object, found an array"),
        (
            {"check_type": "kubernetes", "results": {"failed_checks": {}}},
            "results.failed_checks: expected an array, found an object",
        ),
        ([framework(check(check_id=""))], "[0].results.failed_checks[0].check_id: missing or empty"),
        (
            framework(check(file_line_range=["1", 2])),
            "results.failed_checks[0].file_line_range[0]: expected a number, found a string",
        ),
        (
            framework(check(file_line_range=5)),
            "results.failed_checks[0].file_line_range: expected an array, found a number",
        ),
        (framework(check(file_path=None)), "results.failed_checks[0].file_path: missing or empty"),
        (
            framework(check(check_result={"evaluated_keys": [1]})),
            "results.failed_checks[0].check_result.evaluated_keys[0]: expected a string, found a number",
        ),
        (
            framework(skipped=(check(check_result={"suppress_comment": 3}),)),
            "results.skipped_checks[0].check_result.suppress_comment: expected a string, found a number",
        ),
        (
            framework(
                check(
                    resource="/Dockerfile.FROM", check_result={"results_configuration": [{"startline": "1"}]}
                ),
                check_type="dockerfile",
            ),
            "results.failed_checks[0].check_result.results_configuration[0].startline: "
            "expected a number, found a string",
        ),
        (
            {**framework(), "summary": {"checkov_version": 3}},
            "summary.checkov_version: expected a string, found a number",
        ),
    ],
)
def test_wrong_field_types_name_the_field(tmp_path, doc, where):
    assert error(write(tmp_path, doc)) == f"not a valid Checkov report: {where}"


HEREDOC = """\
FROM golang:1.22 AS build
RUN <<EOF
go build -o /out/app .
EOF
FROM alpine:3.20
RUN apk add curl
RUN apk add  jq
"""


def test_dockerfile_lines_are_re_anchored_by_instruction_and_text(tmp_path):
    (tmp_path / "Dockerfile").write_text(HEREDOC, encoding="utf-8")

    def run_check(content: str, startline: int) -> dict:
        configuration = {
            "instruction": "RUN",
            "startline": startline,
            "endline": startline,
            "content": content,
        }
        return check(
            check_id="CKV_X",
            file_path="/Dockerfile",
            file_line_range=[startline + 1, startline + 1],
            resource="/Dockerfile.RUN",
            check_result={"result": "FAILED", "results_configuration": [configuration]},
        )

    doc = framework(
        run_check("RUN apk add jq\n", 4),  # Checkov's line 5 is the real line 7 (the heredoc counts as one)
        run_check("RUN apk add curl\n", 3),
        run_check("RUN apk upgrade\n", 3),  # text not found: the next RUN at or after the reported line
        run_check("RUN apk add curl\n", 99),  # past the end: the reported line
        check_type="dockerfile",
    )
    lines = [m.line for m in load(write(tmp_path, doc), tmp_path).misconfigurations]
    assert lines == [7, 6, 6, 100]
