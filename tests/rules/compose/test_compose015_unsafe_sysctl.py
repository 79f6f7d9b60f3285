"""COMPOSE015: what makes a sysctl unsafe in Docker's model (namespaced or not, host network)."""

import pytest

from ci_security.rules.compose.compose015_unsafe_sysctl import _problem


@pytest.mark.parametrize(
    ("name", "value", "host_network", "unsafe"),
    [
        ("net.core.somaxconn", 1024, False, False),
        ("net.ipv4.ip_forward", 1, False, False),
        ("net/ipv4/ip_forward", 1, True, True),
        ("net.core.somaxconn", 1024, True, True),
        ("net.ipv4.conf.all.route_localnet", 1, False, True),
        ("net.ipv4.conf.eth0.route_localnet", "1", False, True),
        ("net.ipv4.conf.all.route_localnet", 0, False, False),
        ("kernel.shmmax", 68719476736, False, False),
        ("kernel.sem", "250 32000 100 128", False, False),
        ("fs.mqueue.msg_max", 100, False, False),
        ("vm.max_map_count", 262144, False, True),
        ("kernel.core_pattern", "|/tmp/x", False, True),
        ("kernel.randomize_va_space", 0, False, True),
        ("fs.protected_symlinks", 0, False, True),
    ],
)
def test_problem(name, value, host_network, unsafe):
    assert (_problem(name, value, host_network) is not None) is unsafe
