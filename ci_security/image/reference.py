"""Image references as skopeo, Grype and Docker users write them.

Transports: `docker-archive:PATH[:REF]`, `oci-archive:PATH[:TAG]`, `oci:DIR[:TAG]`,
`docker://[HOST/]REPO[:TAG][@DIGEST]`, `docker-daemon:NAME[:TAG]`, and a bare reference, which is a
registry pull. Registry names follow Docker's rules: the first path component is a registry host only
if it contains `.` or `:` or is `localhost`; otherwise the image is on Docker Hub, and a one-component
name there lives under `library/` (`nginx` is `docker.io/library/nginx:latest`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ci_security.errors import InvalidReferenceError
from ci_security.image.digest import is_digest

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_TAG = re.compile(r"[\w][\w.-]{0,127}\Z")
_HOST = re.compile(r"(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?\Z")

TRANSPORTS = ("docker-archive", "oci-archive", "oci", "docker", "docker-daemon")


@dataclass(frozen=True, slots=True)
class DockerReference:
    """A registry image name: canonical registry host, repository path, tag and/or digest."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def api_host(self) -> str:
        """The host that serves the distribution API (Docker Hub's differs from its name)."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def reference(self) -> str:
        """What to ask the manifests endpoint for: the digest when pinned, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        out = f"{self.registry}/{self.repository}"
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A parsed `--image` value: the transport, and either a path (+ optional name inside the
    archive or layout) or a registry/daemon reference.
    """

    transport: str
    raw: str
    path: str | None = None
    name: str | None = None
    docker: DockerReference | None = None


def parse_docker_reference(text: str) -> DockerReference:
    """Parse `[HOST[:PORT]/]PATH[:TAG][@DIGEST]` with Docker Hub defaults."""
    if not text or text != text.strip():
        raise InvalidReferenceError(f"invalid image reference {text!r}: empty or surrounded by spaces")
    rest, digest = text, None
    if "@" in rest:
        rest, _, digest = rest.partition("@")
        if not is_digest(digest):
            raise InvalidReferenceError(
                f"invalid image reference {text!r}: bad digest {digest!r} "
                "(expected sha256:<64 hex digits> or sha512:<128 hex digits>)"
            )
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG.match(tag):
            raise InvalidReferenceError(f"invalid image reference {text!r}: bad tag {tag!r}")
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.lower() != first):
        registry, path = first, remainder
        if not _HOST.match(registry):
            raise InvalidReferenceError(f"invalid image reference {text!r}: bad registry host {registry!r}")
    else:
        registry, path = DOCKER_HUB, rest
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
        if "/" not in path:
            path = f"library/{path}"
    for component in path.split("/"):
        if not _COMPONENT.match(component):
            raise InvalidReferenceError(
                f"invalid image reference {text!r}: repository component {component!r} must be "
                "lowercase letters, digits and separators"
            )
    if tag is None and digest is None:
        tag = "latest"
    return DockerReference(registry=registry, repository=path, tag=tag, digest=digest)


def _split_path(value: str) -> tuple[str, str | None]:
    # skopeo's rule: the path ends at the first ':'; what follows names an image inside the archive.
    path, sep, name = value.partition(":")
    return path, (name if sep and name else None)


def parse_image_ref(text: str) -> ImageRef:
    """Parse an `--image` value into a transport and its operands."""
    for transport in TRANSPORTS:
        prefix = "docker://" if transport == "docker" else f"{transport}:"
        if not text.startswith(prefix):
            continue
        value = text[len(prefix) :]
        if not value:
            raise InvalidReferenceError(f"invalid image reference {text!r}: nothing after {prefix!r}")
        if transport == "docker":
            return ImageRef("docker", text, docker=parse_docker_reference(value))
        if transport == "docker-daemon":
            return ImageRef("docker-daemon", text, name=value, docker=parse_docker_reference(value))
        path, name = _split_path(value)
        return ImageRef(transport, text, path=path, name=name)
    return ImageRef("docker", text, docker=parse_docker_reference(text))
