"""Hostile text reaching every output sink, end to end: images built here whose os-release, image
config and package names carry rich markup (`[bold red]`, `[/]`), terminal escapes, a newline with
a workflow command, `@everyone` and HTML that would close `<details>`; an advisory whose title and
references carry the same; a policy and a manifest from a pull request. Each case runs ci-security
as a subprocess through the harness (`testkit.hostile`) and reads each output the way its consumer
does: the job log through a model of GitHub's command parser, Markdown through a renderer, SARIF and
the GitLab reports through their schemas, every file as strict UTF-8. Nothing may crash, no workflow
command may appear that ci-security did not write, every report must be valid and inert.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path

from click.testing import CliRunner
from testkit.codequality import check_code_quality
from testkit.github_standin import GitHubStandIn, PullFile
from testkit.gitlab_report import check_container_scanning_15
from testkit.gitlab_standin import GitLabStandIn, file_diff, merge_request_setup
from testkit.hostile import CaseDirs, Outcome, assert_clean_error, assert_survived, run_hostile
from testkit.images import file, layer_tar, make_config, sha256
from testkit.markdown import render as render_markdown
from testkit.report_schema import valid_report
from testkit.sarif import validate as validate_sarif
from testkit.workflow import acted_on, runner_commands

from ci_security.cli import main

MARKUP = (
    "[bold red]x[/] \x1b[31mred\x1b[0m\x1b]0;retitled\x07 @everyone </details><img src=x> ##[error]legacy"
)
EVIL = f"evil\n::error::pwned {MARKUP}"  # the npm package's name
ADVISORY = "GHSA-c2c2-f3f3-g4g4"
GITHUB_TOKEN = "ghs_hostile_sinks_token"
GITLAB_TOKEN = "glpat-hostile-sinks-token"


# -- the inputs, built at test time -----------------------------------------------------------------


def _docker_archive(
    path: Path, layers: list[bytes], *, arch: str = "amd64", tag: str = "acme/app:1.0"
) -> Path:
    """A `docker save` archive of `layers` whose config says `arch` (and builds the Dockerfile's COPY)."""
    diff_ids = [sha256(layer) for layer in layers]
    config = json.loads(make_config(diff_ids, ["COPY app /app # buildkit"] * len(layers), arch=arch))
    config_bytes = json.dumps(config).encode()
    config_name = sha256(config_bytes).split(":")[1] + ".json"
    members = [(f"{d.split(':')[1]}.tar", layer) for d, layer in zip(diff_ids, layers, strict=True)]
    manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": [name for name, _ in members]}]
    members += [(config_name, config_bytes), ("manifest.json", json.dumps(manifest).encode())]
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def hostile_image(case: CaseDirs, *, arch: str = "amd64", name: str = EVIL, extra: tuple = ()) -> str:
    release = (
        f'PRETTY_NAME="{MARKUP}"\nNAME="x"\nVERSION_ID="[bold red]1[/] ##[error]v \x1b[2J"\nID=[/]\n'
    ).encode()
    package = json.dumps({"name": name, "version": "1.0.0"}).encode()
    layer = layer_tar(
        [
            file("usr/lib/os-release", release),
            file("app/node_modules/evil/package.json", package),
            *extra,
        ]
    )
    return "docker-archive:" + str(_docker_archive(case.input / "image.tar", [layer], arch=arch))


def hostile_db(case: CaseDirs, *, name: str = EVIL) -> Path:
    """An OSV database whose one npm advisory matches `name`, with markup in its text and links."""
    record = {
        "schema_version": "1.6.0",
        "id": ADVISORY,
        "modified": "2024-01-01T00:00:00Z",
        "summary": f"summary {MARKUP}",
        "details": f"details\n/close\n- item\n{MARKUP}",
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": name},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}],
            }
        ],
        "references": [
            {"type": "WEB", "url": "javascript:alert(1)"},
            {"type": "ADVISORY", "url": f"https://example.org/{ADVISORY} <img src=x>"},
        ],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
    }
    source = case.input / "osv"
    source.mkdir(exist_ok=True)
    (source / f"{ADVISORY}.json").write_text(json.dumps(record))
    db = case.cache / "osv.sqlite"
    result = CliRunner().invoke(main, ["db", "import", "--db", str(db), str(source)])
    assert result.exit_code == 0, result.output
    return db


POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: "web </details><img src=x> @everyone"
spec:
  containers:
    - name: "app\\n::error::pwned-by-manifest [/] \\u001b[31m"
      image: acme/app:1.0
      securityContext:
        privileged: true
"""
DOCKERFILE = "FROM scratch\nCOPY app /app\n"


def repository(case: CaseDirs) -> Path:
    repo = case.input / "repo"
    (repo / "k8s").mkdir(parents=True, exist_ok=True)
    (repo / "Dockerfile").write_text(DOCKERFILE)
    (repo / "k8s" / "pod.yaml").write_text(POD)
    return repo


# -- what inert means -------------------------------------------------------------------------------


def assert_inert_log(outcome: Outcome, *, ours: bool = False) -> None:
    """No escape sequence, and no workflow command the step did not write itself: with `ours`, only
    masks, the stop-commands fence, and annotations and notices that carry our title.
    """
    for stream in (outcome.stdout, outcome.stderr):
        assert "\x1b" not in stream, stream[-2000:]
        commands = acted_on(stream)
        if not ours:
            assert commands == [], commands
            continue
        for name, props, data in commands:
            assert name in ("add-mask", "stop-commands", "error", "warning", "notice"), (name, data)
            if name in ("error", "warning", "notice"):
                assert props.get("title"), (name, props, data)  # ours always have a title
                assert not data.startswith("pwned"), data
    assert "\n::error::pwned" not in outcome.stdout + outcome.stderr


def assert_inert_markdown(markdown: str) -> None:
    parsed = render_markdown(markdown)
    assert not {"img", "script", "iframe"} & set(parsed.tags), parsed.tags
    # https only, but for the job link to the stand-in the test runs against
    assert all(link.startswith(("https://", "http://127.0.0.1:")) for link in parsed.links), parsed.links
    text = "".join(parsed.text)
    assert not re.search(r"(?:^|\W)@everyone", text), "a mention survived"
    assert "\x1b" not in markdown
    # the raw text keeps its <details> blocks balanced: nothing from the input closed one
    assert markdown.count("<details") == markdown.count("</details>")


def strict_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "strict")


def scan(case: CaseDirs, *args: str, db: Path | None = None, image: str | None = None) -> Outcome:
    argv = ["scan", "--image", image or hostile_image(case), "--db", str(db or hostile_db(case)), *args]
    return run_hostile(argv, case)


# -- the cases --------------------------------------------------------------------------------------


def test_table_on_stdout_prints_the_markup_as_text(case):
    outcome = scan(case, "-o", "table")
    assert_survived(outcome)
    assert_inert_log(outcome)
    assert "[/]" in outcome.stdout  # the OS line, as text: rich crashed on it before
    assert "evil\\n::error::pwned [bold" in outcome.stdout  # one cell, wrapped, the newline shown
    assert ADVISORY in outcome.stdout


def test_markdown_report_is_inert(case):
    outcome = scan(case, "-o", f"markdown={case.out / 'r.md'}")
    assert_survived(outcome)
    assert_inert_log(outcome)
    markdown = strict_text(case.out / "r.md")
    assert_inert_markdown(markdown)
    assert f"[{ADVISORY}](https://github.com/advisories/{ADVISORY})" in markdown


def test_sarif_report_is_valid_and_inert(case):
    outcome = scan(case, "-o", f"sarif={case.out / 'r.sarif'}")
    assert_survived(outcome)
    text = strict_text(case.out / "r.sarif")
    doc = validate_sarif(text)
    assert runner_commands(text) == [] and "\x1b" not in text
    (run,) = [r for r in doc["runs"] if r["results"]]
    (rule,) = run["tool"]["driver"]["rules"]
    assert_inert_markdown(rule["help"]["markdown"])
    assert rule.get("helpUri", "https://").startswith("https://")
    (result,) = run["results"]
    assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(\d+\)", result["message"]["text"])


def test_json_report_keeps_the_data_exactly(case):
    outcome = scan(case, "-o", f"json={case.out / 'r.json'}")
    assert_survived(outcome)
    text = strict_text(case.out / "r.json")
    assert runner_commands(text) == []
    report = valid_report(json.loads(text))
    assert {p["name"] for p in report["packages"]} == {EVIL}  # the value survives, escaped
    assert report["target"]["os"]["family"] == "[/]"
    assert report["vulnerabilities"][0]["title"] == f"summary {MARKUP}"


def test_gitlab_reports_are_valid_and_inert(case):
    outcome = scan(
        case,
        "-o",
        f"gitlab={case.out / 'cs.json'}",
        "-o",
        f"codequality={case.out / 'cq.json'}",
        "-o",
        f"cyclonedx={case.out / 'sbom.json'}",
    )
    assert_survived(outcome)
    container = json.loads(strict_text(case.out / "cs.json"))
    assert check_container_scanning_15(container) == []
    (finding,) = container["vulnerabilities"]
    assert_inert_markdown(finding["description"])
    assert not re.search(r"(?m)^\s*/[a-z]", finding["description"])  # no quick action
    assert check_code_quality(json.loads(strict_text(case.out / "cq.json"))) == []
    sbom = json.loads(strict_text(case.out / "sbom.json"))
    assert EVIL in {c["name"] for c in sbom["components"]}


def _github_env(case: CaseDirs, server: GitHubStandIn, repo: Path) -> dict[str, str]:
    pull = server.pulls[7]
    event = case.input / "event.json"
    event.write_text(
        json.dumps(
            {
                "number": 7,
                "pull_request": {
                    "number": 7,
                    "head": {"sha": pull.head_sha, "repo": {"full_name": server.repository, "fork": False}},
                    "base": {"sha": pull.base_sha, "repo": {"full_name": server.repository}},
                },
            }
        )
    )
    for name in ("output", "summary.md"):
        (case.out / name).write_text("")
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": server.url,
        "GITHUB_SERVER_URL": "https://github.example.com",
        "GITHUB_REPOSITORY": server.repository,
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": "f" * 40,
        "GITHUB_REF": "refs/pull/7/merge",
        "GITHUB_RUN_ID": "99",
        "GITHUB_WORKSPACE": str(repo),
        "GITHUB_OUTPUT": str(case.out / "output"),
        "GITHUB_STEP_SUMMARY": str(case.out / "summary.md"),
        "GITHUB_TOKEN": server.token,
    }


def test_ci_step_on_github_writes_no_command_and_no_live_markup(case):
    repo = repository(case)
    image, db = hostile_image(case), hostile_db(case)
    patch = "@@ -0,0 +1,2 @@\n+FROM scratch\n+COPY app /app"
    pod_patch = "@@ -0,0 +1,11 @@\n" + "".join(f"+{line}\n" for line in POD.splitlines())
    with GitHubStandIn() as server:
        server.add_pull(
            7, files=[PullFile("Dockerfile", patch, status="added"), PullFile("k8s/pod.yaml", pod_patch)]
        )
        args = ["ci", "--image", image, "--db", str(db), "--no-db-update", "--manifests", str(repo)]
        outcome = run_hostile(
            [*args, "--report-dir", str(case.out), "--upload-sarif"],
            case,
            env=_github_env(case, server, repo),
        )
        assert_survived(outcome)
        assert_inert_log(outcome, ours=True)
        annotations = [c for c in acted_on(outcome.stdout) if c[0] in ("error", "warning")]
        assert any("pwned" in data for _, _, data in annotations)  # the text is there, as data
        assert_inert_markdown(strict_text(case.out / "summary.md"))
        outputs = strict_text(case.out / "output")
        assert not re.search(
            r"(?m)^(?!result|violations|suppressed|vulnerabilities|misconfigurations|summary|"
            r"critical|high|medium|low|unknown|json-file|markdown-file|sarif-file|comment-url|"
            r"ci_security_eof)",
            outputs.strip(),
        )
        (comment,) = server.issue_comments(7)
        assert_inert_markdown(comment["body"])
        inline = server.review_comments(7)
        assert inline, "the manifest findings on changed lines got inline comments"
        for item in inline:
            assert_inert_markdown(item["body"])
        (upload,) = server.sarif_uploads
        validate_sarif(json.dumps(upload["document"]))


def test_ci_step_on_gitlab_writes_no_quick_action(case):
    repo = repository(case)
    image, db = hostile_image(case), hostile_db(case)
    pod_diff = "@@ -0,0 +1,11 @@\n" + "".join(f"+{line}\n" for line in POD.splitlines())
    with GitLabStandIn() as server:
        merge_request_setup(
            server, token=GITLAB_TOKEN, diffs=[file_diff("k8s/pod.yaml", pod_diff, new_file=True)]
        )
        mr = server.merge_requests[(5, 7)]
        env = {
            "GITLAB_CI": "true",
            "CI_API_V4_URL": server.api_url,
            "CI_SERVER_URL": server.url,
            "CI_PROJECT_ID": "5",
            "CI_PROJECT_PATH": "acme/shop",
            "CI_PROJECT_DIR": str(repo),
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_MERGE_REQUEST_IID": "7",
            "CI_MERGE_REQUEST_PROJECT_ID": "5",
            "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "5",
            "CI_COMMIT_SHA": mr.diff_refs["head_sha"],
            "CI_JOB_URL": f"{server.url}/acme/shop/-/jobs/1",
            "CI_SECURITY_GITLAB_TOKEN": GITLAB_TOKEN,
        }
        args = ["ci", "--image", image, "--db", str(db), "--no-db-update", "--manifests", str(repo)]
        outcome = run_hostile([*args, "--report-dir", str(case.out)], case, env=env)
        assert_survived(outcome)
        assert_inert_log(outcome)
        bodies = [n["body"] for n in server.notes(5, 7)]
        assert len(bodies) >= 2, bodies  # the summary note and a discussion on the pod
        for body in bodies:
            assert_inert_markdown(body)
            assert not re.search(r"(?m)^[ \t]*/[a-z]", body), body
        assert (
            check_container_scanning_15(
                json.loads(strict_text(case.out / "gl-container-scanning-report.json"))
            )
            == []
        )


def test_an_architecture_with_markup_and_a_command(case):
    image = hostile_image(case, arch="amd64\n::error::pwned-arch [/] \x1b[31m")
    outcome = scan(case, "-o", "table", "-o", f"json={case.out / 'r.json'}", image=image)
    assert "Traceback" not in outcome.stderr
    if outcome.code == 2:  # refused as malformed metadata: one clean, inert line
        assert_clean_error(outcome, code=2)
    else:
        assert_survived(outcome)
        valid_report(json.loads(strict_text(case.out / "r.json")))
    assert_inert_log(outcome)


def test_undecodable_bytes_in_a_package_database_give_valid_utf8_reports(case):
    status = b"Package: ev\xffil\nStatus: install ok installed\nVersion: 1.0\xfe\nArchitecture: amd64\n\n"
    image = hostile_image(case, extra=(file("var/lib/dpkg/status", status),))
    reports = {fmt: case.out / f"r.{fmt}" for fmt in ("json", "sarif", "markdown", "cyclonedx")}
    outcome = scan(case, *[a for fmt, path in reports.items() for a in ("-o", f"{fmt}={path}")], image=image)
    assert_survived(outcome)
    assert_inert_log(outcome)
    for path in reports.values():
        strict_text(path)
    names = {p["name"] for p in valid_report(json.loads(strict_text(reports["json"])))["packages"]}
    assert any(name.startswith("ev") and name.endswith("il") for name in names), names


def test_a_lone_surrogate_in_a_package_name(case):
    # A JSON `\udc80` escape becomes a lone surrogate in Python, which no UTF-8 file can hold. The
    # inventory (no database lookup: the cataloger's handling of such names is its own case) must
    # still print and write valid UTF-8, with U+FFFD in its place.
    image = hostile_image(case, name="lone\udc80surrogate")
    reports = ("-o", f"json={case.out / 'r.json'}", "-o", f"sarif={case.out / 'r.sarif'}")
    outcome = run_hostile(["scan", "--no-vulns", "--image", image, "-o", "table", *reports], case)
    assert_survived(outcome)
    assert_inert_log(outcome)
    assert "lone\ufffdsurrogate" in outcome.stdout
    validate_sarif(strict_text(case.out / "r.sarif"))
    packages = valid_report(json.loads(strict_text(case.out / "r.json")))["packages"]
    assert [(p["name"], p["purl"]) for p in packages] == [
        ("lone\ufffdsurrogate", "pkg:npm/lone%EF%BF%BDsurrogate@1.0.0")
    ]


def test_the_error_line_for_a_hostile_image_path(case):
    path = case.input / "no\n::error::pwned [/] \x1b[31m ##[warning]x.tar"
    outcome = run_hostile(["scan", "--no-vulns", "--image", f"docker-archive:{path}"], case)
    line = assert_clean_error(outcome, code=2)
    assert "\\n::error::pwned [/]" in line
    assert_inert_log(outcome)


def test_a_file_name_with_a_newline_in_a_warning(case):
    bad = file("app/node_modules/x\n::error::pwned-path/package.json", b"{not json")
    image = hostile_image(case, extra=(bad,))
    outcome = scan(case, "-o", "table", image=image)
    assert "Traceback" not in outcome.stderr
    if outcome.code == 2:
        assert_clean_error(outcome, code=2)
    else:
        assert_survived(outcome)
    assert_inert_log(outcome)


def test_policy_text_from_a_pull_request(case):
    policy = case.input / "policy.yml"
    policy.write_text(
        "ignore:\n"
        f"  - id: {ADVISORY}\n"
        '    reason: "pwned-by-policy\\n::error::x </details><img src=x> @everyone [/] \\u001b[31m '
        '##[warning]x"\n'
        "    expires: 2999-01-01\n"
    )
    outcome = scan(case, "--policy", str(policy), "-o", "table", "-o", f"markdown={case.out / 'r.md'}")
    assert_survived(outcome, codes=(0,))
    assert_inert_log(outcome)
    assert "pwned-by-policy" in outcome.stdout  # the reason is shown, as text
    assert_inert_markdown(strict_text(case.out / "r.md"))


def test_manifest_text_from_a_pull_request(case):
    repo = repository(case)
    outcome = run_hostile(
        [
            "scan",
            "--manifests",
            str(repo),
            "-o",
            "table",
            "-o",
            f"markdown={case.out / 'r.md'}",
            "-o",
            f"sarif={case.out / 'r.sarif'}",
        ],
        case,
    )
    assert_survived(outcome)
    assert_inert_log(outcome)
    assert "pwned-by-manifest" in outcome.stdout
    assert_inert_markdown(strict_text(case.out / "r.md"))
    validate_sarif(strict_text(case.out / "r.sarif"))
