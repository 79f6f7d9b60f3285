"""K8S025/K8S026: a limit alone is complete (Kubernetes copies it into the request), ephemeral
containers are skipped, and each gap points at the nearest existing key."""

from __future__ import annotations

import pytest

from ci_security.manifests.kubernetes import load_kubernetes
from ci_security.rules.kubernetes.k8s025_cpu_resources import K8s025CpuResources
from ci_security.rules.kubernetes.k8s026_memory_resources import K8s026MemoryResources

HEAD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: app\n"  # lines 1-6


def found(resources: str, rule=K8s025CpuResources) -> list[tuple[int, str]]:
    (pod,) = load_kubernetes(HEAD + resources, "pod.yaml")
    return [(hit.line, hit.message) for hit in rule().check(pod)]


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ("      resources:\n        limits: {cpu: 500m}\n", []),
        ("      resources:\n        requests: {cpu: 100m}\n        limits: {cpu: 1}\n", []),
        ("      resources:\n        requests: {cpu: 100m}\n", [(7, "container app sets no CPU limit")]),
        (
            "      resources:\n        requests: {cpu: 100m}\n        limits: {memory: 1Gi}\n",
            [(9, "container app sets no CPU limit")],
        ),
        (
            "      resources:\n        limits: {memory: 1Gi}\n",
            [(7, "container app sets no CPU request or limit")],
        ),
        ("      image: app:1\n", [(6, "container app sets no CPU request or limit")]),
        (
            "      resources:\n        limits: {cpu: ''}\n",
            [(7, "container app sets no CPU request or limit")],
        ),
    ],
)
def test_cpu_gaps(resources, expected):
    assert found(resources) == expected


def test_memory_is_checked_the_same_way():
    resources = "      resources:\n        requests: {memory: 64Mi}\n"
    assert found(resources, K8s026MemoryResources) == [(7, "container app sets no memory limit")]


def test_ephemeral_containers_are_skipped_and_init_containers_are_not():
    text = """\
apiVersion: v1
kind: Pod
spec:
  initContainers:
    - name: init
  containers:
    - name: app
      resources: {limits: {cpu: 1, memory: 1Gi}}
  ephemeralContainers:
    - name: debug
"""
    (pod,) = load_kubernetes(text, "pod.yaml")
    for rule in (K8s025CpuResources(), K8s026MemoryResources()):
        assert [hit.resource for hit in rule.check(pod)] == ["Pod init container init"]
