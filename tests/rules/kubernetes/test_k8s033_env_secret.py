"""K8S033: which environment variables hold a plaintext secret, by the value's shape or by the
name, and which only talk about one; the message never repeats the value."""

from __future__ import annotations

import pytest

from ci_security.manifests.kubernetes import load_kubernetes
from ci_security.rules.kubernetes.k8s033_env_secret import K8s033EnvSecret


def check(name: str, value: str) -> list[str]:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: app\n"
        f"      env:\n        - name: {name}\n          value: {value!r}\n"
    )
    (pod,) = load_kubernetes(text, "pod.yaml")
    found = list(K8s033EnvSecret().check(pod))
    assert all(hit.line == 9 and value not in hit.message for hit in found)
    return [hit.message for hit in found]


SECRETS = [
    ("DB_PASSWORD", "hunter2", "the name says it is a secret"),
    ("db_passwd", "hunter2", "the name says it is a secret"),
    ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "the name says it is a secret"),
    ("GITHUB_TOKEN", "abc123def456", "the name says it is a secret"),
    ("STRIPE_API_KEY", "rotate-me", "the name says it is a secret"),
    ("SIGNING-KEY", "k3y", "the name says it is a secret"),
    ("CONNECTION_STRING", "Server=db;Database=app;User Id=sa;Password=x;", "the name says it is a secret"),
    ("PIN_PASSWORD", "123456", "the name says it is a secret"),
    ("UPSTREAM", "AKIA2E0A8F3B244C9986", "the value looks like an AWS access key id"),
    ("CI_AUTH", "ghp_" + "a" * 36, "the value looks like a GitHub token"),
    ("REGISTRY", "glpat-Zq3kP8vN2rT6wY1xC4bM", "the value looks like a GitLab token"),
    ("HOOK", "xoxb-1234567890-abcdefghij", "the value looks like a Slack token"),
    ("BILLING", "sk_live_" + "4" * 24, "the value looks like a Stripe live key"),
    ("MAPS", "AIza" + "B" * 35, "the value looks like a Google API key"),
    ("TLS", "-----BEGIN RSA PRIVATE KEY-----\nMIIE...", "the value looks like a private key"),
    ("TLS_KEY_PEM", "-----BEGIN PRIVATE KEY-----", "the value looks like a private key"),
    (
        "SESSION",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "the value looks like a JWT",
    ),
    ("DATABASE_URL", "postgres://app:s3cret@db:5432/app", "the value looks like a URL with a password"),
    ("REDIS_URL", "redis://:s3cret@redis:6379/0", "the value looks like a URL with a password"),
]


@pytest.mark.parametrize(("name", "value", "why"), SECRETS)
def test_a_secret_is_reported_by_value_shape_or_by_name(name, value, why):
    assert check(name, value) == [f"container app sets env {name} to a literal value: {why}"]


NOT_SECRETS = [
    ("DB_HOST", "postgres.db.svc"),
    ("DB_PASSWORD_FILE", "/run/secrets/db-password"),
    ("JWT_SECRET_PATH", "secrets/jwt"),
    ("TOKEN_URL", "https://auth.example.com/token"),
    ("AWS_ACCESS_KEY_ID", "from-the-node-role"),
    ("SESSION_TOKEN_TTL", "3600"),
    ("PASSWORD_MIN_LENGTH", "12"),
    ("REQUIRE_API_KEY", "true"),
    ("TOKENIZERS_PARALLELISM", "false"),
    ("SECRET_NAME", "billing-db"),
    ("DB_PASSWORD", "$(DB_PASSWORD_FROM_SECRET)"),
    ("DB_PASSWORD", "${DB_PASSWORD}"),
    ("API_KEY", "<your-api-key>"),
    ("PWD", "/app"),
    ("MAX_TOKENS", "4096"),
    ("DATABASE_URL", "postgres://app:$(DB_PASSWORD)@db:5432/app"),
    ("UPSTREAM", "https://api.example.com:8443/v1"),
    ("GREETING", "hello"),
]


@pytest.mark.parametrize(("name", "value"), NOT_SECRETS)
def test_values_that_only_talk_about_a_secret_pass(name, value):
    assert check(name, value) == []


def test_value_from_and_empty_values_are_never_secrets():
    text = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: app
      env:
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef: {name: db, key: password}
        - name: API_TOKEN
          value: ""
        - name: SECRET_PORT
          value: 8443
"""
    (pod,) = load_kubernetes(text, "pod.yaml")
    assert list(K8s033EnvSecret().check(pod)) == []
