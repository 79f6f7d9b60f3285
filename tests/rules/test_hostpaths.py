"""One definition of a sensitive host path for Kubernetes and compose (`rules.hostpaths`): the same
path at the same mode gets the same verdict from K8S005/K8S006/K8S007 and COMPOSE006/COMPOSE007."""

from __future__ import annotations

import pytest

from ci_security.rules import hostpaths
from ci_security.rules.runner import check_text

# (host path, mounted read-only, verdict): "takeover", "sensitive" or None (ordinary)
TABLE = [
    ("/", True, "takeover"),
    ("/var/run/docker.sock", True, "takeover"),
    ("/run/containerd/containerd.sock", False, "takeover"),
    ("/var/run", True, "takeover"),
    ("/run/user/1000", False, "takeover"),
    ("/etc", True, "sensitive"),
    ("/proc", True, "sensitive"),
    ("/sys", True, "sensitive"),
    ("/dev", True, "sensitive"),
    ("/usr", True, "sensitive"),
    ("/var", True, "sensitive"),
    ("/var/lib", True, "sensitive"),
    ("/var/lib/kubelet/pods", True, "sensitive"),
    ("/etc/kubernetes/pki", True, "sensitive"),
    ("/etc/ssl", True, "sensitive"),  # holds /etc/ssl/private
    ("/etc/ssl/private", True, "sensitive"),
    ("/root/.ssh", True, "sensitive"),
    ("/home/deploy", True, "sensitive"),
    ("/proc/1/root", True, "sensitive"),
    ("/dev/mem", True, "sensitive"),
    # read-only CA bundles and kernel modules are harmless; writable they let the container plant one
    ("/etc/ssl/certs", True, None),
    ("/etc/ssl/certs", False, "sensitive"),
    ("/etc/pki/tls/certs", True, None),
    ("/etc/pki/ca-trust/extracted", True, None),
    ("/etc/pki/tls/certs", False, "sensitive"),
    ("/lib/modules", True, None),
    ("/lib/modules", False, "sensitive"),
    ("/etc/cni/net.d", False, "sensitive"),
    ("/sys/fs/cgroup", True, None),
    ("/sys/fs/cgroup", False, "sensitive"),
    ("/usr/share/zoneinfo", True, None),
    # sockets and files that are safe whatever the mode
    ("/dev/log", False, None),
    ("/run/systemd/journal/socket", False, None),
    ("/etc/localtime", False, None),
    ("/dev/dri", False, None),
    # an application's own data below /etc or /usr, which no host program trusts
    ("/etc/pihole", False, None),
    ("/usr/share/appdata/wireguard", False, None),
    ("/etc/cron.d", False, "sensitive"),
    ("/usr/local", False, "sensitive"),  # contains /usr/local/bin
    ("/usr/src", False, "sensitive"),  # DKMS builds kernel modules from it as root
    # ordinary paths
    ("/var/log", False, None),
    ("/srv/data", False, None),
    ("/opt/app", False, None),
]


def _verdict(path: str, read_only: bool) -> str | None:
    if hostpaths.takeover(path):
        return "takeover"
    return "sensitive" if hostpaths.sensitive(path, read_only=read_only) else None


@pytest.mark.parametrize(("path", "read_only", "verdict"), TABLE)
def test_the_shared_definition(path, read_only, verdict):
    assert _verdict(path, read_only) == verdict


def _kubernetes(path: str, read_only: bool) -> set[str]:
    text = f"""\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: ops
spec:
  template:
    spec:
      containers:
        - name: agent
          image: registry.example.com/agent:1.0@sha256:{"a" * 64}
          volumeMounts:
            - name: host
              mountPath: /host
              readOnly: {"true" if read_only else "false"}
      volumes:
        - name: host
          hostPath:
            path: {path}
"""
    hosts = {"K8S005", "K8S006", "K8S007"}
    return {f.rule_id for f in check_text(text, "agent.yaml") if f.rule_id in hosts}


def _compose(path: str, read_only: bool) -> set[str]:
    mode = ":ro" if read_only else ""
    text = f"services:\n  agent:\n    image: agent:1.0\n    volumes:\n      - {path}:/host{mode}\n"
    return {f.rule_id for f in check_text(text, "compose.yaml") if f.rule_id in {"COMPOSE006", "COMPOSE007"}}


@pytest.mark.parametrize(("path", "read_only", "verdict"), TABLE)
def test_kubernetes_and_compose_agree(path, read_only, verdict):
    expected_k8s = {"takeover": {"K8S005"}, "sensitive": {"K8S006"}, None: {"K8S007"}}[verdict]
    expected_compose = {"takeover": {"COMPOSE006"}, "sensitive": {"COMPOSE007"}, None: set()}[verdict]
    assert _kubernetes(path, read_only) == expected_k8s
    assert _compose(path, read_only) == expected_compose


def test_a_volume_is_read_only_only_when_every_mount_says_so():
    text = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: reader
      image: app:1.0
      volumeMounts:
        - {name: certs, mountPath: /etc/ssl/certs, readOnly: true}
    - name: writer
      image: app:1.0
      volumeMounts:
        - {name: certs, mountPath: /certs}
  volumes:
    - name: certs
      hostPath: {path: /etc/ssl/certs}
"""
    found = {f.rule_id for f in check_text(text, "pod.yaml") if f.rule_id.startswith("K8S00")}
    assert "K8S006" in found and "K8S007" not in found
    unmounted = text.replace("      volumeMounts:\n        - {name: certs, mountPath: /certs}\n", "")
    reader = "{name: certs, mountPath: /etc/ssl/certs, readOnly: true}"
    unmounted = unmounted.replace(reader, "{name: x, mountPath: /x}")
    found = {f.rule_id for f in check_text(unmounted, "pod.yaml") if f.rule_id.startswith("K8S00")}
    assert "K8S006" in found  # nothing says read-only: the next edit may mount it writable
