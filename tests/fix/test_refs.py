"""Reference discovery and in-place edits (no registry needed): every FROM, Kubernetes, compose and
GitLab CI image is a use or a skip with the reason; edits change the tag or digest text only, are
read back, and are refused when the text to change is ambiguous or the edit would change more."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_security import limits
from ci_security.fix import refs
from ci_security.fix.refs import EditError, RepoFile, edit, find_uses

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def _uses(tmp_path: Path, files: dict[str, str]) -> refs.Found:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    return find_uses(tmp_path)


def test_every_from_is_a_use_or_a_skip(tmp_path):
    found = _uses(
        tmp_path,
        {
            "Dockerfile": (
                "ARG UNSET\n"
                "FROM python:3.11-slim AS base\n"
                "FROM base AS test\n"
                "FROM scratch\n"
                "FROM ${UNSET}/x:1\n"
                "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"
                "FROM --platform=linux/arm64 Alpine:3.19\n"
                "FROM registry.example:5000/team/app@" + DIGEST_A + "\n"
            ),
        },
    )
    uses = {(u.line, u.reference, u.platform, u.final) for u in found.uses}
    assert uses == {
        (2, "python:3.11-slim", None, False),
        (6, "golang:1.22", None, False),
        (8, f"registry.example:5000/team/app@{DIGEST_A}", None, True),
    }
    skipped = {(s.line, s.reason.split(":")[0]) for s in found.skipped}
    assert skipped == {
        (3, "FROM base is the build stage base of this file"),
        (4, "scratch is the empty image"),
        (5, "${UNSET}/x"),
        (7, "invalid image reference 'Alpine"),
    }


def test_kubernetes_compose_and_gitlab_ci_images(tmp_path):
    found = _uses(
        tmp_path,
        {
            "k8s/deploy.yaml": "\n".join(
                [
                    "apiVersion: apps/v1",
                    "kind: Deployment",
                    "metadata: {name: web}",
                    "spec:",
                    "  template:",
                    "    spec:",
                    "      initContainers:",
                    "        - name: init",
                    "          image: busybox:1.36",
                    "      containers:",
                    "        - name: app",
                    '          image: "ghcr.io/acme/app:1.2.3"  # pinned',
                    "        - name: side",
                    "          image: ${SIDECAR}",
                    "",
                ]
            ),
            "compose.yaml": (
                "services:\n  db:\n    image: postgres:16.1\n  app:\n    build: .\n    image: acme/app:dev\n"
            ),
            ".gitlab-ci.yml": "\n".join(
                [
                    "image: node:20",
                    "default:",
                    "  services: ['redis:7.2']",
                    "build:",
                    "  image: {name: 'golang:1.22'}",
                    "  script: [make]",
                    "test:",
                    "  image: $CI_REGISTRY_IMAGE:ci",
                    "  services:",
                    "    - name: postgres:16",
                    "variables: {A: b}",
                    "",
                ]
            ),
        },
    )
    uses = {(u.path, u.line, u.kind, u.reference) for u in found.uses}
    assert uses == {
        ("k8s/deploy.yaml", 9, "kubernetes", "busybox:1.36"),
        ("k8s/deploy.yaml", 12, "kubernetes", "ghcr.io/acme/app:1.2.3"),
        ("compose.yaml", 3, "compose", "postgres:16.1"),
        (".gitlab-ci.yml", 1, "gitlab-ci", "node:20"),
        (".gitlab-ci.yml", 3, "gitlab-ci", "redis:7.2"),
        (".gitlab-ci.yml", 5, "gitlab-ci", "golang:1.22"),
        (".gitlab-ci.yml", 10, "gitlab-ci", "postgres:16"),
    }
    skipped = {(s.file, s.line, s.reason) for s in found.skipped}
    assert skipped == {
        ("k8s/deploy.yaml", 14, "the image holds a variable or template expression"),
        ("compose.yaml", 6, "service app is built here (build:): image names what it builds"),
        (".gitlab-ci.yml", 8, "the image holds a variable or template expression"),
    }


def test_yaml_edits_keep_quotes_and_comments(tmp_path):
    text = 'spec:\n  containers:\n    - name: app\n      image: "ghcr.io/acme/app:1.2.3"  # pinned\n'
    use = refs.ImageUse(
        path="p.yaml",
        line=4,
        kind="kubernetes",
        written="ghcr.io/acme/app:1.2.3",
        reference="ghcr.io/acme/app:1.2.3",
        where="container app",
        yaml_path=(0, ("spec", "containers", 0, "image")),
    )
    assert edit(text, [use], "ghcr.io/acme/app:1.2.4") == text.replace("1.2.3", "1.2.4")
    tricky = text.replace("  # pinned", "  # was ghcr.io/acme/app:1.2.3")
    with pytest.raises(EditError, match="cannot be edited in place"):
        edit(tricky, [use], "ghcr.io/acme/app:1.2.4")


def _dockerfile(text: str) -> list[refs.ImageUse]:
    uses, _ = refs._dockerfile_uses(RepoFile("Dockerfile", Path("Dockerfile"), text, False))
    return uses


def test_dockerfile_edits_where_the_tag_is_written():
    cases = {
        "FROM python:3.11\n": "FROM python:3.12\n",
        "ARG PY=3.11\nFROM python:${PY}\n": "ARG PY=3.12\nFROM python:${PY}\n",
        'ARG PY="3.11"\nFROM python:$PY-slim\n': 'ARG PY="3.12"\nFROM python:$PY-slim\n',
        "FROM ${IMG:-python:3.11}\n": "FROM ${IMG:-python:3.12}\n",
        "ARG V=3.11\nARG IMG=python:${V}\nFROM $IMG\n": "ARG V=3.12\nARG IMG=python:${V}\nFROM $IMG\n",
        "# escape=`\nFROM `\n  python:3.11\n": "# escape=`\nFROM `\n  python:3.12\n",
        "FROM python:3.11\r\nRUN x\r\n": "FROM python:3.12\r\nRUN x\r\n",
    }
    for before, after in cases.items():
        uses = _dockerfile(before)
        current = uses[0].reference
        proposed = current.replace("3.11", "3.12")
        assert edit(before, uses, proposed) == after, before


def test_dockerfile_digest_refresh_and_pin():
    text = f"FROM python:3.11@{DIGEST_A} AS app\n"
    assert edit(text, _dockerfile(text), f"python:3.11@{DIGEST_B}") == text.replace(DIGEST_A, DIGEST_B)
    plain = "FROM python:3.11 AS app\n"
    assert (
        edit(plain, _dockerfile(plain), f"python:3.12@{DIGEST_B}") == f"FROM python:3.12@{DIGEST_B} AS app\n"
    )


def test_dockerfile_edits_that_are_refused():
    ambiguous = "ARG V=3.11\nFROM python:${V}-3.11-slim\n"
    with pytest.raises(EditError, match="written in 2 places"):
        edit(ambiguous, _dockerfile(ambiguous), "python:3.12-3.11-slim")
    shared = "ARG V=3.11\nFROM python:${V} AS a\nFROM node:${V}\n"
    uses = [u for u in _dockerfile(shared) if u.reference.startswith("python")]
    with pytest.raises(EditError, match="would also change stage"):
        edit(shared, uses, "python:3.12")
    text = "FROM python:3.11\n"
    with pytest.raises(EditError, match="another image"):
        edit(text, _dockerfile(text), "node:3.12")


def test_two_stages_sharing_an_arg_are_one_edit():
    text = "ARG V=1.0\nFROM base:${V} AS a\nRUN x\nFROM base:${V}\n"
    uses = _dockerfile(text)
    assert len(uses) == 2 and uses[0].reference == uses[1].reference == "base:1.0"
    assert edit(text, uses, "base:1.1") == text.replace("V=1.0", "V=1.1")


def test_hostile_files_are_bounded_and_skipped(tmp_path):
    (tmp_path / "Dockerfile").write_bytes(b"FROM \xff\xfe\n")
    with limits.use(limits.with_overrides(limits.DEFAULTS, {"manifest-bytes": "64"})):
        (tmp_path / "big.Dockerfile").write_text("FROM x:1\n" + "#" * 200 + "\n")
        found = find_uses(tmp_path)
    reasons = {s.file: s.reason for s in found.skipped}
    assert reasons["Dockerfile"].startswith("not UTF-8 text")
    assert reasons["big.Dockerfile"].startswith("not read: larger than the manifest-bytes limit")
    many = "".join(f"FROM img{i}:1 AS s{i}\n" for i in range(50))
    (tmp_path / "Dockerfile").write_text(many)
    (tmp_path / "big.Dockerfile").unlink()
    (tmp_path / "other.Dockerfile").write_text("FROM x:1\n")
    with limits.use(limits.with_overrides(limits.DEFAULTS, {"fix-references": "10"})):
        found = find_uses(tmp_path)
    assert len(found.uses) == 50  # a file is read whole; the next one is not
    assert [s.reason for s in found.skipped] == ["not read: the fix-references limit (10) was reached"]
