"""Fail closed: each isolation step made unavailable in turn refuses the run with exit 2 and a reason
naming the step, and the image's entrypoint never runs.

The namespaces are taken away one at a time by running ci-security as root of a user namespace whose
`user.max_<kind>_namespaces` is 0 (`testkit.userns`: the limit is per namespace, the host is not
touched); /proc is made unmountable by hiding a file of the host's /proc, as Docker does; the tools
by a PATH without them. The refusal comes before the image is even read (a missing image is not what
the error is about), and the sandbox's own start-up, held before the entrypoint, is refused when its
check fails: the trace then holds no execution of the image's program.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ci_security.errors import IsolationError
from ci_security.sandbox import isolation, run
from ci_security.sandbox.command import SandboxCommand
from ci_security.sandbox.dynamic import prepare, private_dir
from ci_security.sandbox.rootfs import unpack

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("sandbox_tools", "host_untouched")]
REPO = Path(__file__).resolve().parents[2]


def cli(
    tmp_path: Path, image: Path | str, *prefix: str, path: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": path if path is not None else os.environ["PATH"],
        "PYTHONPATH": f"{REPO}:{REPO / 'tests'}",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "HOME": str(tmp_path),
    }
    argv = [
        *prefix,
        sys.executable,
        "-m",
        "ci_security",
        "sandbox",
        "--image",
        f"docker-archive:{image}",
        "--no-vulns",
        "--repo-root",
        str(tmp_path),
        "-o",
        f"json={tmp_path / 'report.json'}",
        "-o",
        f"events={tmp_path / 'events.jsonl'}",
    ]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)


def userns(*options: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "testkit.userns", *options, "--")


def assert_refused(done: subprocess.CompletedProcess[str], step: str, tmp_path: Path) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("ci-security: error: sandbox: "), error
    assert step in error, error
    assert not (tmp_path / "report.json").exists()
    assert not (tmp_path / "events.jsonl").exists()
    assert "RAN-THE-ENTRYPOINT" not in done.stdout + done.stderr
    return error


@pytest.mark.parametrize(
    ("kind", "step"),
    [
        ("user", "creating the user namespace"),
        ("mnt", "creating the mount namespace"),
        ("pid", "creating the pid namespace"),
        ("net", "creating the network namespace"),
        ("uts", "creating the UTS namespace"),
        ("ipc", "creating the IPC namespace"),
        ("cgroup", "creating the cgroup namespace"),
    ],
)
def test_a_namespace_that_cannot_be_created_refuses_the_run(script_image, tmp_path, kind, step):
    image = script_image("echo RAN-THE-ENTRYPOINT\n")
    done = cli(tmp_path, image, *userns("--sysctl", f"max_{kind}_namespaces=0"))
    error = assert_refused(done, step, tmp_path)
    assert f"user.max_{kind}_namespaces" in error  # the reason names the limit that is in the way


def test_the_check_comes_before_the_image_is_read(tmp_path):
    done = cli(tmp_path, tmp_path / "no-such-image.tar", *userns("--sysctl", "max_net_namespaces=0"))
    error = assert_refused(done, "creating the network namespace", tmp_path)
    assert "no-such-image" not in error


def test_a_proc_that_cannot_be_mounted_refuses_the_run(script_image, tmp_path):
    hidden = next(p for p in ("/proc/timer_list", "/proc/keys", "/proc/kcore") if Path(p).exists())
    done = cli(tmp_path, script_image("echo RAN-THE-ENTRYPOINT\n"), *userns("--cover", hidden))
    error = assert_refused(done, "mounting a new /proc", tmp_path)
    assert "Operation not permitted" in error


def _path_with(tmp_path: Path, tools: dict[str, str]) -> str:
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, target in tools.items():
        (folder / name).symlink_to(target)
    return str(folder)


@pytest.mark.parametrize(("missing", "package"), [("strace", "strace"), ("bwrap", "bubblewrap")])
def test_a_missing_tool_refuses_the_run(script_image, tmp_path, missing, package):
    import shutil

    tools = {name: shutil.which(name) for name in ("strace", "bwrap", "prlimit", "setpriv", "unshare")}
    del tools[missing]
    done = cli(tmp_path, script_image("echo RAN-THE-ENTRYPOINT\n"), path=_path_with(tmp_path, tools))
    error = assert_refused(done, f"{missing} is not installed", tmp_path)
    assert package in error


def test_a_tracer_that_is_not_strace_refuses_the_run(script_image, tmp_path):
    import shutil

    tools = {name: shutil.which(name) for name in ("bwrap", "prlimit", "setpriv")}
    tools["strace"] = shutil.which("true")
    done = cli(tmp_path, script_image("echo RAN-THE-ENTRYPOINT\n"), path=_path_with(tmp_path, tools))
    assert_refused(done, "tracer", tmp_path)


def test_root_that_maps_no_other_uid_refuses_the_run(script_image, tmp_path):
    import shutil

    unshare = shutil.which("unshare")
    assert unshare is not None
    done = cli(tmp_path, script_image("echo RAN-THE-ENTRYPOINT\n"), unshare, "--user", "--map-root-user")
    error = assert_refused(done, "process limit", tmp_path)
    assert "RLIMIT_NPROC" in error


def test_nested_in_a_user_namespace_the_sandbox_works(script_image, tmp_path):
    done = cli(tmp_path, script_image("echo RAN-THE-ENTRYPOINT\n"), *userns())
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "report.json").exists()


def _run_held(busybox_image: Path, tmp_path: Path, on_isolated) -> tuple[IsolationError | None, str, str]:
    """Run the image's entrypoint through `run.execute`: what it raised, and the trace and standard
    output it left (read before the private directory goes).
    """
    from ci_security.image.base import SourceOptions
    from ci_security.image.reference import parse_image_ref
    from ci_security.image.registry import source_for

    prepared = prepare()
    ref = parse_image_ref(f"docker-archive:{busybox_image}")
    (tmp_path / "image").mkdir()
    image = source_for(ref).open(ref, SourceOptions(workdir=tmp_path / "image"))
    command = SandboxCommand(
        argv=("/bin/sh", "/app/run.sh"), env=(("PATH", "/bin"),), workdir="/", uid=0, gid=0, user=""
    )
    raised = None
    with private_dir(prepared.identity) as workdir:
        target = workdir / "rootfs"
        target.mkdir()
        rootfs = unpack(image, target, owner=prepared.identity.owner)
        try:
            run.execute(
                prepared.tools,
                prepared.identity,
                rootfs.path,
                command,
                workdir,
                duration=5,
                on_isolated=on_isolated,
            )
        except IsolationError as exc:
            raised = exc
        return raised, (workdir / "trace").read_text(), (workdir / "stdout").read_text()


@pytest.mark.parametrize("why", ["the check of the started sandbox", "a caller's own check"])
def test_a_sandbox_that_fails_its_check_is_killed_before_the_entrypoint(
    script_image, tmp_path, monkeypatch, why
):
    image = script_image("echo RAN-THE-ENTRYPOINT\n")

    def refuse(*args: object) -> None:
        raise IsolationError("sandbox: mounts: host paths visible in the sandbox: /host")

    hook = refuse
    if why == "the check of the started sandbox":
        monkeypatch.setattr(run, "verify", refuse)
        hook = None
    raised, trace, output = _run_held(image, tmp_path, hook)
    assert raised is not None and "host paths visible" in str(raised)
    assert "bwrap" in trace  # the sandbox was started and traced…
    assert 'execve("/bin/sh"' not in trace  # …and the image's program never executed
    assert output == ""


def test_the_same_sandbox_runs_the_entrypoint_when_its_check_passes(script_image, tmp_path):
    raised, trace, output = _run_held(script_image("echo RAN-THE-ENTRYPOINT\n"), tmp_path, None)
    assert raised is None
    assert 'execve("/bin/sh"' in trace
    assert output == "RAN-THE-ENTRYPOINT\n"


def test_private_dir_belongs_to_the_sandbox_user_and_goes_away():
    identity = isolation.choose_identity(16)
    with private_dir(identity) as path:
        info = path.stat()
        assert oct(info.st_mode & 0o777) == oct(0o700)
        if identity.uid is not None:
            assert info.st_uid == identity.uid
    assert not path.exists()
