"""Placeholders are not secrets (`rules.placeholders`), for all three secret rules alike."""

from __future__ import annotations

import pytest

from ci_security.rules.placeholders import is_placeholder, looks_fake, url_with_password
from ci_security.rules.runner import check_text

PLACEHOLDERS = [
    ("GOOGLE_API_KEY", "GOOGLE_API_KEY_VAL"),
    ("API_KEY", "YOUR_API_KEY"),
    ("DB_PASSWORD", "changeme"),
    ("DB_PASSWORD", "change-me"),
    ("DB_PASSWORD", "CHANGE_ME"),
    ("DB_PASSWORD", "changeit"),
    ("API_TOKEN", "<your-key>"),
    ("API_TOKEN", "<token>"),
    ("API_TOKEN", "[API TOKEN]"),
    ("API_TOKEN", "${API_TOKEN}"),
    ("API_TOKEN", "$(API_TOKEN)"),
    ("API_TOKEN", "$API_TOKEN"),
    ("API_TOKEN", "{{ .Values.apiToken }}"),
    ("API_TOKEN", "%API_TOKEN%"),
    ("API_TOKEN", "__API_TOKEN__"),
    ("SECRET_KEY", "xxx"),
    ("SECRET_KEY", "XXXXXXXXXXXX"),
    ("SECRET_KEY", "********"),
    ("SECRET_KEY", "your-secret-key"),
    ("SECRET_KEY", "yoursecret"),
    ("SECRET_KEY", "insert-key-here"),
    ("SECRET_KEY", "put_your_key_here"),
    ("SECRET_KEY", "replace-with-a-real-secret"),
    ("SECRET_KEY", "to-be-set"),
    ("SECRET_KEY", "placeholder"),
    ("SECRET_KEY", "REDACTED"),
    ("SECRET_KEY", "TODO"),
    ("SECRET_KEY", "secret_key"),  # the variable's own name
]
REAL = [
    ("DB_PASSWORD", "hunter2"),
    ("DB_PASSWORD", "password"),  # weak, but what runs
    ("DB_PASSWORD", "mysecretpassword"),
    ("POSTGRES_PASSWORD", "postgres"),
    ("API_KEY", "8f3b2c1d9e7a4f60"),
    ("SECRET_KEY", "s3cr3t-admin"),
    ("SECRET_KEY", "nowhere"),
]


@pytest.mark.parametrize(("name", "value"), PLACEHOLDERS)
def test_placeholders(name, value):
    assert is_placeholder(value, name)


@pytest.mark.parametrize(("name", "value"), REAL)
def test_real_values_are_not_placeholders(name, value):
    assert not is_placeholder(value, name)


@pytest.mark.parametrize(
    ("token", "fake"),
    [
        ("AKIAIOSFODNN7EXAMPLE", True),
        ("ghp_" + "x" * 36, True),
        ("sk_live_" + "0" * 24, True),
        ("AKIA2E0A8F3B244C9986", False),
        ("glpat-Zq3kP8vN2rT6wY1xC4bM", False),
    ],
)
def test_shaped_samples(token, fake):
    assert looks_fake(token) is fake


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("postgres://app:s3cret@db:5432/app", True),
        ("redis://:s3cret@cache:6379/0", True),
        ("postgres://app:${DB_PASSWORD}@db/app", False),
        ("postgres://app:$(DB_PASSWORD)@db/app", False),
        ("postgres://app:<password>@db/app", False),
        ("postgres://app:changeme@db/app", False),
        ("mysql://root:xxx@db/app", False),
        ("postgres://app@db/app", False),
        ("x=1;postgres://app:s3cret@db/app", True),
        ("9://app:s3cret@db/app", False),  # a scheme starts with a letter
        ("://app:s3cret@db/app", False),
    ],
)
def test_urls_with_a_literal_password(text, found):
    assert url_with_password(text) is found


def test_url_search_does_linear_work_on_runs_of_scheme_characters():
    # From every letter of a long run, `[a-z][a-z0-9+.-]*://` would rescan the run. The search now
    # starts at `://` and walks back over the scheme once per `://`: counted, not timed.
    import ci_security.rules.placeholders as placeholders

    text = "a." * 100_000 + "://u:p@h " + "b-" * 100_000
    visited = 0
    original = placeholders._scheme_before

    def counting(value: str, position: int) -> bool:
        nonlocal visited
        visited += 1
        return original(value, position)

    placeholders._scheme_before = counting
    try:
        assert url_with_password(text) is True
    finally:
        placeholders._scheme_before = original
    assert visited == 1


# The shape of microservices-demo's shopping assistant, of a Helm-values-style compose file and of a
# Dockerfile that documents its build arguments: written here, not copied.
K8S = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: assistant
spec:
  selector:
    matchLabels: {app: assistant}
  template:
    metadata:
      labels: {app: assistant}
    spec:
      containers:
        - name: server
          image: registry.example.com/assistant:1.0
          env:
            - name: GOOGLE_API_KEY
              value: GOOGLE_API_KEY_VAL
            - name: DB_PASSWORD
              value: changeme
            - name: OPENAI_API_KEY
              value: <your-key>
            - name: ADMIN_TOKEN
              value: hunter2-prod
"""
COMPOSE = """\
services:
  app:
    image: app:1.0
    environment:
      API_KEY: ${API_KEY}
      SECRET_KEY: xxx
      SMTP_PASSWORD: your-smtp-password
      AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE
      DB_PASSWORD: hunter2-prod
"""
DOCKERFILE = """\
FROM python:3.12-slim
ENV API_KEY=YOUR_API_KEY
ARG DB_PASSWORD=changeme
ENV ADMIN_TOKEN=hunter2-prod
"""


@pytest.mark.parametrize(
    ("text", "path", "rule", "lines"),
    [
        (K8S, "assistant.yaml", "K8S033", [23]),
        (COMPOSE, "compose.yaml", "COMPOSE018", [9]),
        (DOCKERFILE, "Dockerfile", "DF007", [4]),
    ],
)
def test_only_the_real_secret_is_reported(text, path, rule, lines):
    assert [f.line for f in check_text(text, path) if f.rule_id == rule] == lines
