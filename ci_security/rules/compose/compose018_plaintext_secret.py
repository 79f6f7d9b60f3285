"""COMPOSE018: a secret is written in plain text in a service's `environment` or `build.args`.

Two independent tests, both on the value as compose reads it (`${VAR}` references resolved to
their defaults, see `common.resolve`):
- by name: the variable's name says secret (`*_PASSWORD`, `*_TOKEN`, `SECRET_KEY`, `API_KEY`,
  `PGPASSWORD`, …, but not `*_FILE`, `*_PATH`, `*_USER`, `*_TTL`, …) and its value is a literal:
  not empty, not only a reference to the environment (`${DB_PASSWORD}`, `${DB_PASSWORD:?}`), not a
  boolean, not a path (`/run/secrets/db`). `${DB_PASSWORD:-hunter2}` is reported: the default is
  what runs when nobody sets the variable;
- by shape, whatever the name: AWS access key IDs, GitHub/GitLab/Slack/Stripe/Google tokens, PEM
  private keys, and URLs with a password (`postgres://app:s3cret@db/app`).
Placeholders are neither (`rules.placeholders`): `GOOGLE_API_KEY_VAL`, `changeme`, `<your-key>`,
`xxx`, and shaped samples such as `AKIAIOSFODNN7EXAMPLE`.
The message names the variable, never the value, because findings end up in merge-request comments.
Both the list (`- KEY=VALUE`) and the mapping (`KEY: VALUE`) form are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from ci_security.manifests.compose import ComposeFile, Service
from ci_security.manifests.yamldoc import Path
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.compose.common import UNKNOWN, resolve
from ci_security.rules.placeholders import is_placeholder, looks_fake, url_with_password

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
SECRET_WORDS = frozenset(
    {"PASSWORD", "PASSWD", "PASS", "PWD", "PASSPHRASE", "SECRET", "SECRETS", "TOKEN", "APIKEY",
     "CREDENTIAL", "CREDENTIALS", "PRIVATEKEY"}
)  # fmt: skip
SECRET_SUFFIXES = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY")  # PGPASSWORD, GHTOKEN
# `<qualifier>_KEY` is a secret (API_KEY, SECRET_KEY, SIGNING_KEY); a bare `KEY` is too vague.
KEY_QUALIFIERS = frozenset(
    {"API", "PRIVATE", "SECRET", "ACCESS", "AUTH", "SIGNING", "ENCRYPTION", "MASTER", "SESSION",
     "CLIENT", "LICENSE", "JWT", "HMAC", "APP", "ACCOUNT", "WEBHOOK"}
)  # fmt: skip
# A name ending in one of these describes a secret, it does not hold one.
DESCRIPTIVE_SUFFIXES = frozenset(
    {"FILE", "PATH", "DIR", "URL", "URI", "ID", "NAME", "USER", "USERNAME", "LENGTH", "LEN", "TTL",
     "EXPIRY", "EXPIRES", "EXPIRATION", "LIFETIME", "TIMEOUT", "ENABLED", "DISABLED", "REQUIRED", "TYPE",
     "HEADER", "ALGORITHM", "ALG", "POLICY", "MODE", "ENDPOINT", "HOST", "PORT", "REGION", "VERSION",
     "COUNT", "SIZE", "MIN", "MAX", "PREFIX", "FORMAT", "LOCATION", "METHOD", "ROTATION", "FIELD",
     "COMMAND", "CMD", "HASH", "HASHED", "HASHER", "STRENGTH", "ROUNDS"}
)  # fmt: skip
NOT_NAMES = frozenset({"PWD", "OLDPWD"})  # the shell's working directory
NOT_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "null", "none", "nil"})

SHAPES = (
    (re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"), "an AWS access key ID"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{22,}"), "a GitHub token"),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), "a GitLab token"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (re.compile(r"\b[rs]k_live_[A-Za-z0-9]{20,}"), "a Stripe live key"),
    (re.compile(r"\bAIza[A-Za-z0-9_-]{35}"), "a Google API key"),
    (re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"), "a private key"),
)


def secret_name(name: str) -> bool:
    if name.upper() in NOT_NAMES:
        return False
    words = [w.upper() for w in _WORDS.findall(name)]
    if not words or words[-1] in DESCRIPTIVE_SUFFIXES:
        return False
    for index, word in enumerate(words):
        if word in SECRET_WORDS or word.endswith(SECRET_SUFFIXES):
            return True
        if word == "KEY" and index > 0 and words[index - 1] in KEY_QUALIFIERS:
            return True
    return False


def _shape(text: str) -> str | None:
    for pattern, what in SHAPES:
        if any(not looks_fake(match.group(0)) for match in pattern.finditer(text)):
            return what
    if url_with_password(text):
        return "a URL with a password"
    return None


def problem(name: str, value: Any) -> str | None:
    """What is wrong with `name=value`, or None."""
    if value is None or isinstance(value, bool):
        return None
    text = resolve(value)
    if text is None:
        return None
    shape = _shape(text)
    if shape is not None:
        return f"holds what looks like {shape}"
    literal = text.strip()
    if not literal or UNKNOWN in literal or literal.lower() in NOT_VALUES or literal.startswith("/"):
        return None
    if is_placeholder(literal, name):
        return None
    if not secret_name(name):
        return None
    if "$" in str(value):
        return "falls back to a literal default value"
    return "has a literal value"


def _variables(service: Service, keys: Path) -> Iterator[tuple[Path, str, Any]]:
    """(path below the service, name, value) of each variable of a list or mapping; a list item
    without `=` passes the variable through from the environment and has no value here.
    """
    entries = service.get(*keys)
    if isinstance(entries, dict):
        for name, value in entries.items():
            yield (*keys, name), str(name), value
    elif isinstance(entries, list):
        for index, item in enumerate(entries):
            if isinstance(item, str) and "=" in item:
                name, _, value = item.partition("=")
                yield (*keys, index), name.strip(), value


class Compose018PlaintextSecret:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="COMPOSE018",
        kind="compose",
        title="Plaintext secret in environment or build args",
        severity=Severity.HIGH,
        rationale="A secret written in the compose file is in the repository's history for everyone "
        "with read access, in `docker inspect` output and in the environment of every process; build "
        "args also stay in the image's history.",
        remediation="Reference the value from the environment or an untracked `.env` file "
        "(`DB_PASSWORD: ${DB_PASSWORD:?set it}`), or better use compose `secrets:` with the image's "
        "`*_FILE` variable (`POSTGRES_PASSWORD_FILE: /run/secrets/db_password`); rotate the exposed secret.",
        references=(
            "https://docs.docker.com/compose/how-tos/use-secrets/",
            "https://docs.docker.com/compose/how-tos/environment-variables/variable-interpolation/",
            "https://docs.docker.com/reference/compose-file/build/#secrets",
        ),
    )

    def check(self, compose: ComposeFile) -> Iterator[Hit]:
        for service in compose.services():
            for keys, what in ((("environment",), "environment variable"), (("build", "args"), "build arg")):
                for path, name, value in _variables(service, keys):
                    found = problem(name, value)
                    if found is not None:
                        message = f"service {service.name}: {what} {name} {found}"
                        yield Hit(service.line(*path), message, service.resource)
