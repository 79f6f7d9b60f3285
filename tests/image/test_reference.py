import pytest

from ci_security.errors import InvalidReferenceError
from ci_security.image.reference import parse_docker_reference, parse_image_ref


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", "latest", None),
        ("nginx:1.25", "docker.io", "library/nginx", "1.25", None),
        ("bitnami/redis:7", "docker.io", "bitnami/redis", "7", None),
        ("docker.io/nginx", "docker.io", "library/nginx", "latest", None),
        ("index.docker.io/library/alpine:3", "docker.io", "library/alpine", "3", None),
        ("ghcr.io/org/app:v1", "ghcr.io", "org/app", "v1", None),
        ("localhost/app", "localhost", "app", "latest", None),
        ("localhost:5000/a/b/c:t", "localhost:5000", "a/b/c", "t", None),
        ("127.0.0.1:5000/app@sha256:" + "a" * 64, "127.0.0.1:5000", "app", None, "sha256:" + "a" * 64),
        (
            "reg.example.com:443/x/y:1@sha256:" + "b" * 64,
            "reg.example.com:443",
            "x/y",
            "1",
            "sha256:" + "b" * 64,
        ),
    ],
)
def test_docker_reference_normalisation(text, registry, repository, tag, digest):
    ref = parse_docker_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)


def test_docker_hub_api_host_differs_from_its_name():
    ref = parse_docker_reference("nginx")
    assert ref.api_host == "registry-1.docker.io"
    assert str(ref) == "docker.io/library/nginx:latest"
    assert parse_docker_reference("ghcr.io/a/b").api_host == "ghcr.io"


@pytest.mark.parametrize(
    "text", ["", " nginx", "Nginx", "nginx:", "nginx:bad tag", "a//b", "nginx@sha256:short", "org/App"]
)
def test_malformed_references_are_refused(text):
    with pytest.raises(InvalidReferenceError):
        parse_docker_reference(text)


def test_transports():
    assert parse_image_ref("docker-archive:/tmp/app.tar").path == "/tmp/app.tar"
    ref = parse_image_ref("docker-archive:/tmp/app.tar:demo/app:1.0")
    assert (ref.transport, ref.path, ref.name) == ("docker-archive", "/tmp/app.tar", "demo/app:1.0")
    ref = parse_image_ref("oci:/layouts/app:base")
    assert (ref.transport, ref.path, ref.name) == ("oci", "/layouts/app", "base")
    assert parse_image_ref("oci-archive:app.tar").name is None
    ref = parse_image_ref("docker://ghcr.io/a/b:1")
    assert ref.transport == "docker" and ref.docker is not None and ref.docker.repository == "a/b"
    ref = parse_image_ref("docker-daemon:app:1")
    assert ref.transport == "docker-daemon" and ref.name == "app:1"
    assert parse_image_ref("alpine:3.19").transport == "docker"
    with pytest.raises(InvalidReferenceError):
        parse_image_ref("oci:")
