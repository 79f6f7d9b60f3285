"""From strace's calls to the image's timeline: the sandbox's own set-up is not the image's, pids are
the ones inside the sandbox, working directories resolve relative paths, a DNS query sent on a
connected socket is named, a shell's PATH search is one attempt, and processes left when the
entrypoint exits are reported. The trace lines are in strace 6.1's format, written for these tests."""

# ruff: noqa: E501 - strace lines are kept whole, as strace prints them

from ci_security.sandbox import strace
from ci_security.sandbox.events import TimelineBuilder, dns_query_name, sockaddr

SETUP = ("/usr/bin/prlimit", "/usr/bin/bwrap")
# The set-up as the sandbox runs it: strace's child runs prlimit, then bubblewrap, whose monitor
# clones the sandbox's first process (pid 1 inside), which mounts and then runs the entrypoint.
HEAD = """\
10 1.000000 execve("/usr/bin/prlimit", ["prlimit", "--nproc=20"], 0x1 /* 1 var */) = 0
10 1.000100 execve("/usr/bin/bwrap", ["bwrap", "--unshare-user"], 0x1 /* 1 var */) = 0
10 1.000200 clone(child_stack=NULL, flags=CLONE_NEWNS|CLONE_NEWUSER|CLONE_NEWPID|SIGCHLD) = 11
11 1.000300 mount("tmpfs", "/newroot/tmp", "tmpfs", MS_NOSUID|MS_NODEV, "mode=0755") = 0
11 1.000400 pivot_root(".", "oldroot")     = 0
11 1.000500 chdir("/app")                  = 0
11 1.000600 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 2 /* 12 in strace's PID NS */
12 1.000700 execve("/usr/local/bin/sh", ["sh", "/app/run.sh"], 0x1 /* 3 vars */) = -1 ENOENT (No such file or directory)
12 1.000800 execve("/bin/sh", ["sh", "/app/run.sh"], 0x1 /* 3 vars */) = 0
"""


def timeline(body: str, **finish):
    builder = TimelineBuilder(SETUP, max_events=1000)
    for record in strace.calls((HEAD + body).splitlines(keepends=True)):
        builder.feed(record)
    return builder.finish(**finish)


def test_setup_is_not_the_image_and_pids_are_the_sandboxs():
    result = timeline("12 1.100000 +++ exited with 3 +++\n")
    kinds = [(e.kind, e.syscall, e.pid) for e in result.events]
    assert kinds == [("exec", "execve", 2), ("file_read", "execve", 2), ("exit", "", 2)]
    assert result.start == 1.0008 and result.main_pid == 2 and result.main_exit == 3
    assert all(e.time >= 0 for e in result.events)
    assert result.processes == 1


def test_relative_paths_resolve_against_the_working_directory():
    body = """\
12 1.001000 chdir("/etc")                  = 0
12 1.001100 openat(AT_FDCWD, "passwd", O_WRONLY|O_APPEND) = -1 EROFS (Read-only file system)
12 1.001200 unlink("../app/x")             = -1 EROFS (Read-only file system)
12 1.001300 openat(AT_FDCWD</usr>, "lib/os-release", O_RDONLY) = 3</usr/lib/os-release>
"""
    result = timeline(body)
    writes = [(e.path, e.result, e.syscall) for e in result.events if e.kind == "file_write"]
    assert writes == [("/etc/passwd", "EROFS", "openat"), ("/app/x", "EROFS", "unlink")]
    assert "/usr/lib/os-release" in result.files_read


def test_children_printed_before_their_parents_clone_returns_are_held_and_paired():
    body = """\
12 1.002000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD <unfinished ...>
13 1.002100 execve("/bin/wget", ["wget", "http://192.0.2.1:4444/"], 0x1 /* 3 vars */) = 0
13 1.002200 connect(3<socket:[7]>, {sa_family=AF_INET, sin_port=htons(4444), sin_addr=inet_addr("192.0.2.1")}, 16) = -1 ENETUNREACH (Network is unreachable)
12 1.002300 <... clone resumed>, child_tidptr=0x2) = 3 /* 13 in strace's PID NS */
"""
    result = timeline(body)
    connect = next(e for e in result.events if e.kind == "connect")
    assert (connect.pid, connect.ppid, connect.argv[0]) == (3, 2, "wget")
    assert (connect.family, connect.address, connect.port, connect.result) == (
        "inet",
        "192.0.2.1",
        4444,
        "ENETUNREACH",
    )


def test_a_dns_query_on_a_connected_socket_is_named():
    query = (
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"\x04evil\x07invalid\x00" + b"\x00\x01\x00\x01"
    )
    payload = "".join(f"\\x{byte:02x}" for byte in query)
    body = (
        '12 1.003000 connect(3<socket:[8]>, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.1")}, 16) = 0\n'
        f'12 1.003100 sendmmsg(3<socket:[8]>, [{{msg_hdr={{msg_name=NULL, msg_namelen=0, msg_iov=[{{iov_base="{payload}", iov_len={len(query)}}}], msg_iovlen=1, msg_controllen=0, msg_flags=0}}, msg_len={len(query)}}}], 1, MSG_NOSIGNAL) = 1\n'
    )
    result = timeline(body)
    sent = next(e for e in result.events if e.kind == "send")
    assert (sent.name, sent.address, sent.port) == ("evil.invalid", "127.0.0.1", 53)


def test_a_path_search_is_one_attempt_and_failed_programs_are_kept():
    body = """\
12 1.004000 clone(child_stack=NULL, flags=SIGCHLD) = 3 /* 13 in strace's PID NS */
13 1.004100 execve("/usr/local/bin/xmrig", ["xmrig", "--donate-level", "1"], 0x1 /* 3 vars */) = -1 ENOENT (No such file or directory)
13 1.004200 execve("/usr/bin/xmrig", ["xmrig", "--donate-level", "1"], 0x1 /* 3 vars */) = -1 ENOENT (No such file or directory)
13 1.004300 +++ exited with 127 +++
"""
    result = timeline(body)
    attempts = [e for e in result.events if e.kind == "exec" and e.result != "ok"]
    assert len(attempts) == 1
    assert attempts[0].argv == ("xmrig", "--donate-level", "1") and attempts[0].result == "ENOENT"


def test_privileged_calls_setuid_and_refused_forks():
    body = """\
12 1.005000 chmod("/tmp/x", 0104755)       = 0
12 1.005100 chmod("/tmp/y", 0644)          = 0
12 1.005200 unshare(CLONE_NEWUSER)         = -1 EPERM (Operation not permitted)
12 1.005300 clone(child_stack=NULL, flags=CLONE_NEWNET|SIGCHLD) = -1 EPERM (Operation not permitted)
12 1.005400 fork()                         = -1 EAGAIN (Resource temporarily unavailable)
"""
    result = timeline(body)
    chmods = [(e.path, e.mode) for e in result.events if e.kind == "chmod"]
    assert chmods == [("/tmp/x", 0o4755)]  # file type bits dropped; a plain chmod is not an event
    privileged = [(e.syscall, e.result) for e in result.events if e.kind == "privileged"]
    assert privileged == [("unshare", "EPERM")]
    assert [e.result for e in result.events if e.kind == "fork_failed"] == ["EAGAIN"]


def test_processes_left_when_the_entrypoint_exits_are_alive_at_the_end():
    body = """\
12 1.006000 clone(child_stack=NULL, flags=SIGCHLD) = 3 /* 13 in strace's PID NS */
13 1.006100 execve("/bin/sleep", ["sleep", "1000"], 0x1 /* 3 vars */) = 0
12 1.006200 +++ exited with 0 +++
13 1.006300 +++ killed by SIGKILL +++
"""
    result = timeline(body)
    assert result.alive == [(3, "/bin/sleep", ("sleep", "1000"))]
    alive = [e for e in result.events if e.kind == "alive"]
    assert alive[0].pid == 3 and "entrypoint exited" in alive[0].detail


def test_the_runner_s_snapshot_names_what_ran_past_the_duration():
    body = "12 1.007000 clone(child_stack=NULL, flags=SIGCHLD) = 3 /* 13 in strace's PID NS */\n"
    result = timeline(body, alive=[(2, "/bin/sh", ("sh",)), (3, "/bin/sh", ("sh",))], elapsed=30.0)
    assert [(e.pid, e.time) for e in result.events if e.kind == "alive"] == [(2, 30.0), (3, 30.0)]


def test_event_storage_is_bounded_but_everything_is_counted():
    body = "".join(
        f'12 1.{8000 + i:06d} openat(AT_FDCWD</app>, "f{i}", O_WRONLY|O_CREAT, 0644) = -1 EROFS (Read-only file system)\n'
        for i in range(50)
    )
    builder = TimelineBuilder(SETUP, max_events=10)
    for record in strace.calls((HEAD + body).splitlines(keepends=True)):
        builder.feed(record)
    result = builder.finish()
    assert len(result.events) == 10 and result.events_total == 52


def test_an_entrypoint_that_never_starts_says_why():
    head = "\n".join(HEAD.splitlines()[:-1]) + "\n"
    builder = TimelineBuilder(SETUP, max_events=100)
    for record in strace.calls(head.splitlines(keepends=True)):
        builder.feed(record)
    result = builder.finish()
    assert result.start is None
    assert result.exec_error == "/usr/local/bin/sh: ENOENT"


def test_dns_query_name_and_socket_addresses():
    assert dns_query_name(b"\x00" * 12) is None
    response = b"\x12\x34\x81\x80\x00\x01" + b"\x00" * 6 + b"\x01a\x00\x00\x01\x00\x01"
    assert dns_query_name(response) is None  # a response, not a query
    assert sockaddr(
        '{sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}'
    ) == ("inet6", "2001:db8::1", 443)
    assert sockaddr('{sa_family=AF_UNIX, sun_path="/run/docker.sock"}') == ("unix", "/run/docker.sock", None)
    assert sockaddr("{sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}") is None
