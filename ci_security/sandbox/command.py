"""What the sandbox runs: the image config's `Entrypoint` + `Cmd`, with its `Env`, `WorkingDir` and
`User`, and the overrides given on the command line, resolved the way `docker run` resolves them.

- `--entrypoint` replaces the image's Entrypoint and drops its Cmd (as `docker run --entrypoint`
  does); `--cmd` replaces the Cmd. An image with neither is an error: there is nothing to run.
- The environment is the image's `Env`, then `--env` values over it, then `PATH` (Docker's default,
  when the image sets none), `HOSTNAME` and `HOME` (from the user's passwd entry, else `/`). Nothing
  comes from the environment ci-security itself runs in: no CI token, no runner variable.
- `User` is `name`, `uid`, `name:group` or `uid:gid`; names are looked up in the image's own
  `/etc/passwd` and `/etc/group` (read from the unpacked filesystem, bounded), a missing name is an
  error as it is for `docker run`, and a user without a group runs with its passwd entry's group
  (else 0).

The config is the image's, so every value is checked before use: types (`ImageError` naming the
key), no NUL bytes, and bounded sizes.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ci_security.errors import ImageError, SandboxError
from ci_security.image.manifest import field, string_list
from ci_security.sandbox.rootfs import Rootfs

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HOSTNAME = "ci-security-sandbox"
_MAX_ARGV_BYTES = 128 << 10
_MAX_ENV_BYTES = 256 << 10
_MAX_ACCOUNT_FILE = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Overrides:
    """What the command line changes (each None keeps the image's)."""

    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()
    workdir: str | None = None
    user: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxCommand:
    """The process the sandbox starts."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    workdir: str
    uid: int
    gid: int
    user: str  # as the config or the command line wrote it ("" for root)


def _config(image_config: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = field(image_config, "config", dict, "image config")
    return inner or {}


def _words(config: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    if config.get(key) is None:
        return None
    return tuple(string_list(config, key, "image config"))


def _check_text(value: str, what: str) -> str:
    if "\0" in value:
        raise ImageError(f"image config: {what} contains a NUL byte")
    return value


def _parse_env(items: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        name, sep, value = item.partition("=")
        if sep and name:
            pairs.append((_check_text(name, "Env"), _check_text(value, "Env")))
    return pairs


def _account_lines(rootfs: Rootfs, path: str) -> list[list[str]]:
    real = rootfs.real_path(path)
    data = rootfs.read_head(real, _MAX_ACCOUNT_FILE) if real else None
    if not data:
        return []
    return [line.split(":") for line in data.decode("utf-8", "replace").splitlines() if ":" in line]


def _lookup_user(rootfs: Rootfs, spec: str) -> tuple[int, int, str]:
    """(uid, gid, home) for a config `User` value (see the module docstring)."""
    name, _, group = spec.partition(":")
    passwd = _account_lines(rootfs, "etc/passwd")
    entry = next((e for e in passwd if len(e) >= 6 and (e[0] == name or e[2] == name)), None)
    if name.isdigit():
        uid = int(name)
    elif entry is not None and entry[2].isdigit():
        uid = int(entry[2])
    else:
        raise SandboxError(f"the image's user {name!r} is not in its /etc/passwd (as docker run would say)")
    home = entry[5] if entry is not None and entry[5].startswith("/") else "/"
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            groups = _account_lines(rootfs, "etc/group")
            found = next((g for g in groups if len(g) >= 3 and g[0] == group and g[2].isdigit()), None)
            if found is None:
                raise SandboxError(f"the image's group {group!r} is not in its /etc/group")
            gid = int(found[2])
    else:
        gid = int(entry[3]) if entry is not None and entry[3].isdigit() else 0
    if uid > 0xFFFFFFFE or gid > 0xFFFFFFFE:
        raise SandboxError(f"the image's user {spec!r} is out of range")
    return uid, gid, home


def resolve(image_config: Mapping[str, Any], rootfs: Rootfs, overrides: Overrides) -> SandboxCommand:
    """The command to run for an image with config `image_config`, unpacked at `rootfs`."""
    config = _config(image_config)
    if overrides.entrypoint is not None:
        entrypoint = overrides.entrypoint
        cmd = overrides.cmd or ()
    else:
        entrypoint = _words(config, "Entrypoint") or ()
        cmd = overrides.cmd if overrides.cmd is not None else (_words(config, "Cmd") or ())
    argv = tuple(_check_text(word, "Entrypoint/Cmd") for word in (*entrypoint, *cmd))
    if not argv or not argv[0]:
        raise SandboxError(
            "the image has no ENTRYPOINT or CMD: nothing to run (give one with --entrypoint or --cmd)"
        )
    if sum(len(word.encode("utf-8", "surrogateescape")) + 1 for word in argv) > _MAX_ARGV_BYTES:
        raise ImageError(f"image config: Entrypoint and Cmd are longer than {_MAX_ARGV_BYTES} bytes")

    user_spec = (
        overrides.user if overrides.user is not None else (field(config, "User", str, "image config") or "")
    )
    user_spec = _check_text(user_spec.strip(), "User")
    uid, gid, home = _lookup_user(rootfs, user_spec or "0")

    workdir = (
        overrides.workdir
        if overrides.workdir is not None
        else (field(config, "WorkingDir", str, "image config") or "/")
    )
    workdir = _check_text(workdir, "WorkingDir")
    workdir = posixpath.normpath("/" + workdir.lstrip("/"))

    env: dict[str, str] = dict(_parse_env(list(string_list(config, "Env", "image config"))))
    for name, value in overrides.env:
        env[_check_text(name, "--env")] = _check_text(value, "--env")
    env.setdefault("PATH", DEFAULT_PATH)
    env["HOSTNAME"] = HOSTNAME
    env.setdefault("HOME", home)
    if sum(len(k) + len(v) + 2 for k, v in env.items()) > _MAX_ENV_BYTES:
        raise ImageError(f"image config: Env is larger than {_MAX_ENV_BYTES} bytes")
    return SandboxCommand(
        argv=argv,
        env=tuple(sorted(env.items())),
        workdir=workdir,
        uid=uid,
        gid=gid,
        user=user_spec,
    )
