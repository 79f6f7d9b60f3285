"""What a host path exposes when it is mounted into a container: one definition for the Kubernetes
(hostPath volumes) and compose (bind mounts) rules, so the same mount is judged the same way in both.

Three outcomes, decided on the normalised path (`/var/run/…` is read as `/run/…`, its target on every
current distribution) and on whether the mount is read-only:

- **takeover** (`takeover()`): the mount hands over the host. A container-runtime API socket
  (docker.sock, containerd.sock, crio.sock, podman.sock, …: whoever connects starts a privileged
  container), a directory that holds one (`/run`, `/run/containerd`, `/run/user/1000`, …), or the
  host's `/`. Read-only changes nothing: connecting to a socket is not a write.
- **sensitive** (`sensitive()`): the mount gives a realistic way to steal credentials or change how
  the host runs.
  - At any mode: a whole system directory (`/etc`, `/proc`, `/sys`, `/dev`, `/usr`, `/lib`, `/var`,
    `/home`, `~`, …; the directories kube-linter's `sensitive-host-mounts` lists and more); a tree
    that holds credentials or kernel control, or anything in it (`/root`, `/boot`, `/etc/shadow`,
    `/etc/kubernetes`, `/etc/ssl/private`, `/var/lib/kubelet`, `/var/lib/docker`, `/proc`, `/sys/kernel`,
    `~/.ssh`, `~/.aws`, a user's home directory, …); and a directory that contains such a tree
    (`/etc/ssl` holds `/etc/ssl/private`, `/var/lib` holds `/var/lib/kubelet`).
  - Writable only: a place the host trusts for code or configuration it runs as root, or for trust
    itself (`HOST_CONTROL_TREES`: `/etc/ssl/certs`, `/etc/cni/net.d`, `/lib/modules`,
    `/usr/local/bin`, `/etc/cron.d`, `/etc/passwd`, `/sys/fs/cgroup`, …), or a directory containing
    one (`/usr/local`): writing there plants a CA, a binary, a kernel module, a job or a user the
    host trusts. Read-only, such a path gives nothing an attacker can use: a CA bundle is public,
    kernel modules are loaded only with SYS_MODULE. A writable application directory below `/etc`
    or `/usr` (`/etc/pihole`, `/usr/share/appdata/…`) is that application's data.
- **safe** (`is_safe()`): files and sockets harmless even writable, reported by neither: the syslog
  socket `/dev/log` and journald's sockets (they accept log lines), `/dev/null`, `/dev/zero`,
  `/dev/random` and friends, GPU render nodes (`/dev/dri`), and the host's time zone
  (`/etc/localtime`, `/etc/timezone`).

Paths outside all of these (`/srv/data`, `/var/log`, `/opt/app`, `/mnt/disks/ssd0`) are ordinary:
Kubernetes still reports a hostPath volume for them (K8S007, the baseline Pod Security Standard
forbids them), compose does not (binding project data is what compose files do).
"""

from __future__ import annotations

import re

# Container-runtime API sockets, by file name (Docker, containerd, CRI-O, cri-dockerd, Podman).
RUNTIME_SOCKET_NAMES = frozenset(
    {"docker.sock", "containerd.sock", "podman.sock", "crio.sock", "cri-dockerd.sock", "dockershim.sock"}
)
# Directories that hold such a socket on the hosts Docker and Kubernetes run on (in their `/run`
# spelling): Docker, containerd, CRI-O, Podman (rootful and rootless), k3s, MicroK8s.
RUNTIME_SOCKET_DIRS = frozenset(
    {"/", "/run", "/run/docker", "/run/containerd", "/run/crio", "/run/podman", "/run/k3s",
     "/run/k3s/containerd", "/run/user", "/var/snap/microk8s/common/run"}
)  # fmt: skip
_USER_RUNTIME_DIR = re.compile(r"/run/user/[0-9]+(?:/podman)?\Z")

# Sensitive as a whole, whatever the mode; what lies below them is judged by the lists that follow.
SYSTEM_DIRECTORIES = frozenset(
    {"/etc", "/proc", "/sys", "/dev", "/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin",
     "/boot", "/var", "/var/lib", "/home", "~"}
)  # fmt: skip
# Sensitive at any depth and any mode: credentials, kernel interfaces, boot, runtime and cluster state.
CREDENTIAL_TREES = frozenset(
    {"/root", "/boot", "/proc", "/sys/kernel", "/sys/firmware", "/etc/shadow", "/etc/shadow-",
     "/etc/gshadow", "/etc/gshadow-", "/etc/ssh", "/etc/kubernetes", "/etc/docker", "/etc/containerd",
     "/etc/rancher", "/etc/ssl/private", "/etc/pki/tls/private", "/etc/pki/CA/private",
     "/var/lib/kubelet", "/var/lib/docker", "/var/lib/containerd", "/var/lib/etcd", "/var/lib/rancher",
     "/var/lib/cni", "/var/lib/kube-proxy", "/dev/mem", "/dev/kmem", "/dev/port",
     "~/.ssh", "~/.aws", "~/.kube", "~/.docker", "~/.gnupg", "~/.azure", "~/.config/gcloud"}
)  # fmt: skip
# Writable, these let the container change what the host runs or trusts: binaries and libraries,
# kernel modules and the sources DKMS builds them from, what init, cron, PAM, the dynamic loader,
# login shells, package managers, logrotate and the container runtime read as root, the accounts and
# name resolution, the CA trust store, CNI and kubelet plugins, and the kernel's /sys and /dev. A
# writable directory elsewhere below /etc or /usr (an application's /etc/pihole, /usr/share/appdata)
# is that application's data, which no host program trusts.
HOST_CONTROL_TREES = frozenset(
    {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/usr/bin", "/usr/sbin", "/usr/lib",
     "/usr/lib32", "/usr/lib64", "/usr/libexec", "/usr/local/bin", "/usr/local/sbin", "/usr/local/lib",
     "/usr/src", "/opt/cni", "/etc/systemd", "/etc/init.d", "/etc/rc.d", "/etc/rc.local",
     "/etc/crontab", "/etc/anacrontab", "/etc/cron.d", "/etc/cron.hourly", "/etc/cron.daily",
     "/etc/cron.weekly", "/etc/cron.monthly", "/var/spool/cron", "/etc/profile", "/etc/profile.d",
     "/etc/bash.bashrc", "/etc/environment", "/etc/ld.so.preload", "/etc/ld.so.conf",
     "/etc/ld.so.conf.d", "/etc/pam.d", "/etc/security", "/etc/sudoers", "/etc/sudoers.d",
     "/etc/doas.conf", "/etc/passwd", "/etc/group", "/etc/hosts", "/etc/resolv.conf",
     "/etc/nsswitch.conf", "/etc/apt", "/etc/yum.repos.d", "/etc/dnf", "/etc/zypp", "/etc/apk",
     "/etc/modprobe.d", "/etc/modules", "/etc/modules-load.d", "/etc/udev", "/etc/sysctl.conf",
     "/etc/sysctl.d", "/etc/logrotate.conf", "/etc/logrotate.d", "/etc/update-motd.d",
     "/etc/containers", "/etc/crio", "/etc/cni", "/etc/ssl", "/etc/pki", "/etc/ca-certificates",
     "/usr/share/ca-certificates", "/usr/local/share/ca-certificates", "/sys", "/dev"}
)  # fmt: skip
# Harmless even writable: log sockets, the null and random devices, GPU render nodes, the time zone.
SAFE_PATHS = frozenset(
    {"/dev/log", "/run/systemd/journal/socket", "/run/systemd/journal/stdout",
     "/run/systemd/journal/dev-log", "/dev/null", "/dev/zero", "/dev/full", "/dev/random",
     "/dev/urandom", "/dev/dri", "/etc/localtime", "/etc/timezone"}
)  # fmt: skip
# A user's home directory as a whole, or the credential directories in it.
_HOME = re.compile(
    r"/home/[^/]+(?:/\.(?:ssh|aws|kube|docker|gnupg|azure)(?:/.*)?|/\.config/gcloud(?:/.*)?)?\Z"
)


def canonical(path: str) -> str:
    """`/var/run/…` spelled `/run/…`: on every current distribution `/var/run` is a link to `/run`."""
    if path == "/var/run" or path.startswith("/var/run/"):
        return path[4:]
    return path


def under(path: str, roots: frozenset[str]) -> str | None:
    """The one of `roots` that `path` is or lies below, or None."""
    for root in sorted(roots):
        if path == root or path.startswith(root.rstrip("/") + "/"):
            return root
    return None


def _contains(path: str, trees: frozenset[str]) -> str | None:
    """The first of `trees` that lies strictly below `path`, or None."""
    prefix = path.rstrip("/") + "/"
    return next((tree for tree in sorted(trees) if tree.startswith(prefix)), None)


def is_safe(path: str) -> bool:
    """Whether `path` (normalised) is one of the files or sockets harmless even when writable."""
    return under(canonical(path), SAFE_PATHS) is not None


def takeover(path: str) -> str | None:
    """Why mounting host `path` (normalised, absolute) hands over the host, or None."""
    path = canonical(path)
    if path == "/":
        return "the host's whole root filesystem"
    if path.rsplit("/", 1)[-1] in RUNTIME_SOCKET_NAMES:
        return "the container runtime's API socket"
    if path in RUNTIME_SOCKET_DIRS or _USER_RUNTIME_DIR.match(path):
        return "a directory that holds container-runtime API sockets"
    return None


def sensitive(path: str, *, read_only: bool) -> str | None:
    """Why mounting host `path` (normalised; `~…` for a home directory) is sensitive, or None (see the
    module docstring). Paths `takeover()` reports are not this function's concern: callers ask it
    first.
    """
    path = canonical(path)
    if is_safe(path):
        return None
    if path in SYSTEM_DIRECTORIES:
        return "a whole system directory"
    tree = under(path, CREDENTIAL_TREES)
    if tree is not None:
        return "host credentials or kernel control" if tree == path else f"inside {tree}"
    if _HOME.match(path):
        return "a user's home directory" if path.count("/") == 2 else "a user's credentials"
    inner = _contains(path, CREDENTIAL_TREES)
    if inner is not None:
        return f"it contains {inner}"
    if not read_only:
        trusted = under(path, HOST_CONTROL_TREES)
        if trusted is not None:
            return f"writable, and the host trusts {trusted}"
        trusted = _contains(path, HOST_CONTROL_TREES)
        if trusted is not None:
            return f"writable, and it contains {trusted}, which the host trusts"
    return None
