"""strace's output as the sandbox reads it: arguments split at the top level only, C escapes decoded,
split calls joined, pids paired across namespaces, and lines that do not parse skipped. The lines
are strace 6.1's own format (`-f -ttt -y -v -x --decode-pids=pidns`), as the sandbox runs it."""

# ruff: noqa: E501 - strace lines are kept whole, as strace prints them

from ci_security.sandbox import strace
from ci_security.sandbox.strace import Call, Exit


def test_split_args_respects_strings_structures_and_fd_paths():
    text = 'AT_FDCWD</app, x>, "/etc/pa,ss\\"wd", O_WRONLY|O_CREAT, 0666'
    assert strace.split_args(text) == ["AT_FDCWD</app, x>", '"/etc/pa,ss\\"wd"', "O_WRONLY|O_CREAT", "0666"]
    nested = '3<socket:[1]>, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("1.2.3.4")}, 16'
    assert (
        strace.split_args(nested)[1].startswith("{sa_family=AF_INET") and len(strace.split_args(nested)) == 3
    )
    assert strace.split_args('["sh", "-c", "a, b"]') == ['["sh", "-c", "a, b"]']
    assert strace.split_args("") == []


def test_decode_string_handles_escapes_and_truncation():
    assert strace.decode_string('"a\\x41\\n\\t\\"q\\\\"') == ('aA\n\t"q\\', False)
    assert strace.decode_string('"abc"...') == ("abc", True)
    assert strace.decode_string('"\\377"') == ("\udcff", False)  # not UTF-8: kept as a surrogate
    assert strace.decode_string("NULL") is None
    assert strace.decode_string('"unterminated') is None
    assert strace.decode_bytes('"\\x00\\x01ab"') == b"\x00\x01ab"


def test_string_array_and_decoration():
    assert strace.string_array('["wget", "-O", "-", "http://192.0.2.1/x"]') == (
        "wget",
        "-O",
        "-",
        "http://192.0.2.1/x",
    )
    assert strace.string_array('["a", ...]') == ("a",)
    assert strace.string_array("0x7ffd") is None
    assert strace.decoration("3</etc/passwd>") == "/etc/passwd"
    assert strace.decoration("AT_FDCWD</app>") == "/app"
    assert strace.decoration("3") is None


LINES = """\
100 1700000000.000001 execve("/usr/bin/prlimit", ["prlimit", "--nproc=10"], 0x7ffc /* 2 vars */) = 0
101 1700000000.100000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD, child_tidptr=0x1) = 2 /* 105 in strace's PID NS */
105 1700000000.100100 openat(AT_FDCWD</app>, "passwd", O_WRONLY|O_CREAT|O_APPEND, 0666 <unfinished ...>
106 1700000000.100150 connect(3<socket:[42]>, {sa_family=AF_INET, sin_port=htons(4444), sin_addr=inet_addr("192.0.2.1")}, 16) = -1 ENETUNREACH (Network is unreachable)
105 1700000000.100200 <... openat resumed>) = -1 EROFS (Read-only file system)
105 1700000000.100300 openat(AT_FDCWD</app>, "/lib/libc.so.6", O_RDONLY|O_CLOEXEC) = 3</usr/lib/libc.so.6>
105 1700000000.100400 exit_group(0)                   = ?
105 1700000000.100500 +++ exited with 0 +++
106 1700000000.100600 +++ killed by SIGKILL +++
not a trace line
107 1700000000.100700 <... read resumed>) = 0
"""


def test_calls_joins_split_calls_and_reads_results():
    records = list(strace.calls(LINES.splitlines(keepends=True)))
    kinds = [(type(r).__name__, r.pid, getattr(r, "name", None)) for r in records]
    assert kinds == [
        ("Call", 100, "execve"),
        ("Call", 101, "clone"),
        ("Call", 106, "connect"),
        ("Call", 105, "openat"),
        ("Call", 105, "openat"),
        ("Call", 105, "exit_group"),
        ("Exit", 105, None),
        ("Exit", 106, None),
    ]
    clone = records[1]
    assert isinstance(clone, Call) and (clone.value, clone.nspid) == (2, 105)
    joined = records[3]
    assert isinstance(joined, Call)
    assert joined.time == 1700000000.1001  # the time the call started
    assert joined.args[1] == '"passwd"' and joined.errno == "EROFS" and not joined.ok
    opened = records[4]
    assert isinstance(opened, Call) and opened.decoration == "/usr/lib/libc.so.6" and opened.ok
    connect = records[2]
    assert isinstance(connect, Call) and connect.errno == "ENETUNREACH"
    assert records[-2] == Exit(105, 1700000000.1005, 0, None)
    assert records[-1] == Exit(106, 1700000000.1006, None, "SIGKILL")
