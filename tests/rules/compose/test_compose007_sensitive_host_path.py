"""COMPOSE007: which host paths are sensitive, and that COMPOSE006's paths are left to it."""

import pytest

from ci_security.rules.compose.compose007_sensitive_host_path import sensitive
from ci_security.rules.runner import check_text


@pytest.mark.parametrize(
    "path",
    [
        "/etc", "/proc", "/sys", "/dev", "/usr", "/var", "/var/lib", "/home", "~", "/root", "/root/.ssh",
        "/boot/grub", "/etc/shadow", "/etc/kubernetes/admin.conf", "/var/lib/kubelet/pki",
        "/var/lib/docker/containers", "/proc/sys/kernel", "/sys/kernel/debug", "/dev/mem", "~/.ssh",
        "~/.kube/config", "~/.config/gcloud", "/home/deploy", "/home/deploy/.aws/credentials",
    ],
)  # fmt: skip
def test_sensitive(path):
    assert sensitive(path, read_only=False) and sensitive(path, read_only=True)


@pytest.mark.parametrize(
    "path",
    ["/etc/localtime", "/etc/timezone", "/dev/dri", "/dev/log", "/srv/data", "/var/log",
     "/home/deploy/app/data", "~/projects/shop", "/opt/app"],
)  # fmt: skip
def test_not_sensitive(path):
    assert not sensitive(path, read_only=False)


@pytest.mark.parametrize(
    "path", ["/etc/ssl/certs", "/etc/pki/tls/certs", "/sys/fs/cgroup", "/etc/passwd", "/lib/modules"]
)
def test_sensitive_only_when_writable(path):
    assert sensitive(path, read_only=True) is None
    assert sensitive(path, read_only=False) is not None


def test_socket_paths_are_left_to_compose006():
    text = (
        "services:\n"
        "  agent:\n"
        "    image: agent:1.0\n"
        "    volumes:\n"
        "      - /:/host:ro\n"
        "      - /var/run:/var/run\n"
        "      - /var/run/docker.sock:/var/run/docker.sock\n"
        "      - /etc:/host/etc:ro\n"
    )
    by_rule = {(f.rule_id, f.line) for f in check_text(text, "compose.yaml")}
    assert {("COMPOSE006", 5), ("COMPOSE006", 6), ("COMPOSE006", 7), ("COMPOSE007", 8)} <= by_rule
    assert not any(rule == "COMPOSE007" and line in (5, 6, 7) for rule, line in by_rule)
