"""COMPOSE018: which names and values count as a plaintext secret. Token-shaped test values are built
at run time so the repository holds nothing a secret scanner would flag.
"""

import pytest

from ci_security.rules.compose.compose018_plaintext_secret import problem, secret_name
from ci_security.rules.runner import check_text


@pytest.mark.parametrize(
    "name",
    [
        "POSTGRES_PASSWORD", "MYSQL_ROOT_PASSWORD", "PGPASSWORD", "RABBITMQ_DEFAULT_PASS", "MYSQL_PWD",
        "GITHUB_TOKEN", "NPM_TOKEN", "SECRET_KEY_BASE", "DJANGO_SECRET_KEY", "AWS_SECRET_ACCESS_KEY",
        "JWT_SECRET", "STRIPE_API_KEY", "apiKey", "clientSecret", "SIGNING_KEY", "LICENSE_KEY",
        "SMTP_CREDENTIALS", "GPG_PASSPHRASE", "db.password",
    ],
)  # fmt: skip
def test_secret_names(name):
    assert secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "POSTGRES_PASSWORD_FILE", "POSTGRES_USER", "AWS_ACCESS_KEY_ID", "TOKEN_URL", "JWT_SECRET_TTL",
        "PWD", "OLDPWD", "BYPASS_CACHE", "SSL_PASSTHROUGH", "KEY", "CACHE_KEY", "SECRET_NAME",
        "PASSWORD_MIN_LENGTH", "TOKENIZER_MODEL", "COMPASS_URL", "ADMIN_PASSWORD_HASH",
    ],
)  # fmt: skip
def test_not_secret_names(name):
    assert not secret_name(name)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DB_PASSWORD", "hunter2", "has a literal value"),
        ("DB_PASSWORD", 123456, "has a literal value"),
        ("DB_PASSWORD", "${DB_PASSWORD:-hunter2}", "falls back to a literal default value"),
        ("DB_PASSWORD", "${DB_PASSWORD}", None),
        ("DB_PASSWORD", "${DB_PASSWORD:?required}", None),
        ("DB_PASSWORD", "$DB_PASSWORD", None),
        ("DB_PASSWORD", "", None),
        ("DB_PASSWORD", "   ", None),
        ("DB_PASSWORD", None, None),
        ("DB_PASSWORD", True, None),
        ("DB_PASSWORD", "false", None),
        ("DB_PASSWORD", "/run/secrets/db", None),
        ("LOG_LEVEL", "debug", None),
        ("DATABASE_URL", "postgres://app:s3cret@db:5432/app", "holds what looks like a URL with a password"),
        ("DATABASE_URL", "postgres://app:${DB_PASSWORD}@db:5432/app", None),
        ("DATABASE_URL", "postgres://app@db:5432/app", None),
        ("ANYTHING", "AKIA2E0A8F3B244C9986", "holds what looks like an AWS access key ID"),
    ],
)
def test_problem(name, value, expected):
    assert problem(name, value) == expected


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("ghp_" + "a1B2" * 9, "a GitHub token"),
        ("github_pat_" + "A1b2C3d4E5" * 3, "a GitHub token"),
        ("glpat-Zq3kP8vN2rT6wY1xC4bM", "a GitLab token"),
        ("xoxb-" + "1234567890-abc", "a Slack token"),
        ("sk" + "_live_" + "Z9" * 12, "a Stripe live key"),
        ("AI" + "za" + "B" * 35, "a Google API key"),
        ("-----BEGIN " + "OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n-----END", "a private key"),
        ("-----BEGIN " + "PRIVATE KEY-----", "a private key"),
    ],
)
def test_token_shapes_whatever_the_name(value, what):
    assert problem("SETTING", value) == f"holds what looks like {what}"


def test_message_never_contains_the_value_and_build_args_are_read():
    text = (
        "services:\n"
        "  api:\n"
        "    build:\n"
        "      context: .\n"
        "      args:\n"
        "        - NPM_TOKEN=npm-abc123secret\n"
        "    image: api:1.0\n"
        "    environment:\n"
        "      - API_TOKEN\n"
        "      - DB_PASSWORD=sup3r-secret\n"
    )
    findings = [f for f in check_text(text, "compose.yaml") if f.rule_id == "COMPOSE018"]
    assert [(f.line, f.message) for f in findings] == [
        (6, "service api: build arg NPM_TOKEN has a literal value"),
        (10, "service api: environment variable DB_PASSWORD has a literal value"),
    ]
    assert all("npm-abc123secret" not in f.message and "sup3r-secret" not in f.message for f in findings)
