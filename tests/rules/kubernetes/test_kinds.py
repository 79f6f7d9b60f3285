"""Built-in kinds, custom resources and unknown kinds (MAN003) are told apart."""

from __future__ import annotations

import pytest

from ci_security.rules.kubernetes.kinds import classify, suggestion


@pytest.mark.parametrize(
    ("api_version", "kind", "verdict"),
    [
        ("apps/v1", "Deployment", "builtin"),
        ("v1", "ConfigMapList", "builtin"),
        ("v1", "Config", "builtin"),  # a kubeconfig file
        ("extensions/v1beta1", "Ingress", "builtin"),  # removed, but a real kind of old manifests
        ("kustomize.config.k8s.io/v1beta1", "Kustomization", "builtin"),
        ("gateway.networking.k8s.io/v1", "HTTPRoute", "builtin"),
        ("monitoring.coreos.com/v1", "ServiceMonitor", "custom"),
        ("kind.x-k8s.io/v1alpha4", "Cluster", "custom"),
        ("skaffold/v4beta6", "Config", "custom"),  # a tool that borrowed the shape
        ("apps/v1", "Deploymnet", "unknown"),
        ("apps/v1", "deployment", "unknown"),
        ("v1", "Deployment", "unknown"),
        ("app/v1", "Deployment", "unknown"),
        ("batches/v1", "CronJob", "unknown"),
    ],
)
def test_classify(api_version, kind, verdict):
    assert classify(api_version, kind) == verdict


@pytest.mark.parametrize(
    ("api_version", "kind", "hint"),
    [
        ("apps/v1", "Deploymnet", "did you mean Deployment?"),
        ("apps/v1", "deployment", "did you mean Deployment?"),
        ("v1", "Deployment", "Deployment is in the apps API group"),
        ("v1", "Zebra", ""),
    ],
)
def test_suggestion(api_version, kind, hint):
    assert suggestion(api_version, kind) == hint
