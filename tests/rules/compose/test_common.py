"""Interpolation, booleans, volumes, ports, images and runtime sockets as the compose rules read them."""

import pytest

from ci_security.manifests.compose import ComposeFile, load_compose
from ci_security.rules.compose.common import (
    UNKNOWN,
    all_mounts,
    capability,
    host_path,
    image_reference,
    is_true,
    published_ports,
    resolve,
    runtime_socket,
)


def load(text: str) -> ComposeFile:
    compose = load_compose(text, "compose.yaml")
    assert compose is not None
    return compose


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),
        ("${TAG:-1.27}", "1.27"),
        ("${TAG-1.27}", "1.27"),
        ("${TAG}", UNKNOWN),
        ("$TAG", UNKNOWN),
        ("${TAG:?set TAG}", UNKNOWN),
        ("${TAG:+x}", UNKNOWN),
        ("a$$b", "a$b"),
        ("$${NOT_A_VAR}", "${NOT_A_VAR}"),
        ("${A:-${B:-inner}}", "inner"),
        ("${A:-${B}}", UNKNOWN),
        ("${BIND:-127.0.0.1}:8080:80", "127.0.0.1:8080:80"),
        ("${SOCK:-/var/run/docker.sock}:/var/run/docker.sock", "/var/run/docker.sock:/var/run/docker.sock"),
        (8080, "8080"),
        (True, "true"),
        (None, None),
        ({"a": 1}, None),
        ([1], None),
    ],
)
def test_resolve(value, expected):
    assert resolve(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("yes", True), ("On", True), ("y", True), ("true", True),
     ("no", False), ("false", False), ("1", False), (1, False), (None, False), ("${PRIV:-true}", True),
     ("${PRIV}", False)],
)  # fmt: skip
def test_is_true_reads_booleans_as_compose_go_does(value, expected):
    assert is_true(value) is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("/var/run/docker.sock", "/var/run/docker.sock"),
        ("/var/run/", "/var/run"),
        ("//etc//ssl/../shadow", "/etc/shadow"),
        ("/", "/"),
        ("~", "~"),
        ("~/.ssh/", "~/.ssh"),
        ("./data", None),
        ("data", None),
        ("C:\\Users", None),
    ],
)
def test_host_path(source, expected):
    assert host_path(source) == expected


def test_mounts_short_long_named_and_home():
    compose = load(
        "services:\n"  # 1
        "  app:\n"  # 2
        "    image: app:1.0\n"  # 3
        "    volumes:\n"  # 4
        "      - /etc:/host/etc:ro,z\n"  # 5
        "      - ./config:/config\n"  # 6
        "      - data:/data\n"  # 7
        "      - /cache\n"  # 8
        "      - ${HOME}/.aws:/root/.aws\n"  # 9
        "      - $HOME:/home/me\n"  # 10
        "      - ${STATE_DIR}/x:/state\n"  # 11
        "      - C:\\logs:/logs\n"  # 12
        "      - type: bind\n"  # 13
        "        source: /proc\n"  # 14
        "        target: /host/proc\n"  # 15
        "        read_only: true\n"  # 16
        "      - type: volume\n"  # 17
        "        source: data\n"  # 18
        "        target: /more\n"  # 19
        "      - type: tmpfs\n"  # 20
        "        target: /tmp\n"  # 21
        "volumes:\n"  # 22
        "  data:\n"  # 23
        "    driver: local\n"  # 24
        "    driver_opts:\n"  # 25
        "      type: none\n"  # 26
        "      o: bind,rw\n"  # 27
        "      device: /srv/data\n"  # 28
        "  nfs:\n"  # 29
        "    driver_opts: {type: nfs, o: 'addr=10.0.0.2,rw', device: ':/export'}\n"  # 30
    )
    found = [(m.source, m.target, m.read_only, m.line, m.resource) for m in all_mounts(compose)]
    assert found == [
        ("/etc", "/host/etc", True, 5, "service app"),
        ("~/.aws", "/root/.aws", False, 9, "service app"),
        ("~", "/home/me", False, 10, "service app"),
        ("", "/state", False, 11, "service app"),
        ("/proc", "/host/proc", True, 14, "service app"),
        ("/srv/data", "", False, 28, "volume data"),
    ]


def test_ports_short_and_long_syntax():
    compose = load(
        "services:\n"  # 1
        "  app:\n"  # 2
        "    image: app:1.0\n"  # 3
        "    ports:\n"  # 4
        '      - "80"\n'  # 5
        "      - 8080\n"  # 6
        '      - "8081:80/udp"\n'  # 7
        '      - "127.0.0.1:8082:80"\n'  # 8
        '      - "[::1]:8083:80"\n'  # 9
        '      - "::1:8084:80"\n'  # 10
        '      - "${BIND}:8085:80"\n'  # 11
        '      - "${BIND:-0.0.0.0}:8086:80"\n'  # 12
        "      - target: 80\n"  # 13
        "        published: ${PORT:-8087}\n"  # 14
        "      - target: 80\n"  # 15
        "        host_ip: 10.0.0.5\n"  # 16
    )
    (service,) = compose.services()
    ports = [(p.text, p.host_ip, service.line(*p.keys)) for p in published_ports(service)]
    assert ports == [
        ("80", "", 5),
        ("8080", "", 6),
        ("8081:80/udp", "", 7),
        ("127.0.0.1:8082:80", "127.0.0.1", 8),
        ("[::1]:8083:80", "::1", 9),
        ("::1:8084:80", "::1", 10),
        ("${BIND}:8085:80", UNKNOWN, 11),
        ("${BIND:-0.0.0.0}:8086:80", "0.0.0.0", 12),
        ("8087:80", "", 13),
        ("80", "10.0.0.5", 16),
    ]


@pytest.mark.parametrize(
    ("image", "parts"),
    [
        ("nginx", ("nginx", None, None)),
        ("nginx:1.27", ("nginx", "1.27", None)),
        ("localhost:5000/tools", ("localhost:5000/tools", None, None)),
        ("localhost:5000/tools:2.0", ("localhost:5000/tools", "2.0", None)),
        ("nginx@sha256:abc", ("nginx", None, "sha256:abc")),
        ("nginx:latest@sha256:abc", ("nginx", "latest", "sha256:abc")),
        ("app:${TAG:-latest}", ("app", "latest", None)),
    ],
)
def test_image_reference(image, parts):
    ref = image_reference(image)
    assert ref is not None and (ref.name, ref.tag, ref.digest) == parts


@pytest.mark.parametrize("image", ["", "${IMAGE}", "app:${TAG}", None])
def test_image_reference_unknown(image):
    assert image_reference(image) is None


@pytest.mark.parametrize(
    ("name", "expected"), [("sys_admin", "SYS_ADMIN"), ("CAP_NET_ADMIN", "NET_ADMIN"), (" all ", "ALL")]
)
def test_capability_names(name, expected):
    assert capability(name) == expected


def _socket_reasons(volume: str) -> list[str | None]:
    compose = load(f"services:\n  app:\n    image: app:1.0\n    volumes:\n      - {volume}\n")
    return [runtime_socket(m) for m in all_mounts(compose)]


@pytest.mark.parametrize(
    "volume",
    [
        "/var/run/docker.sock:/var/run/docker.sock:ro",
        "/run/docker.sock:/var/run/docker.sock",
        "/run/containerd/containerd.sock:/run/containerd/containerd.sock",
        "/run/user/1000/podman/podman.sock:/var/run/docker.sock",
        "/run/user/1000:/run/user/1000",
        "/var/run:/host/run",
        "/run/:/host/run",
        "/:/rootfs:ro",
        "${DOCKER_SOCKET}:/var/run/docker.sock",
        "${SOCK:-/var/run/docker.sock}:/tmp/docker.sock",
    ],
)
def test_runtime_socket_mounts(volume):
    (reason,) = _socket_reasons(volume)
    assert reason is not None


@pytest.mark.parametrize(
    "volume",
    ["/var/run/traefik:/run/traefik", "/var/lib/docker:/var/lib/docker", "${DATA}:/data", "/var:/host/var"],
)
def test_not_runtime_socket_mounts(volume):
    assert _socket_reasons(volume) in ([None], [])
