"""Helpers the compose rules share: variable interpolation, booleans, and the short and long syntaxes
of `volumes` and `ports`.

Compose interpolates `${VAR}` before it reads a value. A scanner does not know the environment, so
`resolve()` keeps what the file itself decides: `${VAR:-default}` and `${VAR-default}` become their
default (what runs when the variable is unset), `$$` becomes `$`, and every other reference becomes
`UNKNOWN`, a character that cannot occur in YAML text, so a rule can tell "bound to 0.0.0.0" from
"bound to whatever `$BIND_IP` is" and stay silent on the latter.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ci_security.manifests.compose import ComposeFile, NamedVolume, Service
from ci_security.manifests.yamldoc import Path
from ci_security.rules import hostpaths

UNKNOWN = "\x00"

_REFERENCE = re.compile(r"\$(?:\{([^{}]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_ESCAPED = "\x01"  # stands for `$$` while references are replaced
_DEFAULT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*:?-(.*)", re.S)
_HOME = re.compile(r"^(?:\$\{HOME\}|\$HOME)(?=[/:]|$)")
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")
# compose-go casts these strings to booleans (yaml.org/type/bool), so `privileged: "yes"` is true.
_TRUE = frozenset({"y", "yes", "true", "on"})


def _substitute(match: re.Match[str]) -> str:
    braced = match.group(1)
    if braced is not None:
        default = _DEFAULT.fullmatch(braced)
        if default is not None:
            return default.group(1)
    return UNKNOWN


def resolve(value: Any) -> str | None:
    """`value` as compose would read it with no variable set (see the module docstring), or None
    for a mapping, a list or null.
    """
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if "$" not in text:
        return text
    text = text.replace("$$", _ESCAPED)
    # A default may itself hold a reference (`${A:-${B:-x}}`): innermost first, a few levels deep.
    for _ in range(4):
        replaced = _REFERENCE.sub(_substitute, text)
        if replaced == text:
            break
        text = replaced
    return text.replace(_ESCAPED, "$")


def is_true(value: Any) -> bool:
    """Whether compose reads `value` as boolean true."""
    if isinstance(value, bool):
        return value
    text = resolve(value)
    return text is not None and text.strip().lower() in _TRUE


def service_items(service: Service, key: str) -> Iterator[tuple[int, Any]]:
    """(index, item) of the list under `key` of one service definition."""
    value = service.data.get(key)
    if isinstance(value, list):
        yield from enumerate(value)


# --- volumes -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HostMount:
    """A host path made visible in a container: `source` is normalised (`/var/run/x` stays as
    written; `~` stands for a home directory), `keys` locate the offending line below `owner`.
    """

    source: str  # "" when the host side is an unresolved variable
    target: str
    owner: Service | NamedVolume
    keys: tuple[str | int, ...]
    read_only: bool
    via_volume: str | None = None  # the named volume that binds the host path, if any

    @property
    def line(self) -> int:
        return self.owner.line(*self.keys)

    @property
    def resource(self) -> str:
        return self.owner.resource

    def describe(self) -> str:
        mode = " read-only" if self.read_only else ""
        where = f" at {self.target}" if self.target else ""
        if self.via_volume is not None:
            return f"binds host path {self.source}"
        return f"bind-mounts host path {self.source}{where}{mode}"


def host_path(source: str) -> str | None:
    """The normalised host path of a bind source, or None when it is relative, a named volume, a
    Windows path or unknown. Home-directory paths keep their `~` (callers turn `$HOME` into `~`
    before resolving), so they can be matched.
    """
    if source == "~" or source.startswith("~/"):
        rest = posixpath.normpath("/" + source[2:])
        return "~" if rest == "/" else "~" + rest
    if not source.startswith("/"):
        return None
    return "/" + posixpath.normpath(source).lstrip("/")


def _short_volume(spec: str) -> tuple[str, str, bool] | None:
    """(source, target, read_only) of a short-syntax bind `SRC:DST[:MODE]`, or None for a named or
    anonymous volume or a Windows path.
    """
    if _WINDOWS_PATH.match(spec):
        return None
    parts = spec.split(":")
    if len(parts) < 2:
        return None
    source, target = parts[0], parts[1]
    modes = {m.strip() for p in parts[2:] for m in p.split(",")}
    if source.startswith(UNKNOWN):
        return "", target, "ro" in modes
    if not source.startswith(("/", "~")):
        return None
    return source, target, "ro" in modes


def service_mounts(service: Service) -> Iterator[HostMount]:
    """Every host path one service definition bind-mounts, short or long syntax. A bind whose host
    side is an unresolved variable yields `source=""`; relative paths are skipped (they stay inside
    the project directory).
    """
    for index, item in service_items(service, "volumes"):
        if isinstance(item, str):
            spec = resolve(_HOME.sub("~", item)) or ""
            parsed = _short_volume(spec)
            if parsed is None:
                continue
            source, target, read_only = parsed
            path = host_path(source) if source else ""
            if path is not None:
                yield HostMount(path, target.strip(), service, ("volumes", index), read_only)
        elif isinstance(item, dict) and str(item.get("type", "bind")) == "bind":
            given = item.get("source")
            raw = resolve(_HOME.sub("~", given) if isinstance(given, str) else given)
            if raw is None:
                continue
            keys: tuple[str | int, ...] = ("volumes", index, "source")
            target = resolve(item.get("target")) or ""
            read_only = is_true(item.get("read_only"))
            if raw.startswith(UNKNOWN):
                yield HostMount("", target, service, keys, read_only)
            elif (path := host_path(raw)) is not None:
                yield HostMount(path, target, service, keys, read_only)


def volume_binds(compose: ComposeFile) -> Iterator[HostMount]:
    """Every top-level named volume whose local driver binds a host directory
    (`driver_opts: {type: none, o: bind, device: /path}`), located at its `device` key.
    """
    for volume in compose.named_volumes():
        options = volume.data.get("driver_opts")
        if not isinstance(options, dict) or volume.data.get("driver", "local") != "local":
            continue
        flags = {flag.strip() for flag in (resolve(options.get("o")) or "").split(",")}
        device = resolve(options.get("device"))
        if "bind" not in flags or device is None:
            continue
        path = host_path(device)
        if path is not None:
            keys: tuple[str | int, ...] = ("driver_opts", "device")
            yield HostMount(path, "", volume, keys, False, via_volume=volume.name)


def all_mounts(compose: ComposeFile) -> Iterator[HostMount]:
    """Host paths bind-mounted by any service, and host directories behind named volumes."""
    for service in compose.services():
        yield from service_mounts(service)
    yield from volume_binds(compose)


# --- ports ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Published:
    """One published port: `host_ip` "" when none is given (Docker then binds every interface);
    `ports` is the short syntax's `[HOST:]CONTAINER[/PROTO]` part, None for the long syntax.
    """

    text: str
    host_ip: str
    keys: Path
    ports: str | None = None

    def on_loopback(self) -> str:
        """The same publication bound to 127.0.0.1, as it would be written."""
        if self.ports is None:
            return "host_ip: 127.0.0.1"
        separator = ":" if ":" in self.ports else "::"
        return f'"127.0.0.1{separator}{self.ports}"'


def _short_port(spec: str) -> tuple[str, str]:
    """(host_ip, rest) of `[[IP:]HOST:]CONTAINER[/PROTO]`, split as Docker's `nat.ParsePortSpec` does."""
    parts = spec.split(":")
    if len(parts) <= 2:
        return "", spec
    ip = ":".join(parts[:-2])
    if ip.startswith("[") and ip.endswith("]"):
        ip = ip[1:-1]
    return ip, ":".join(parts[-2:])


def published_ports(service: Service) -> Iterator[Published]:
    """Every entry of `ports` of one service definition, short or long syntax."""
    for index, item in service_items(service, "ports"):
        if isinstance(item, dict):
            target = resolve(item.get("target")) or "?"
            published = resolve(item.get("published"))
            text = f"{published}:{target}" if published else target
            ip = resolve(item.get("host_ip")) or ""
            keys: Path = ("ports", index, "host_ip") if "host_ip" in item else ("ports", index)
            yield Published(text.replace(UNKNOWN, "$…"), ip.strip(), keys)
        elif isinstance(item, str | int) and not isinstance(item, bool):
            spec = resolve(item) or ""
            ip, ports = _short_port(spec.strip())
            yield Published(str(item), ip.strip(), ("ports", index), ports.replace(UNKNOWN, "$…"))


ALL_INTERFACES = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 - the addresses we look for


# --- capabilities --------------------------------------------------------------------------------

# Docker's default capability set (moby `oci/caps/defaults.go`): adding one of these back is a no-op
# unless it was dropped, and `cap_drop: [ALL]` + `cap_add: [NET_BIND_SERVICE]` is the hardened form.
DEFAULT_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
        "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    }
)  # fmt: skip
# Enough on its own to take over the host.
HOST_TAKEOVER_CAPABILITIES = frozenset({"SYS_ADMIN", "ALL"})
# A documented path to escape, read host secrets or attack the host or its network (SYS_TIME: the host
# clock is not namespaced, and moving it breaks certificate and token validity checks).
DANGEROUS_CAPABILITIES = frozenset(
    {
        "SYS_MODULE", "SYS_PTRACE", "SYS_RAWIO", "SYS_BOOT", "SYS_TIME", "NET_ADMIN", "DAC_READ_SEARCH",
        "BPF", "PERFMON", "MAC_ADMIN", "MAC_OVERRIDE", "SYSLOG",
    }
)  # fmt: skip


def capability(value: Any) -> str:
    """A capability name as Docker reads it: case-insensitive, `CAP_` prefix optional."""
    name = (resolve(value) or "").strip().upper()
    return name[4:] if name.startswith("CAP_") else name


def added_capabilities(service: Service) -> Iterator[tuple[int, str]]:
    for index, item in service_items(service, "cap_add"):
        name = capability(item)
        if name and UNKNOWN not in name:
            yield index, name


# --- runtime sockets -----------------------------------------------------------------------------

# Which host paths hand over the host, and which are sensitive, is defined once for compose and
# Kubernetes in `rules.hostpaths`; these names stay for the compose rules that use them.
RUNTIME_SOCKETS = hostpaths.RUNTIME_SOCKET_NAMES
canonical = hostpaths.canonical


def runtime_socket(mount: HostMount) -> str | None:
    """Why `mount` exposes a container-runtime socket or the host's `/`, or None when it does not.
    Connecting works through a `:ro` mount too: read-only applies to the file, not to the API behind it.
    """
    if not mount.source:
        name = posixpath.basename(mount.target.rstrip("/"))
        if name in RUNTIME_SOCKETS:
            return f"mounts a host path from a variable at {mount.target}, the {name} API socket"
        return None
    reason = hostpaths.takeover(mount.source)
    return f"{mount.describe()}, {reason}" if reason else None


# --- images --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageReference:
    name: str
    tag: str | None
    digest: str | None


def image_reference(value: Any) -> ImageReference | None:
    """The parts of an `image:` value, or None when it is empty or depends on an unset variable
    (then nobody can tell from the file what is pulled).
    """
    text = (resolve(value) or "").strip()
    if not text or UNKNOWN in text:
        return None
    name, _, digest = text.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        repository, _, tag = name.rpartition(":")
        return ImageReference(repository, tag, digest or None)
    return ImageReference(name, None, digest or None)
