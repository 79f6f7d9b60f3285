"""The world the remediation tests run in: Debian's docker-registry on 127.0.0.1 with basic auth,
holding tags of a base image built here with different package versions, the Docker client config
that logs in to it, and a vulnerability database holding the advisories written for these tests
(`tests/fixtures/fix/osv`), which make some tags vulnerable and others not.

Packages and advisories (all `Debian:12`):

| package | advisory | severity | fixed in |
| --- | --- | --- | --- |
| libssl | DEBIAN-CVE-2099-1001 | HIGH | 1.1-1 |
| zlib | DEBIAN-CVE-2099-1002 | MEDIUM | 1.0-2 |
| curl | DEBIAN-CVE-2099-1003 | CRITICAL | 7.1-1 |
| libfoo | DEBIAN-CVE-2099-1004 | LOW | 2.0-1 |

`team/base` tags (see `BASE_TAGS`): 1.0 (HIGH, MEDIUM, LOW), 1.1 (LOW: rebuilt; its first build,
`digests["1.1@old"]`, also had the MEDIUM), 1.2 (fixes what 1.1 does but adds the CRITICAL), 2.0
(none, a major), 1.1.4 and 1.1.5 (three-number precision), 1.0-slim, 1.1-slim, 1.2-slim (a flavour),
and tags that must never be proposed although they are clean: 1.3rc1 and 1.3-rc1 (pre-releases),
20240101 (a date), abcdef0 (a hash), latest. `team/multi` has 1.0 and 1.1 as two-platform indexes
(linux/amd64, linux/arm64): arm64's 1.0 has the HIGH, 1.1 none.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner

from ci_security.cli import main
from testkit.images import (
    DEBIAN_RELEASE,
    build_multiplatform_layout,
    build_oci_layout,
    directory,
    dpkg_status,
    file,
)
from testkit.registries import DockerRegistry, docker_registry

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fix"
USER, PASSWORD = "fixer", "pw-fix-123"
GL_TOKEN = "glpat-FixStandInToken0123"  # the GitLab stand-in's project access token in these tests

VULNERABLE = {"libssl": "1.0-1", "zlib": "1.0-1", "libfoo": "1.0-1"}
BASE_TAGS: dict[str, dict[str, str]] = {
    "1.0": VULNERABLE,
    "1.1@old": {"libssl": "1.1-1", "zlib": "1.0-1", "libfoo": "1.0-1"},
    "1.1": {"libssl": "1.1-1", "zlib": "1.0-2", "libfoo": "1.0-1"},
    "1.2": {"libssl": "1.1-1", "zlib": "1.0-2", "curl": "7.0-1", "libfoo": "1.0-1"},
    "2.0": {"libssl": "1.1-1", "zlib": "1.0-2", "libfoo": "2.0-1"},
    "1.1.4": VULNERABLE,
    "1.1.5": {"libssl": "1.1-1", "zlib": "1.0-2", "libfoo": "1.0-1"},
    "1.0-slim": {"libssl": "1.0-1", "libfoo": "1.0-1"},
    "1.1-slim": {"libssl": "1.1-1", "zlib": "1.0-1", "libfoo": "1.0-1"},
    "1.2-slim": {"libssl": "1.1-1", "libfoo": "1.0-1"},
    "1.3rc1": {"libssl": "1.1-1"},
    "1.3-rc1": {"libssl": "1.1-1"},
    "20240101": {"libssl": "1.1-1"},
    "abcdef0": {"libssl": "1.1-1"},
    "latest": {"libssl": "1.1-1", "zlib": "1.0-2", "libfoo": "2.0-1"},
}


def debian_layers(packages: dict[str, str], marker: str = "") -> list[list]:
    """A Debian 12 root with `packages` (name → version) in its dpkg status."""
    status = dpkg_status(*sorted(packages.items()))
    return [
        [*DEBIAN_RELEASE, directory("var/lib/dpkg"), file("var/lib/dpkg/status", status)],
        [file("etc/build-marker", marker or json.dumps(packages, sort_keys=True))],
    ]


@dataclass
class FixWorld:
    """A running registry with the base images, the credentials to reach it, and the database."""

    registry: DockerRegistry
    work: Path
    db: Path
    docker_config: Path
    digests: dict[str, str] = field(default_factory=dict)  # "repo:tag" → manifest (or index) digest

    @property
    def host(self) -> str:
        return self.registry.host

    def push(self, repo: str, tag: str, packages: dict[str, str], *, marker: str = "") -> str:
        """Build an image with `packages`, push it as `repo:tag`, and return its manifest digest."""
        layout = self.work / "layouts" / f"{repo.replace('/', '_')}-{tag}-{len(self.digests)}"
        built = build_oci_layout(layout, debian_layers(packages, marker), tag="t")
        self.registry.push(layout, "t", repo, tag)
        assert built.manifest_digest is not None
        self.digests[f"{repo}:{tag}"] = built.manifest_digest
        return built.manifest_digest

    def push_multi(self, repo: str, tag: str, per_platform: dict[str, dict[str, str]]) -> dict[str, str]:
        layout = self.work / "layouts" / f"{repo.replace('/', '_')}-{tag}-multi"
        digests = build_multiplatform_layout(
            layout,
            {plat: debian_layers(pkgs, f"{plat} {tag}") for plat, pkgs in per_platform.items()},
            tag="t",
        )
        cmd = ["skopeo", "copy", "--all", "--insecure-policy", "--dest-tls-verify=false"]
        cmd += ["--dest-creds", f"{USER}:{PASSWORD}", f"oci:{layout}:t", f"docker://{self.host}/{repo}:{tag}"]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        for plat, digest in digests.items():
            self.digests[f"{repo}:{tag}@{plat}"] = digest
        return digests

    def substitute(self, text: str) -> str:
        """`{{REGISTRY}}` and `{{DIGEST:repo:tag}}` placeholders of a golden file filled in."""
        text = text.replace("{{REGISTRY}}", self.host)
        for key, digest in self.digests.items():
            text = text.replace("{{DIGEST:" + key + "}}", digest)
        assert "{{" not in text, f"unknown placeholder in {text!r}"
        return text


def import_db(path: Path) -> Path:
    result = CliRunner().invoke(
        main, ["db", "import", "--db", str(path), str(FIXTURES / "osv")], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return path


def docker_config(path: Path, host: str) -> Path:
    """A Docker client config that logs in to `host` (what `docker login` writes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    path.write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return path


@contextmanager
def fix_world(work: Path) -> Iterator[FixWorld]:
    """The registry with every tag of `BASE_TAGS` and `team/multi`, and the database."""
    with docker_registry(work / "registry", username=USER, password=PASSWORD) as registry:
        world = FixWorld(
            registry=registry,
            work=work,
            db=import_db(work / "osv.sqlite"),
            docker_config=docker_config(work / "docker" / "config.json", registry.host),
        )
        for tag, packages in BASE_TAGS.items():
            if tag == "1.1@old":
                world.digests["team/base:1.1@old"] = world.push("team/base", "1.1", packages)
            elif tag != "1.1":
                world.push("team/base", tag, packages)
        world.push("team/base", "1.1", BASE_TAGS["1.1"])  # the rebuild moves the tag
        world.push_multi(
            "team/multi",
            "1.0",
            {"linux/amd64": {"libssl": "1.1-1"}, "linux/arm64": {"libssl": "1.0-1", "libfoo": "1.0-1"}},
        )
        world.push_multi(
            "team/multi",
            "1.1",
            {"linux/amd64": {"libssl": "1.1-1"}, "linux/arm64": {"libssl": "1.1-1", "libfoo": "1.0-1"}},
        )
        yield world
