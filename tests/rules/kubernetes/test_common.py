"""The Kubernetes rules' shared helpers: YAML 1.1 booleans as Kubernetes reads them, integer fields,
image references, capability names, and the classification of hostPath mounts (each hostPath volume
is reported by exactly one of K8S005, K8S006 and K8S007)."""

from __future__ import annotations

import pytest

from ci_security.manifests.kubernetes import load_kubernetes
from ci_security.rules.kubernetes.common import (
    ImageRef,
    as_int,
    capability,
    host_path,
    is_false,
    is_true,
    parse_image,
    sensitive_mount,
    takeover_mount,
    volumes,
)
from ci_security.rules.kubernetes.k8s005_runtime_socket import K8s005RuntimeSocket
from ci_security.rules.kubernetes.k8s006_sensitive_host_path import K8s006SensitiveHostPath
from ci_security.rules.kubernetes.k8s007_host_path import K8s007HostPath


@pytest.mark.parametrize("value", [True, "yes", "Yes", "YES", "on", "ON", "y", "true", "True"])
def test_true_as_kubernetes_reads_it(value):
    assert is_true(value)
    assert not is_false(value)


@pytest.mark.parametrize("value", [False, "no", "No", "off", "OFF", "n", "false", "FALSE"])
def test_false_as_kubernetes_reads_it(value):
    assert is_false(value)
    assert not is_true(value)


@pytest.mark.parametrize("value", [None, 1, 0, "", "enabled", "tRuE", [], {}])
def test_anything_else_is_neither(value):
    assert not is_true(value)
    assert not is_false(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (10001, 10001),
        (-1, -1),
        (0.0, 0),
        (1000.0, 1000),
        (1.5, None),
        (True, None),
        ("0", None),
        (None, None),
    ],
)
def test_as_int_reads_integer_fields(value, expected):
    assert as_int(value) == expected


IMAGES = [
    ("nginx", ImageRef("nginx", None, None)),
    ("nginx:1.27", ImageRef("nginx", "1.27", None)),
    ("nginx:latest", ImageRef("nginx", "latest", None)),
    ("registry.example.com:5000/team/app", ImageRef("registry.example.com:5000/team/app", None, None)),
    ("registry.example.com:5000/team/app:2.0", ImageRef("registry.example.com:5000/team/app", "2.0", None)),
    ("ghcr.io/org/app@sha256:abc123", ImageRef("ghcr.io/org/app", None, "sha256:abc123")),
    ("ghcr.io/org/app:1.0@sha256:abc123", ImageRef("ghcr.io/org/app", "1.0", "sha256:abc123")),
    ("  redis:7  ", ImageRef("redis", "7", None)),
]


@pytest.mark.parametrize(("image", "expected"), IMAGES)
def test_image_references_are_split_into_name_tag_and_digest(image, expected):
    assert parse_image(image) == expected


@pytest.mark.parametrize(
    "image", [None, "", "   ", 42, "${IMAGE}", "app:${TAG}", "{{ .Values.image }}", "$(IMG)"]
)
def test_missing_or_deploy_time_images_are_not_judged(image):
    assert parse_image(image) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [("SYS_ADMIN", "SYS_ADMIN"), ("sys_admin", "SYS_ADMIN"), ("CAP_NET_RAW", "NET_RAW"), (" all ", "ALL")],
)
def test_capability_names_are_read_as_the_runtimes_read_them(name, expected):
    assert capability(name) == expected


# --- hostPath classification ---

# (host path, the rule that reports it)
HOST_PATHS = [
    ("/", "K8S005"),
    ("//", "K8S005"),
    ("/var/run/docker.sock", "K8S005"),
    ("/var/run/docker.sock/", "K8S005"),
    ("/run/containerd/containerd.sock", "K8S005"),
    ("/var/run/crio/crio.sock", "K8S005"),
    ("/run/user/1000/podman/podman.sock", "K8S005"),
    ("/var/run", "K8S005"),
    ("/run", "K8S005"),
    ("/var", "K8S006"),
    ("/run/containerd", "K8S005"),
    ("/var/./run/../run/docker.sock", "K8S005"),
    ("/etc", "K8S006"),
    ("/etc/kubernetes/pki", "K8S006"),
    ("/proc", "K8S006"),
    ("/sys/fs/cgroup", "K8S006"),
    ("/dev", "K8S006"),
    ("/root/.ssh", "K8S006"),
    ("/home", "K8S006"),
    ("/var/lib", "K8S006"),
    ("/var/lib/kubelet", "K8S006"),
    ("/var/lib/kubelet/pods", "K8S006"),
    ("/var/lib/docker/containers", "K8S006"),
    ("/usr/local/bin", "K8S006"),
    ("/var/log", "K8S007"),
    ("/var/log/pods", "K8S007"),
    ("/opt/data", "K8S007"),
    ("/tmp", "K8S007"),
    ("/mnt/disks/ssd0", "K8S007"),
    ("/etcetera", "K8S007"),
    ("/var/runner", "K8S007"),
]


@pytest.mark.parametrize(("path", "rule"), HOST_PATHS)
def test_each_host_path_belongs_to_exactly_one_rule(path, rule):
    text = f"""\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: app
      image: app:1
  volumes:
    - name: host
      hostPath:
        path: "{path}"
"""
    (pod,) = load_kubernetes(text, "pod.yaml")
    rules = (K8s005RuntimeSocket(), K8s006SensitiveHostPath(), K8s007HostPath())
    fired = [(rule.meta.id, hit.line) for rule in rules for hit in rule.check(pod)]
    assert fired == [(rule, 12)]


def test_host_paths_are_normalised():
    text = "apiVersion: v1\nkind: Pod\nspec:\n  volumes:\n    - name: a\n"
    text += "      hostPath: {path: 'var//log/./x/'}\n"
    (pod,) = load_kubernetes(text, "pod.yaml")
    (volume,) = volumes(pod)
    assert host_path(volume) == "/var/log/x"


def test_takeover_and_sensitive_reasons_name_what_is_exposed():
    assert takeover_mount("/") == "the host's whole root filesystem"
    assert takeover_mount("/var/run/docker.sock") == "the container runtime's API socket"
    assert "container-runtime API sockets" in (takeover_mount("/var/run") or "")
    assert sensitive_mount("/var/lib", read_only=True) == "a whole system directory"
    assert sensitive_mount("/var/lib/kubelet/pods", read_only=True) == "inside /var/lib/kubelet"
    assert sensitive_mount("/etc/ssl", read_only=True) == "it contains /etc/ssl/private"
    assert sensitive_mount("/etc/ssl/certs", read_only=True) is None
    assert sensitive_mount("/etc/ssl/certs", read_only=False) == "writable, and the host trusts /etc/ssl"
    assert sensitive_mount("/usr/local", read_only=False) == (
        "writable, and it contains /usr/local/bin, which the host trusts"
    )
    assert sensitive_mount("/etc/pihole", read_only=False) is None  # an application's own data
    assert sensitive_mount("/srv", read_only=False) is None
