"""K8S031: the pull policy Kubernetes applies when none is written, and digests that make any policy
safe."""

from __future__ import annotations

import pytest

from ci_security.manifests.kubernetes import load_kubernetes
from ci_security.rules.kubernetes.k8s031_image_pull_policy import K8s031ImagePullPolicy


def lines(image: str, policy: str | None) -> list[int]:
    text = f"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: app\n      image: {image}\n"
    if policy is not None:
        text += f"      imagePullPolicy: {policy}\n"
    (pod,) = load_kubernetes(text, "pod.yaml")
    return [hit.line for hit in K8s031ImagePullPolicy().check(pod)]


@pytest.mark.parametrize(
    ("image", "policy", "expected"),
    [
        ("app:1.4", None, [5]),
        ("app:1.4", "IfNotPresent", [7]),
        ("app:1.4", "Never", [7]),
        ("app:1.4", "Always", []),
        ("app", None, []),
        ("app:latest", None, []),
        ("app:latest", "IfNotPresent", [7]),
        ("app:1.4@sha256:0b3a", "IfNotPresent", []),
        ("app@sha256:0b3a", None, []),
        ("'${IMAGE}'", "IfNotPresent", []),
    ],
)
def test_a_tag_must_be_pulled_always_unless_pinned_by_digest(image, policy, expected):
    assert lines(image, policy) == expected
