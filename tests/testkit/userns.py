"""Run a command as root of a new user namespace that also maps a range of ordinary uids, with some
of the namespace's limits changed first: how the sandbox tests make one isolation step unavailable
at a time without touching the host (every change is confined to the new namespaces).

`python3 -m testkit.userns [--sysctl NAME=VALUE ...] [--cover PATH ...] -- COMMAND...`

- The child unshares a user namespace (and a mount namespace when `--cover` is given); the parent,
  root outside, writes its uid and gid maps: 0 to 0 and 100000-165535 to themselves (util-linux's
  unshare would need newuidmap and /etc/subuid entries for that).
- `--sysctl max_net_namespaces=0` writes /proc/sys/user/max_net_namespaces in the new namespace:
  user-namespace limits are per namespace, so only this namespace and those below it are affected.
- `--cover /proc/timer_list` bind-mounts /dev/null over that file in the new mount namespace, as
  Docker hides parts of /proc in unprivileged containers (the kernel then refuses new /proc mounts to
  user namespaces below).
- Then COMMAND runs; this module exits with its exit code.

Only the test process's own children are affected; nothing on the host changes.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
RANGE_START, RANGE_COUNT = 100000, 65536


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sysctl", action="append", default=[])
    parser.add_argument("--cover", action="append", default=[])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        os.close(go_w)
        libc = _libc()
        flags = CLONE_NEWUSER | (CLONE_NEWNS if args.cover else 0)
        _check(libc.unshare(flags), "unshare")
        os.write(ready_w, b"1")
        os.read(go_r, 1)
        if args.cover:
            _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
            for path in args.cover:
                _check(libc.mount(b"/dev/null", path.encode(), None, MS_BIND, None), f"bind over {path}")
        for item in args.sysctl:
            name, _, value = item.partition("=")
            with open(f"/proc/sys/user/{name}", "w") as sysctl:
                sysctl.write(value)
        os.execvp(command[0], command)
    os.close(ready_w)
    os.close(go_r)
    os.read(ready_r, 1)
    mapping = f"0 0 1\n{RANGE_START} {RANGE_START} {RANGE_COUNT}\n"
    with open(f"/proc/{pid}/uid_map", "w") as uid_map:
        uid_map.write(mapping)
    with open(f"/proc/{pid}/gid_map", "w") as gid_map:
        gid_map.write(mapping)
    os.write(go_w, b"1")
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
