"""K8S021: which combinations of runAsUser and runAsNonRoot, at pod and container level, count as
running as root, and where each finding points."""

from __future__ import annotations

import pytest

from ci_security.manifests.kubernetes import load_kubernetes
from ci_security.rules.kubernetes.k8s021_run_as_root import K8s021RunAsRoot


def hits(pod_context: str, container_context: str) -> list[tuple[int, str]]:
    text = (
        "apiVersion: v1\n"  # 1
        "kind: Pod\n"  # 2
        "metadata: {name: p}\n"  # 3
        "spec:\n"  # 4
        f"  securityContext: {pod_context}\n"  # 5
        "  containers:\n"  # 6
        "    - name: app\n"  # 7
        "      image: app:1\n"  # 8
        f"      securityContext: {container_context}\n"  # 9
    )
    (pod,) = load_kubernetes(text, "pod.yaml")
    return [(hit.line, hit.message) for hit in K8s021RunAsRoot().check(pod)]


@pytest.mark.parametrize(
    ("pod", "container"),
    [
        ("{runAsNonRoot: true}", "{}"),
        ("{}", "{runAsNonRoot: yes}"),
        ("{runAsUser: 10001}", "{}"),
        ("{runAsNonRoot: false}", "{runAsUser: 1000}"),
        ("{runAsUser: 0}", "{runAsUser: 1000}"),
        ("{runAsNonRoot: true}", "{runAsNonRoot: null}"),
    ],
)
def test_a_non_root_user_or_run_as_non_root_passes(pod, container):
    assert hits(pod, container) == []


@pytest.mark.parametrize(
    ("pod", "container", "expected"),
    [
        ("{}", "{}", (9, "container app sets neither runAsNonRoot: true nor a non-root runAsUser")),
        ("{runAsUser: 0}", "{}", (5, "container app runs as UID 0 (runAsUser: 0)")),
        ("{runAsNonRoot: true}", "{runAsUser: 0}", (9, "container app runs as UID 0 (runAsUser: 0)")),
        ("{runAsNonRoot: false}", "{}", (5, "container app sets runAsNonRoot: false")),
        ("{runAsNonRoot: true}", "{runAsNonRoot: false}", (9, "container app sets runAsNonRoot: false")),
        ("{runAsUser: 1000}", "{runAsUser: 00}", (9, "container app runs as UID 0 (runAsUser: 0)")),
    ],
)
def test_root_is_reported_where_it_is_decided(pod, container, expected):
    assert hits(pod, container) == [expected]


def test_a_container_without_security_context_is_reported_at_its_first_line():
    text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: app\n      image: app:1\n"
    (pod,) = load_kubernetes(text, "pod.yaml")
    assert [hit.line for hit in K8s021RunAsRoot().check(pod)] == [5]
