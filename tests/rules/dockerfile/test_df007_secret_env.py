import pytest

from ci_security.manifests.dockerfile import parse_dockerfile
from ci_security.rules.dockerfile.df007_secret_env import Df007SecretEnv, secret_name, secret_shape


def hits(*rows: str) -> list[tuple[int, str]]:
    df = parse_dockerfile("\n".join(rows) + "\n", "Dockerfile")
    return [(h.line, h.message) for h in Df007SecretEnv().check(df)]


@pytest.mark.parametrize(
    "name",
    [
        "DB_PASSWORD",
        "dbPassword",
        "MYSQL_ROOT_PASSWD",
        "GITHUB_TOKEN",
        "NODE_AUTH_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "API_KEY",
        "apiKey",
        "STRIPE_APIKEY",
        "SSH_PRIVATE_KEY",
        "JWT_SECRET",
        "SECRET_KEY_BASE",
        "NPM_AUTH",
        "_auth",
        "REGISTRY_CREDENTIALS",
        "GPG_PASSPHRASE",
        "GH_PAT",
    ],
)
def test_secret_names(name):
    assert secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "PATH",
        "AUTHOR",
        "AUTH_URL",
        "OAUTH_CALLBACK",
        "TOKENIZERS_PARALLELISM",
        "PASSWORD_FILE",
        "DB_PASSWORD_PATH",
        "PASSWORD_MIN_LENGTH",
        "AWS_ACCESS_KEY_ID",
        "SECRETS_DIR",
        "TOKEN_TTL",
        "DB_USER",
        "SSH_KEY",
    ],
)
def test_not_secret_names(name):
    assert not secret_name(name)


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("AKIA2E0A8F3B244C9986", "an AWS access key id"),
        ("ghp_" + "a" * 36, "a GitHub token"),
        ("github_pat_" + "A1_" * 20, "a GitHub token"),
        ("glpat-Zq3kP8vN2rT6wY1xC4bM", "a GitLab token"),
        ("xoxb-123456789012-abcdefghij", "a Slack token"),
        ("sk_live_" + "a1" * 12, "a Stripe secret key"),
        ("AIza" + "A" * 35, "a Google API key"),
        ("npm_" + "a" * 36, "an npm token"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "a private key"),
        ("https://user:p4ss@example.com/x", "a URL with a password"),
    ],
)
def test_secret_shapes(value, what):
    assert secret_shape(value) == what


@pytest.mark.parametrize(
    "value",
    ["https://user@example.com", "https://user:${PASS}@example.com", "https://example.com", "AKIA-not-a-key"],
)
def test_not_secret_shapes(value):
    assert secret_shape(value) is None


def test_literal_values_of_secret_names():
    assert hits(
        "FROM debian:12",
        "ENV DB_PASSWORD=hunter2 APP_ENV=prod",  # 2
        'ENV API_KEY "abc def"',  # 3: legacy form
        "ARG ADMIN_PASSWORD=s3cr3t-admin",  # 4
        "ARG GITHUB_TOKEN",
        "ENV SECRET_KEY=",
        "ENV PASSWORD_AUTH=false",
        "ENV JWT_SECRET=/run/secrets/jwt",
        "ARG TOKEN=$OTHER",
    ) == [
        (2, "ENV DB_PASSWORD sets a literal secret value"),
        (3, "ENV API_KEY sets a literal secret value"),
        (4, "ARG ADMIN_PASSWORD sets a literal secret value"),
    ]


def test_env_copying_a_build_argument():
    assert hits(
        "ARG NPM_TOKEN",
        "FROM node:20",
        "ENV NPM_TOKEN=$NPM_TOKEN",  # 3: global ARG not redeclared in the stage: not a build arg here
        "ARG NPM_TOKEN",
        "ENV NPM_TOKEN=${NPM_TOKEN} HOME_TOKEN=$HOME",  # 5
    ) == [(5, "ENV NPM_TOKEN copies the build argument NPM_TOKEN into the image")]


def test_value_shapes_in_any_variable_and_in_run():
    assert hits(
        "ARG DEPLOY=AKIA2E0A8F3B244C9986",
        "FROM debian:12",
        "ENV DATABASE_URL=postgres://app:s3cret@db/app",
        "RUN echo //registry.npmjs.org/:_authToken=npm_" + "a" * 36 + " > ~/.npmrc",
        "RUN --mount=type=secret,id=x echo AKIA2E0A8F3B244C9986",
    ) == [
        (1, "ARG DEPLOY holds an AWS access key id"),
        (3, "ENV DATABASE_URL holds a URL with a password"),
        (4, "RUN contains an npm token"),
    ]


def test_messages_never_contain_the_value():
    for _, message in hits("FROM debian:12", "ENV DB_PASSWORD=hunter2", "ENV K=AKIA2E0A8F3B244C9986"):
        assert "hunter2" not in message and "AKIA" not in message
