"""Hostile Dockerfiles in a repository, checked with `--manifests` as a pipeline would (a subprocess
bounded in time and memory by `testkit.hostile`), and a hostile image history matched against a
hostile Dockerfile when findings are anchored.

A Dockerfile is analysed, or past a limit it gets one MAN001 finding ("not analysed") naming the line
and the limit; the other files of the repository are checked as usual. Never a hang, a memory
blow-up, a traceback or a file left behind.
"""

from __future__ import annotations

import pytest
from testkit.apps import BASE_DEBS, import_app_db
from testkit.hostile import CaseDirs, Outcome, assert_survived, run_hostile
from testkit.images import DEBIAN_RELEASE, build_docker_archive, directory, dpkg_status, file
from testkit.report_schema import load_report

pytestmark = pytest.mark.timeout(300)

BOMB = (
    "ARG A="
    + "x" * 500
    + "\n"
    + "".join(f"ARG {b}=" + f"${a}" * 16 + "\n" for a, b in zip("ABCDEFG", "BCDEFGH", strict=True))
)


def _check(case: CaseDirs, dockerfile: str | bytes) -> tuple[Outcome, list[dict]]:
    """Scan a repository holding `dockerfile` and a sound Kubernetes manifest; the findings."""
    repo = case.input / "repo"
    repo.mkdir()
    data = dockerfile.encode() if isinstance(dockerfile, str) else dockerfile
    (repo / "Dockerfile").write_bytes(data)
    (repo / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n")
    report = case.out / "report.json"
    outcome = run_hostile(
        [
            "scan",
            "--manifests",
            str(repo),
            "--repo-root",
            str(repo),
            "-o",
            f"json={report}",
            "-o",
            "sarif=" + str(case.out / "r.sarif"),
        ],
        case,
    )
    assert_survived(outcome, codes=(0, 1))
    findings = load_report(report)["misconfigurations"]
    assert any(f["path"] == "pod.yaml" for f in findings)  # the rest of the repository was checked
    return outcome, [f for f in findings if f["path"] == "Dockerfile"]


def _refused(findings: list[dict]) -> list[dict]:
    return [f for f in findings if f["rule_id"] == "MAN001" and f["message"].startswith("not analysed")]


def _analysed(case: CaseDirs, dockerfile: str) -> list[dict]:
    _, findings = _check(case, dockerfile)
    assert not _refused(findings), _refused(findings)
    return findings


def _refusal(case: CaseDirs, dockerfile: str, line: int, limit: str) -> dict:
    _, findings = _check(case, dockerfile)
    (refusal,) = _refused(findings)
    assert refusal["line"] == line and f"exceeds the {limit} limit" in refusal["message"], refusal
    return refusal


def test_a_million_character_run(case):
    findings = _analysed(case, "FROM debian:12\nRUN " + "a" * 1_000_000 + "\n")
    assert {f["rule_id"] for f in findings} >= {"DF001"}


def test_a_million_character_run_of_blanks_after_an_apt_setting(case):
    _analysed(case, "FROM debian:12\nRUN echo APT::Install-Recommends" + " " * 1_000_000 + "x\n")


def test_a_syntax_directive_padded_with_blanks(case):
    # Blanks inside the value: the lazy value and the optional blanks of the old regex split them
    # every possible way.
    _analysed(case, "# syntax=docker/dockerfile:1" + " " * 1_000_000 + "x\nFROM debian:12\n")


def test_replacement_on_a_long_value(case):
    # In the stage, so that the rules expanding WORKDIR see X (a global ARG is not in a stage's scope).
    value = "a" * 500_000
    _analysed(
        case,
        f"ARG X={value}\nFROM ${{X//a/b}}:1\nARG X={value}\nWORKDIR /${{X//a/b}}\nWORKDIR ${{X/a*a/b}}\n",
    )


def test_an_arg_expansion_bomb(case):
    # 500 bytes would grow to 500 x 16**7 (134 GB); ARG D (500 x 16**3) is the first past 1 MiB.
    _refusal(case, BOMB + "FROM debian:12\nRUN echo $H\n", 4, "expansion-bytes")


def test_an_arg_expansion_bomb_inside_a_stage(case):
    _, findings = _check(case, "FROM debian:12\n" + BOMB + "WORKDIR $H\nUSER root\n")
    (refusal,) = _refused(findings)
    assert refusal["message"].startswith("not analysed by ") and "expansion-bytes" in refusal["message"]
    assert any(f["rule_id"] == "DF003" for f in findings)  # the rules that finished still report


def test_a_hundred_thousand_continuation_lines(case):
    _analysed(case, "FROM debian:12\nRUN a \\\n" + "b \\\n" * 99_990 + "c\n")
    _refusal(
        CaseDirs.make(case.root / "more"),
        "FROM debian:12\nRUN a \\\n" + "\\\n" * 100_001 + "c\n",
        2,
        "continuation-lines",
    )


def test_braces_nested_ten_thousand_deep(case):
    _refusal(case, "ARG X=1\nFROM " + "${X:-" * 10_000 + "}" * 10_000 + "\n", 2, "nesting-depth")


def test_twenty_thousand_chained_stages(case):
    chain = "".join(f"FROM s{i} AS s{i + 1}\nRUN apt-get install -y x\nWORKDIR w\n" for i in range(20_000))
    _analysed(case, "FROM debian:12 AS s0\n" + chain)


def test_command_substitutions_nested_past_the_stack(case):
    _analysed(case, "FROM debian:12\nRUN " + "$(" * 300_000 + "\nRUN eval " + "`a " * 100_000 + "\n")


def _anchoring(case: CaseDirs, dockerfile: str, history: list[str]) -> Outcome:
    """Scan an image with a vulnerable openssl whose layers claim `history`, anchored to `dockerfile`."""
    db = import_app_db(case.input / "osv.sqlite")
    image = case.input / "app.tar"
    base = [*DEBIAN_RELEASE, directory("var/lib/dpkg"), file("var/lib/dpkg/status", dpkg_status(*BASE_DEBS))]
    build_docker_archive(
        image, [base] + [[file(f"f{i}", "x")] for i in range(1, len(history))], created_by=history
    )
    repo = case.input / "repo"
    repo.mkdir()
    (repo / "Dockerfile").write_text(dockerfile)
    return run_hostile(
        [
            "scan",
            "-i",
            f"docker-archive:{image}",
            "--db",
            str(db),
            "--no-cache",
            "--repo-root",
            str(repo),
            "--dockerfile",
            str(repo / "Dockerfile"),
            "-o",
            f"json={case.out / 'report.json'}",
        ],
        case,
    )


def test_anchoring_a_crafted_history_to_a_crafted_dockerfile(case):
    # `$A/` 5000 times is 5000 `\S*` in a row for the regex this replaced; the history answers with
    # 100,000 `a/`, and a build-arg count of 5000 digits (int() refuses that many).
    dockerfile = "FROM debian:12\nARG A\nCOPY " + "$A/" * 5000 + " y\nRUN x\n"
    history = [
        "RUN |" + "9" * 5000 + " A=b /bin/sh -c x",
        "COPY " + "a/" * 100_000 + " y",
        "RUN /bin/sh -c x",
    ]
    outcome = _anchoring(case, dockerfile, history)
    assert_survived(outcome, codes=(0, 1))
    report = load_report(case.out / "report.json")
    lines = {v["location"]["line"] for v in report["vulnerabilities"] if v["package"]["name"] == "openssl"}
    assert lines == {1}  # the base layer: the FROM line


def test_anchoring_to_a_dockerfile_over_a_limit_leaves_findings_unanchored(case):
    outcome = _anchoring(case, BOMB + "FROM debian:12\n", ["debian.sh bookworm"])
    assert_survived(outcome, codes=(0, 1))
    warnings = [line for line in outcome.stderr_lines if line.startswith("ci-security: warning:")]
    assert any("Dockerfile" in line and "expansion-bytes" in line for line in warnings), outcome.stderr
    report = load_report(case.out / "report.json")
    assert report["vulnerabilities"] and all(v.get("location") is None for v in report["vulnerabilities"])
