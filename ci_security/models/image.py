"""What was scanned: the image, its platform, its layers and its operating system."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Platform:
    """An OCI platform (`linux/amd64`, `linux/arm64/v8`)."""

    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base


@dataclass(frozen=True, slots=True, kw_only=True)
class OSInfo:
    """The image's operating system: `family` as vulnerability feeds name it (debian, ubuntu, alpine,
    redhat, ...), `version` as precise as the image says (`12.15` from /etc/debian_version), the
    release codename when the image names one (`trixie`: Debian testing images carry a codename and
    no version), and the file it was read from.

    `content_sets` are the repositories a Red Hat image's packages came from, as its build recorded
    them (`/root/buildinfo/content_manifests/*.json`: `rhel-9-for-x86_64-appstream-rpms`).
    `scopes` are the advisory ecosystems of the image's product streams, worked out by the matcher
    from those content sets (Red Hat's repository-to-CPE mapping) or from the product name (SUSE);
    empty until then.
    """

    family: str
    version: str | None
    name: str | None = None
    source: str = ""
    codename: str | None = None
    content_sets: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerInfo:
    """One filesystem layer: blob digest and media type as stored, diff-id (digest of the
    uncompressed tar), stored size, and the build step that created it (from the config history).
    """

    index: int
    digest: str
    diff_id: str
    media_type: str
    size: int
    created_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageTarget:
    """The scanned image. `digest` is the manifest digest when the source has one (registry, OCI
    layout) and otherwise the image id (config digest), as for `docker save` archives.
    """

    reference: str
    transport: str
    digest: str
    image_id: str
    platform: Platform | None
    layers: tuple[LayerInfo, ...]
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    os: OSInfo | None = None
    created: str | None = None
    user: str | None = None  # the config's User ("" or None runs as root)

    @property
    def name(self) -> str:
        """What people call the image: the reference for a registry pull, else its first repository
        tag (a `docker save` archive or OCI layout is named by the tag it was built with, not by the
        file it was saved to, which changes from job to job), else the reference.
        """
        if self.transport != "docker" and self.repo_tags:
            return self.repo_tags[0]
        return self.reference
